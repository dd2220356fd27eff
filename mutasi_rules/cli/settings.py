"""``--settings FILE``: the region's settings (name, head, place, office, objection period), shared by commands."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mutasi_rules.core.settings import RegionSettings


def add_settings_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--settings", metavar="FILE",
                        help="region settings (YAML or JSON; schema: mutasi-rules schema settings): region name, "
                             "title of its head, place of signature, BKPSDM office, objection period, notice "
                             "template. Default: neutral words")


def region_from_args(args: argparse.Namespace) -> RegionSettings:
    """The settings named by ``--settings`` (neutral defaults without it); raises InputError when unreadable."""
    from mutasi_rules.core.settings import RegionSettings, load_settings

    path = getattr(args, "settings", None)
    return RegionSettings() if path is None else load_settings(path)
