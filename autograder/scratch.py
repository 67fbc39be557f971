"""Private working folders that a killed run does not leave behind.

``verify`` grades the reference, the stub and every mutant from a folder in the system's
temporary directory. A run that ends normally, or by Ctrl-C or SIGTERM, removes its folder;
one killed outright (SIGKILL, the OOM killer) cannot. So a run holds a lock on its folder for
as long as it lives (``flock`` on the folder itself, released by the kernel when the process
dies), and each new run first removes the folders of its kind whose lock nobody holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def scratch_folder(kind: str, name: str) -> Iterator[Path]:
    """A new private (0700) folder ``<tmp>/autograder-<kind>-<name>-XXXX``, removed on the way
    out, after those of earlier runs of this kind that were killed."""
    sweep(f"autograder-{kind}-")
    while True:
        path = Path(tempfile.mkdtemp(prefix=f"autograder-{kind}-{name}-"))
        # Another run's sweep may take it in the moment before the lock: then it is gone
        # (the sweep holds the lock while removing it), and we make another.
        try:
            fd = _open_folder(path)
        except FileNotFoundError:
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                break
        os.close(fd)
    try:
        yield path
    finally:
        _remove(path)
        os.close(fd)


def _remove(path: Path, tries: int = 20, pause: float = 0.1) -> None:
    """``rm -r path``, again while something still writes into it: the grading processes of a
    killed run notice within a moment that their run is gone, and a file one of them makes
    while the tree is being removed would keep the folder (and a copy of the solution)."""
    for _ in range(tries):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return
        time.sleep(pause)


def sweep(prefix: str) -> list[Path]:
    """Remove the folders ``<tmp>/<prefix>*`` of this user that no living run holds."""
    removed = []
    for candidate in Path(tempfile.gettempdir()).glob(f"{glob.escape(prefix)}*"):
        try:
            fd = _open_folder(candidate)
        except OSError:  # not a folder, a link, gone already, not ours to open
            continue
        try:
            if os.fstat(fd).st_uid != os.geteuid():
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its run is alive
            _remove(candidate)
            removed.append(candidate)
        finally:
            os.close(fd)
    return removed


def _open_folder(path: Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
