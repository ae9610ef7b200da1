"""One command at a time per output folder.

Two commands writing one cohort (or analysis) folder at once would both run the whole
cohort, doubling the work, and race on its tables. `FolderLock` takes an exclusive lock on
`LOCK` in the folder for the command's life; a second command is refused in one line that
says who holds it. The kernel drops the lock when its holder ends, however it ends, so a
killed command leaves no stale lock. Where the platform has no `fcntl` (Windows), folders
are not locked.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from .folders import LOCK, FolderError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class FolderBusy(FolderError):
    """Another command holds the folder's lock; the message says which."""


class FolderLock:
    """`with FolderLock(out):` hold `out`'s lock (making `out` if missing; a folder this
    made is removed again on the way out if nothing else was written into it)."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self._fd: int | None = None
        self._made = False

    def __enter__(self) -> FolderLock:
        if fcntl is None:
            return self
        self._made = not self.out.exists()
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise FolderBusy(f"{self.out}: another bispecific command (process {holder}) is "
                             "writing into it; wait for it to end, or choose another folder "
                             "with --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            (self.out / LOCK).unlink()
        os.close(self._fd)  # releases the lock
        self._fd = None
        if self._made:
            with contextlib.suppress(OSError):  # only when empty: nothing else was written
                self.out.rmdir()
