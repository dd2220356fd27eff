"""``--settings FILE``: the region's settings (name, head, place, office, objection period), shared by commands."""

from __future__ import annotations

import argparse
import sys

from ..problems import InputError
from ..settings import RegionSettings, load_settings


def add_settings_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--settings", metavar="FILE",
                        help="region settings (YAML or JSON; schema: mutasi-rules schema settings): region name, "
                             "title of its head, place of signature, BKPSDM office, objection period, notice "
                             "template. Default: neutral words")


def region_from_args(args: argparse.Namespace) -> RegionSettings | None:
    """The settings named by ``--settings`` (neutral defaults without it); None, reported, when unreadable."""
    path = getattr(args, "settings", None)
    if path is None:
        return RegionSettings()
    try:
        return load_settings(path)
    except InputError as error:
        print(str(error), file=sys.stderr)
        return None
