"""The `bispecific` command: a thin layer over library calls a script could make itself.

May import: everything.
"""

from .main import main

__all__ = ["main"]
