"""The published OpenAPI document (``docs/openapi.json``), generated from the app itself.

``python -m mutasi_rules.http.openapi docs/openapi.json`` (``make schemas`` runs it); a test
checks the published file is current.
"""

from __future__ import annotations

import sys
import tempfile
from typing import Any

from ..access import ServiceConfig
from ..atomic import write_text
from ..canonical import canonical_json
from ..hosted import HostedService
from .app import create_app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the server publishes at ``/openapi.json`` (it does not depend on the configuration)."""
    with tempfile.TemporaryDirectory() as folder:
        hosted = HostedService(ServiceConfig(data_dir=folder, use_plugins=False))
        try:
            return create_app(hosted).openapi()
        finally:
            hosted.close()


def openapi_text() -> str:
    return canonical_json(openapi_document(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mutasi_rules.http.openapi OUT.json", file=sys.stderr)
        return 2
    write_text(args[0], openapi_text())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
