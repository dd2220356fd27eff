"""``mutasi-rules plugins list``: which agency plugins are installed, enabled, disabled or broken.

Also the shared plugin options every command that runs plugins accepts
(:func:`add_plugin_arguments`, :func:`settings_from_args`), so ``--plugin`` means the same
everywhere.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_format_argument, add_lang_argument
from mutasi_rules.errors import UsageError

if TYPE_CHECKING:
    from mutasi_rules.plugins import PluginSettings

# The same as plugins.manager.ENV_DISABLE (a test pins it); written here so --help loads no plugin code.
ENV_DISABLE = "MUTASI_RULES_DISABLE_PLUGINS"


def add_plugin_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the plugin options: --plugin, --disable-plugin, --only-plugin, --skip-broken-plugins, --plugin-option."""
    group = parser.add_argument_group(
        "plugins", f"Installed plugins (entry-point group mutasi_rules) load by default; {ENV_DISABLE} disables some."
    )
    group.add_argument(
        "--plugin",
        dest="plugins",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help="also load this plugin: a module name (pkg.mod) or a file (path/to/plugin.py); repeatable",
    )
    group.add_argument(
        "--disable-plugin", dest="disable_plugins", action="append", default=[], metavar="NAME", help="repeatable"
    )
    group.add_argument(
        "--only-plugin",
        dest="only_plugins",
        action="append",
        default=None,
        metavar="NAME",
        help="load only these plugins (repeatable); explicit --plugin names must be listed too",
    )
    group.add_argument(
        "--skip-broken-plugins",
        action="store_true",
        help="skip (and report) a plugin that fails instead of stopping",
    )
    group.add_argument(
        "--plugin-option",
        dest="plugin_options",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE",
        help="an option for one plugin, e.g. mutasi-rules-disdikbud-pontianak:min_teachers_per_school=4 "
        "(VALUE is read as YAML: numbers, true/false, lists)",
    )


def parse_plugin_option(text: str) -> tuple[str, str, Any]:
    """``NAME:KEY=VALUE`` -> (name, key, value); the value is parsed as a YAML scalar or list.

    Raises :class:`UsageError` (a ValueError) for a malformed option.
    """
    import yaml

    from mutasi_rules.core import limits
    from mutasi_rules.problems import shorten

    name, sep, rest = text.partition(":")
    key, eq, raw = rest.partition("=")
    if not sep or not eq or not name or not key:
        raise UsageError(f"plugin option {text!r} is not NAME:KEY=VALUE", code="usage.plugin_option")
    try:
        value = limits.safe_yaml_load(raw) if raw.strip() else ""  # alias bombs refused before expanding
    except yaml.YAMLError as exc:
        raise UsageError(f"plugin option {shorten(text)!r}: value is not valid YAML ({exc})",
                         code="usage.plugin_option") from None
    except limits.LimitExceeded as exc:
        raise UsageError(f"plugin option {shorten(text)!r}: {exc}", code="usage.plugin_option") from None
    return name, key, value


def settings_from_args(args: argparse.Namespace) -> PluginSettings:
    """The :class:`PluginSettings` of the parsed plugin options (raises UsageError on a bad option)."""
    from mutasi_rules.plugins import PluginSettings

    options: dict[str, dict[str, Any]] = {}
    for text in getattr(args, "plugin_options", []):
        name, key, value = parse_plugin_option(text)
        options.setdefault(name, {})[key] = value
    return PluginSettings(
        explicit=list(getattr(args, "plugins", [])),
        disabled=list(getattr(args, "disable_plugins", [])),
        only=getattr(args, "only_plugins", None),
        skip_broken=bool(getattr(args, "skip_broken_plugins", False)),
        options=options,
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("plugins", help="agency plugins", description="Inspect agency plugins.")
    commands = parser.add_subparsers(dest="plugins_command", metavar="SUBCOMMAND")
    listing = commands.add_parser(
        "list",
        help="list plugins with version, source, status and hooks",
        description="List every discovered plugin: name, version, source, status (enabled, disabled, broken) "
        "and the hooks it implements. Exit 3 when a plugin is broken. JSON layout: "
        "docs/schemas/plugins-list.schema.json.",
    )
    add_plugin_arguments(listing)
    add_format_argument(listing, ("table", "json"), "table")
    add_lang_argument(listing)
    listing.set_defaults(handler=run_list)
    parser.set_defaults(handler=lambda args: (parser.print_help(sys.stderr), EXIT_USAGE)[1])


def run_list(args: argparse.Namespace) -> int:
    from mutasi_rules.plugins import PluginManager

    settings = settings_from_args(args)
    # Listing shows broken plugins rather than stopping at the first; a conflict (e.g. two
    # plugins with one name) is not skippable and fails the command (PluginConflictError).
    manager = PluginManager(settings.model_copy(update={"skip_broken": True}))
    manager.load()
    plugins = manager.list_plugins()
    if args.format == "json":
        from mutasi_rules.core.canonical import canonical_json
        from mutasi_rules.documents import PluginList

        print(canonical_json(PluginList.of(plugins).model_dump(mode="json"), indent=2))
    else:
        _print_table(plugins, args.lang)
    return EXIT_FAILURE if any(p.status == "broken" for p in plugins) else EXIT_OK


def _print_table(plugins: list[Any], lang: str) -> None:
    from rich.console import Console

    from mutasi_rules.core.escaping import DataTable as Table
    from mutasi_rules.core.i18n import translate_message, translator

    _ = translator(lang)
    console = Console(width=160, highlight=False, soft_wrap=True)
    if not plugins:
        console.print(_("No plugins found (entry-point group mutasi_rules; add one with --plugin)."))
        return
    table = Table(show_lines=False)
    for column in (_("plugin"), _("version"), _("source"), _("status"), _("hooks")):
        table.add_column(column, overflow="fold")
    for info in plugins:
        status = _(info.status) if not info.reason else f"{_(info.status)}: {translate_message(info.reason, lang)}"
        hooks = ", ".join(h.removeprefix("mutasi_rules_") for h in info.hooks) or "-"
        table.add_row(info.name, info.version, info.source, status, hooks)
    console.print(table)


__all__ = ["add_plugin_arguments", "parse_plugin_option", "register", "run_list", "settings_from_args"]
