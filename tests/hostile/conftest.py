"""Shared, session-wide fixtures of the hostile-input corpus: one small recorded run to attack."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import sqlite3
from pathlib import Path

import pytest

from mutasi_rules.audit.log import AuditLog
from mutasi_rules.data.generator import generate_dataset
from mutasi_rules.planning.recommendation import RecommendOptions, load_run_rulesets, recommend


def _fixed_clock():
    """recorded_at one second apart, from a fixed start: the records are the same on every run."""
    ticks = itertools.count(1)
    start = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
    return lambda: start + dt.timedelta(seconds=next(ticks))


@pytest.fixture(scope="session")
def small_run():
    """A generated dataset whose plan moves someone (so letters are written), without plugins."""
    dataset = generate_dataset(400, seed=1)
    options = RecommendOptions(use_plugins=False)
    rulesets = load_run_rulesets(options, None)
    result = recommend(dataset, options, rulesets=rulesets)
    assert result.moves
    return result, dataset, rulesets


@pytest.fixture(scope="session")
def built_log(tmp_path_factory, small_run) -> Path:
    """Two records of the same run; tests attack copies."""
    path = tmp_path_factory.mktemp("hostile-log") / "log.sqlite"
    with AuditLog(path, clock=_fixed_clock()) as log:
        log.append(*small_run)
        log.append(*small_run)
    return path


@pytest.fixture
def log_copy(built_log, tmp_path) -> Path:
    path = tmp_path / "log.sqlite"
    shutil.copy(built_log, path)
    return path


@pytest.fixture
def tamper():
    return _tamper


def _tamper(path: Path, *statements: tuple[str, tuple]) -> None:
    """What someone with write access to the file can do: drop the triggers, then edit."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER IF EXISTS records_no_update")
    db.execute("DROP TRIGGER IF EXISTS records_no_delete")
    for sql, params in statements:
        db.execute(sql, params)
    db.commit()
    db.close()
