"""mutasi-rules: explained, rule-based transfer recommendations for ASN workload balance.

The public API is re-exported here; see README.md for embedding examples.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mutasi-rules")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
