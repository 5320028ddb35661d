"""The application: the ``pvae`` command, its handlers, the demo and config-driven runs.

One floor of siblings above the library: :mod:`.cli` parses the command line and hands each
subcommand to :mod:`.commands`; :mod:`.runs` trains a config with checkpoints (either
engine); :mod:`.report` fits every model on the embedded digits (``pvae demo``), a file per
section of its report. Nothing in ``pvae`` below imports from here.
"""
