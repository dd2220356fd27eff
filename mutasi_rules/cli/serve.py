"""``mutasi-rules serve``: the HTTP API for HR systems, and ``mutasi-rules keys add|list|revoke``.

The configuration file (``--config``, default ``$MUTASI_RULES_SERVICE_CONFIG`` or
``mutasi-rules-service.yaml`` in the current folder) holds the API keys as scrypt hashes and
the service settings (data folder, decision log, rule files, plugins, limits); see docs/http.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_OK, EXIT_USAGE, add_format_argument, add_lang_argument
from mutasi_rules.errors import MutasiRulesError, UsageError

if TYPE_CHECKING:
    from mutasi_rules.hosting.access import ServiceConfig

ROLES = ("analyst", "auditor", "agency", "admin")  # mutasi_rules.hosting.access.Role, without importing pydantic here

# mutasi_rules.hosting.access.ENV_CONFIG (not imported: start-up stays cheap)
ENV_CONFIG = "MUTASI_RULES_SERVICE_CONFIG"
DEFAULT_CONFIG = "mutasi-rules-service.yaml"
CONFIG_HELP = f"service configuration file (default: ${ENV_CONFIG} if set, else ./{DEFAULT_CONFIG})"


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve", help="run the HTTP API (OpenAPI at /openapi.json)",
        description="Serve the HTTP API for HR systems: datasets, workload, recommend, why-not, runs, rules, audit. "
                    "Needs the 'service' extra (pip install 'mutasi-rules[service]'). Listens on 127.0.0.1 unless "
                    "told otherwise; put a TLS-terminating proxy in front for other hosts.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="worker processes (default: 1); each prepares its own run contexts, so concurrent "
                            "why-not queries run in parallel at the cost of memory")
    add_format_argument(serve, ("text", "json"), "text",
                        help="with json, a failure to start is a JSON problem document on standard output")
    add_lang_argument(serve, help="language of the start-up warnings (default: id)")
    serve.set_defaults(handler=run_serve)

    keys = subparsers.add_parser(
        "keys", help="add, list and revoke API keys of the HTTP service",
        description="API keys are stored in the configuration file as salted scrypt hashes; a new key is shown "
                    "once. Roles: analyst (upload, run, query), auditor (read runs, verify, replay), agency "
                    "(--unit: sees one unit's subtree), admin (everything).",
    )
    commands = keys.add_subparsers(dest="keys_command", metavar="SUBCOMMAND")
    keys.set_defaults(handler=lambda args: _usage(keys))

    add = commands.add_parser("add", help="make a key and print it (once)")
    add.add_argument("--name", required=True, help="who holds the key, e.g. 'SIMPEG BKPSDM'")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--unit", metavar="UNIT_ID", help="agency keys: the unit whose subtree the key sees")
    add.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    add_format_argument(add, ("text", "json"), "text")
    add_lang_argument(add)
    add.set_defaults(handler=run_add)

    listing = commands.add_parser("list", help="list the keys (never the keys themselves)")
    listing.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    add_format_argument(listing, ("text", "json"), "text")
    add_lang_argument(listing)
    listing.set_defaults(handler=run_list)

    revoke = commands.add_parser("revoke", help="revoke a key (a running server refuses it at once)")
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key id shown by 'keys list'")
    revoke.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    add_format_argument(revoke, ("text", "json"), "text")
    add_lang_argument(revoke)
    revoke.set_defaults(handler=run_revoke)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _read(path: Path, *, missing_ok: bool) -> ServiceConfig:
    from mutasi_rules.hosting.access import read_config

    return read_config(path, missing_ok=missing_ok)  # InputError naming the file, field and value


def _emit(document: object) -> None:
    from mutasi_rules.core.canonical import canonical_json

    sys.stdout.write(canonical_json(document, indent=2) + "\n")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)  # the CLI, not the library, reads the clock: key creation time


def run_add(args: argparse.Namespace) -> int:
    from mutasi_rules.hosting.access import Role, add_key, write_config

    path = config_path(args)
    try:
        config, key = add_key(_read(path, missing_ok=True), args.name, Role(args.role), unit_id=args.unit,
                              created=_now())
    except ValueError as error:
        raise UsageError(str(error), code="usage.arguments") from error
    write_config(path, config)
    entry = config.keys[-1]
    if args.format == "json":
        _emit({"id": entry.id, "key": key, "name": entry.name, "role": entry.role.value, "unit_id": entry.unit_id,
               "config": str(path)})
    else:
        from mutasi_rules.core.i18n import translator

        _ = translator(args.lang)
        print(key)
        unit = _(", unit {unit}").format(unit=entry.unit_id) if entry.unit_id else ""
        print(_("key {key_id} ({role}{unit}) added to {path}; the key is shown only now: store it in the client's "
                "secrets").format(key_id=entry.id, role=entry.role.value, unit=unit, path=path), file=sys.stderr)
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    path = config_path(args)
    rows = [{"id": k.id, "name": k.name, "role": k.role.value, "unit_id": k.unit_id, "created": k.created,
             "revoked": k.revoked} for k in _read(path, missing_ok=True).keys]
    if args.format == "json":
        _emit(rows)
        return EXIT_OK
    from mutasi_rules.core.i18n import translator

    _ = translator(args.lang)
    if not rows:
        print(_("no keys in {path}").format(path=path))
    for row in rows:
        state = _("revoked {date}").format(date=row["revoked"]) if row["revoked"] else _("active")
        unit = " " + _("unit {unit}").format(unit=row["unit_id"]) if row["unit_id"] else ""
        created = _("created {date}").format(date=row["created"] or "-")
        print(f"{row['id']}  {row['role']:<8}{unit}  {row['name']}  {created}  {state}")
    return EXIT_OK


def run_revoke(args: argparse.Namespace) -> int:
    from mutasi_rules.hosting.access import revoke_key, write_config
    from mutasi_rules.problems import InputError

    path = config_path(args)
    try:
        config = revoke_key(_read(path, missing_ok=False), args.key_id, when=_now())
    except KeyError:
        raise InputError(f"no key {args.key_id!r} in {path} (see: mutasi-rules keys list)",
                         code="keys.unknown") from None
    write_config(path, config)
    if args.format == "json":
        _emit({"id": args.key_id, "revoked": True})
    else:
        from mutasi_rules.core.i18n import translator

        print(translator(args.lang)("key {key_id} revoked in {path}").format(key_id=args.key_id, path=path))
    return EXIT_OK


class MissingExtra(MutasiRulesError):
    """The HTTP service's packages (the ``service`` extra) are not installed."""

    code = "service.not_installed"


