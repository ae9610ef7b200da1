"""The failures a command reports: each message is the one line the user sees, and `main`
picks the exit status by its class."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user; nothing was written (exit 2)."""


class RunFailed(Exception):
    """The run failed; the message says what was kept (exit 1)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so that a kill is handled like Ctrl-C."""


class Interrupted(Exception):
    """Ctrl-C or a kill stopped a command; the message says what was kept."""

    def __init__(self, message: str, cause: BaseException) -> None:
        super().__init__(message)
        self.terminated = isinstance(cause, Terminated) or isinstance(
            cause.__cause__, Terminated)
