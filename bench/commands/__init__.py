"""One module per ``bench`` sub-command.

Each module defines ``register(subparsers)`` that adds its parser and sets
``handler=<function(args) -> int>``. Modules import only the standard library and light
``bench`` modules at top level: heavy libraries (scikit-learn, datasets) are imported
inside handlers so that ``bench --help`` and ``bench validate`` start fast.
"""
