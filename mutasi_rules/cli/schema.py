"""``mutasi-rules schema TARGET``: print or write the JSON Schema of a published document."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mutasi_rules.cli import EXIT_OK, add_format_argument, add_lang_argument
from mutasi_rules.schemas import SCHEMAS


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of a published document (dataset, rules, result, ...)",
        description="Print (or write with --out) the JSON Schema of a document the library reads or writes: "
        + "; ".join(f"{name}: {what}" for name, (what, _) in SCHEMAS.items()),
    )
    parser.add_argument("target", choices=sorted(SCHEMAS), metavar="TARGET", help=", ".join(sorted(SCHEMAS)))
    parser.add_argument("--out", metavar="FILE", help="write the schema to FILE (atomically) instead of stdout")
    add_format_argument(parser, ("json",), "json", help="the schema is always JSON (accepted for uniformity)")
    add_lang_argument(parser, help="language of the message on standard error (default: id; the schema is the same)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mutasi_rules.core.atomic import write_text
    from mutasi_rules.core.canonical import canonical_json
    from mutasi_rules.schemas import schema_for

    text = canonical_json(schema_for(args.target), indent=2) + "\n"
    if args.out:
        from mutasi_rules.core.i18n import translator

        write_text(args.out, text)
        print(translator(args.lang)("JSON Schema of {target} written to {path}").format(target=args.target,
                                                                                      path=args.out), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK
