"""The published OpenAPI document (``docs/openapi.json``), generated from the app itself.

``make schemas`` writes it with :func:`write_openapi`; a test checks the published file is current.
"""

from __future__ import annotations

import tempfile
from typing import Any

from mutasi_rules.core.atomic import write_text
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.hosting.access import ServiceConfig
from mutasi_rules.hosting.hosted import HostedService
from mutasi_rules.http.app import create_app


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


def write_openapi(path: str) -> None:
    """Write the document, canonical JSON, atomically."""
    write_text(path, openapi_text())
