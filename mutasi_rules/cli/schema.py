"""``mutasi-rules schema dataset|rules``: print or write the JSON Schema of the input formats."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..atomic import write_text
from ..canonical import canonical_json
from . import EXIT_OK


def schema_for(target: str) -> dict[str, Any]:
    """The JSON Schema of a dataset document or of a rule file."""
    if target == "dataset":
        from ..models import Dataset

        return Dataset.model_json_schema()
    from .. import rulesets

    richer = getattr(rulesets, "rule_file_json_schema", None)  # may be added by the rule-set module
    return richer() if callable(richer) else rulesets.RuleFile.model_json_schema()


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of datasets or rule files",
        description="Print (or write with --out) the JSON Schema of a dataset document or of a rule file.",
    )
    parser.add_argument("target", choices=("dataset", "rules"), metavar="TARGET", help="dataset or rules")
    parser.add_argument("--out", metavar="FILE", help="write the schema to FILE (atomically) instead of stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    text = canonical_json(schema_for(args.target), indent=2) + "\n"
    if args.out:
        write_text(args.out, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK
