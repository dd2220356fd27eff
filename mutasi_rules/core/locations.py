"""Where things are: the data bundled in the package and the per-user decision log.

The national rule sets and the Kota Pontianak example ship inside the package
(``mutasi_rules/bundled/``) and are found with :mod:`importlib.resources`, so they are there
however the package was installed. In the source tree ``mutasi_rules/bundled/rules`` and
``mutasi_rules/bundled/examples/pontianak`` are links to the top-level ``rules/`` and
``examples/pontianak/``: one copy of every file.

The decision log holds personal data (names, NIPs, birth dates), so its default place is
the user's own data folder, created readable by its owner only, never the dataset's
folder (often shared). This module imports nothing heavy: the command line uses it to
build its help.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

ENV_AUDIT_DB = "MUTASI_RULES_AUDIT_DB"
DEFAULT_AUDIT_FILENAME = "mutasi-rules-audit.sqlite"
APP_DIR_NAME = "mutasi-rules"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

logger = logging.getLogger(__name__)
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def bundled_path(*parts: str) -> Path:
    """A file or folder under ``mutasi_rules/bundled`` as a real path on disk.

    Installed normally (wheel, sdist, editable) the resource already is a path; from a zip
    it is extracted once for the life of the process.
    """
    resource = resources.files("mutasi_rules").joinpath("bundled", *parts)
    if isinstance(resource, Path):
        return resource
    return Path(_extracted.enter_context(resources.as_file(resource)))


def bundled_rules_dir() -> Path:
    """The national rule sets shipped with the package (the repository's ``rules/``)."""
    return bundled_path("rules")


def bundled_example_dir() -> Path:
    """The synthetic Kota Pontianak example dataset (the repository's ``examples/pontianak/``)."""
    return bundled_path("examples", "pontianak")


def user_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/mutasi-rules``, else ``~/.local/share/mutasi-rules`` (not created here)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME")
    if base and os.path.isabs(base):  # the XDG spec: a relative value is ignored
        return Path(base) / APP_DIR_NAME
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".local" / "share" / APP_DIR_NAME


def default_audit_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the decision log is when no path is given (see docs/audit.md).

    ``$MUTASI_RULES_AUDIT_DB`` if set; else ``mutasi-rules-audit.sqlite`` in
    :func:`user_data_dir`.
    """
    env = os.environ if environ is None else environ
    if env.get(ENV_AUDIT_DB):
        return Path(env[ENV_AUDIT_DB])
    return user_data_dir(env) / DEFAULT_AUDIT_FILENAME


def create_private_file(path: str | os.PathLike[str]) -> bool:
    """Make ``path`` an empty file only its owner can read (0600) if it does not exist yet.

    Missing folders are created 0700. An existing file is left as it is: its owner chose
    its permissions. SQLite gives its journal the permissions of the database file.
    Returns whether the file was created.
    """
    target = Path(path)
    missing = []
    parent = target.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_DIR_MODE)
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    os.close(descriptor)
    logger.info("created %s, readable by its owner only", target)
    return True


__all__ = [
    "DEFAULT_AUDIT_FILENAME",
    "ENV_AUDIT_DB",
    "bundled_example_dir",
    "bundled_path",
    "bundled_rules_dir",
    "create_private_file",
    "default_audit_path",
    "user_data_dir",
]
