"""The HTTP API (``mutasi-rules serve``): a thin FastAPI layer over :mod:`mutasi_rules.hosted`.

Needs the ``service`` extra: ``pip install 'mutasi-rules[service]'``.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
