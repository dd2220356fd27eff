"""Atomic file output: readers see the old file or the new one, never half of one.

Every file is written readable by its owner only (0600): plans, letters, reports and
workbooks name people (names, NIPs), and personal data is never world-readable on disk. A
folder the writer creates is owner-only too (0700). Share a file on purpose (chmod, or a
group the office controls), never by accident.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from mutasi_rules.errors import UsageError


class OutputError(UsageError):
    """An output file cannot be written where it was asked for (the message names the path and why).

    Raised before anything is written: the target is a folder, a device or other special
    file (never replaced by a regular file), or its folder cannot be created or written.
    A usage error (exit 2): the path given is the thing to change.
    """

    code = "usage.output_path"


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`Path` when a regular file may be (re)placed there; else :class:`OutputError`."""
    target = Path(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(f"{target}: cannot be written: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(mode):
        raise OutputError(f"{target}: is a folder; give a file name")
    if not stat.S_ISREG(mode):
        raise OutputError(f"{target}: is a device or other special file, not a regular file; it is not replaced")
    return target


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Write to a temporary file beside ``path``; rename over it only when the block succeeds.

    The file is owner-only (0600, new folders 0700). Raises :class:`OutputError` when ``path``
    is a folder or a special file, or when its folder cannot be created or written.
    """
    target = check_output_path(path)
    try:
        if not target.parent.exists():
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write into folder {target.parent}: {exc.strerror or exc}") from exc
    try:
        binary = "b" in mode
        with os.fdopen(fd, mode, encoding=None if binary else encoding, newline=None if binary else "") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.replace(tmp, target)  # mkstemp made it owner-only (0600); it stays so
        except OSError as exc:  # e.g. the target became a folder meanwhile
            raise OutputError(f"{target}: cannot be replaced: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_open(path, "w") as handle:
        handle.write(text)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)
