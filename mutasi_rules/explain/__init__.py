"""Stage 5, explanation: explanations, letters, the report, workbooks and charts, for people.

``mutasi_rules.explain`` was one module before the package was laid out by stage; its public
names are still importable from here.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    # Lazy, so that importing a sibling (say explain.notices) does not load the renderers; through
    # importlib, because a from-import would ask this very __getattr__ for the submodule.
    explanations = importlib.import_module("mutasi_rules.explain.explanations")

    try:
        return getattr(explanations, name)
    except AttributeError:
        raise AttributeError(f"module 'mutasi_rules.explain' has no attribute {name!r}") from None
