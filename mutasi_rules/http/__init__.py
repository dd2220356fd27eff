"""The HTTP API (``mutasi-rules serve``): a thin FastAPI layer over :mod:`mutasi_rules.hosting.hosted`.

Needs the ``service`` extra: ``pip install 'mutasi-rules[service]'``.
"""

from __future__ import annotations

from mutasi_rules.http.app import create_app

__all__ = ["create_app"]
