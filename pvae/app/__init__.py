"""The application: the ``pvae`` command, its handlers, the demo and config-driven runs.

One floor of siblings above the library: :mod:`.cli` parses the command line and hands each
subcommand to :mod:`.commands`; :mod:`.runs` trains a config with checkpoints (either
engine); :mod:`.demo` fits every model on the embedded digits. Nothing in ``pvae`` below
imports from here.
"""