def run_serve(args: argparse.Namespace) -> int:
    path = config_path(args)
    if not path.exists():
        raise UsageError(f"no service configuration at {path}; make one with a first key: "
                         f"mutasi-rules keys add --name NAME --role admin --config {path}", code="usage.config")
    config = _read(path, missing_ok=False)
    from mutasi_rules.core.i18n import translator

    _ = translator(args.lang)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        print(_("warning: {path} is readable by others; it should be 0600 (chmod 600 {path})").format(path=path),
              file=sys.stderr)
    if not any(key.active for key in config.keys):
        print(_("warning: {path} has no active API key: every request will get 401").format(path=path),
              file=sys.stderr)
    try:
        import uvicorn

        from mutasi_rules.hosting.hosted import HostedService
        from mutasi_rules.http import create_app
    except ModuleNotFoundError as error:
        raise MissingExtra(f"the HTTP service needs the 'service' extra: pip install 'mutasi-rules[service]' "
                           f"({error.name} is missing)") from error
    if args.workers < 1:
        raise UsageError("--workers must be 1 or more", code="usage.arguments")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    common: dict[str, Any] = {"host": args.host, "port": args.port, "access_log": False, "log_level": "info",
                              "server_header": False}
    if args.workers > 1:  # each worker builds its app from the configuration file
        os.environ[ENV_CONFIG] = str(path.resolve())
        # uvicorn kills a worker that does not answer its health ping within this time; a worker busy with a
        # recommend (seconds of work that may hold the interpreter lock) must not be killed mid-run.
        patience = int(config.limits.request_timeout_seconds) + 60
        uvicorn.run("mutasi_rules.http.app:app_from_environment", factory=True, workers=args.workers,
                    timeout_worker_healthcheck=patience, **common)
    else:
        uvicorn.run(create_app(HostedService(config, config_path=path)), **common)
    return EXIT_OK


__all__ = ["config_path", "register"]
