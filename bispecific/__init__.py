"""bispecific: agent-based simulation of bispecific T-cell-engager (blinatumomab) therapy.

The public entry points are :class:`bispecific.model.BispecificModel` (a Mesa model) and
:func:`bispecific.scenario.load_scenario` / :func:`bispecific.run.run_scenario`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bispecific")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
