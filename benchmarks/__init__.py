"""pvae's benchmarks: each a module with ``run(tiny) -> Table``; see ``benchmarks/run.py``."""
