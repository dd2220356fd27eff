"""Stage 6, the record: the append-only, hash-chained decision log.

``mutasi_rules.audit`` was one module before the package was laid out by stage; its public
names are still importable from here.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    log = importlib.import_module("mutasi_rules.audit.log")

    try:
        return getattr(log, name)
    except AttributeError:
        raise AttributeError(f"module 'mutasi_rules.audit' has no attribute {name!r}") from None
