"""``mutasi-rules batch`` on a real 2-worker Dask LocalCluster (127.0.0.1, stopped at the end).

What a province needs from a batch: every region's result equals its run on its own, a region
with bad data is reported without stopping the others, and each region's run is in its
decision log exactly once -- also when a worker dies mid-task and Dask retries it, and when the
batch is run again.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from mutasi_rules.audit.log import AuditLog
from mutasi_rules.batch import BatchUsageError, Region, audit_path, discover_regions, run_batch, run_region
from mutasi_rules.cli import main
from mutasi_rules.data.generator import MIN_EMPLOYEES, generate_regions, plan_regions, region_sizes
from mutasi_rules.data.loading import save_dataset
from mutasi_rules.planning.recommendation import RecommendOptions
from mutasi_rules.plugins.manager import PluginSettings
from mutasi_rules.service import Service

pytest.importorskip("distributed")

REGIONS = 3
EMPLOYEES_TOTAL = 620
BROKEN = "9-broken"


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three generated regions of unequal sizes plus one whose employees table has a bad NIP."""
    root = tmp_path_factory.mktemp("province")
    for plan, dataset in generate_regions(REGIONS, EMPLOYEES_TOTAL, seed=5):
        save_dataset(dataset, root / plan.slug, "csv")
    first = sorted(p for p in root.iterdir())[0]
    shutil.copytree(first, root / BROKEN)
    employees = root / BROKEN / "employees.csv"
    lines = employees.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[2].split(",")
    cells[header.index("nip")] = "12345"
    lines[2] = ",".join(cells)
    employees.write_text("".join(lines), encoding="utf-8")
    return root


def one_by_one(province: Path, options: RecommendOptions, tmp: Path) -> dict[str, str]:
    """Each good region run on its own through the service, as ``recommend --format json`` writes it."""
    results = {}
    for region in discover_regions([province]):
        if region.name == BROKEN:
            continue
        service = Service(tmp / f"{region.name}.sqlite")
        outcome = service.recommend(service.load_dataset(region.path), options)
        results[region.name] = outcome.result.to_json(indent=2) + "\n"
    return results


def records_per_region(audit_dir: Path) -> dict[str, int]:
    counts = {}
    for path in sorted(audit_dir.glob("*.sqlite")):
        with AuditLog(path, create=False) as log:
            assert log.verify().ok
            counts[path.stem] = len(log)
    return counts


def test_cli_batch_on_two_workers_equals_one_by_one_and_reports_the_bad_region(province, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["batch", str(province), "--workers", "2", "--out", str(out)])
    assert code == 1  # one region has data problems; the others ran
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    status = {r["region"]: r["status"] for r in summary["regions"]}
    assert status.pop(BROKEN) == "invalid" and set(status.values()) == {"ok"} and len(status) == REGIONS
    broken = next(r for r in summary["regions"] if r["region"] == BROKEN)
    assert broken["problem_count"] >= 1
    bad_nip = next(p for p in broken["problems"] if p["field"] == "nip" and p["value"] == "12345")
    assert bad_nip["file"].endswith(f"{BROKEN}/employees.csv") and bad_nip["record"]
    assert (out / BROKEN / "problems.json").exists()
    assert summary["totals"]["regions_invalid"] == [BROKEN]
    assert summary["totals"]["employees"] == EMPLOYEES_TOTAL
    assert summary["totals"]["moves"] == sum(r["moves"] for r in summary["regions"])
    assert (out / "summary.md").read_text(encoding="utf-8").startswith("# Ringkasan")
    assert (out / "summary.xlsx").stat().st_size > 0

    expected = one_by_one(province, RecommendOptions(), tmp_path / "alone")
    for name, text in expected.items():
        assert (out / name / "result.json").read_text(encoding="utf-8") == text, name
    assert records_per_region(out / "audit") == dict.fromkeys(expected, 1)
    assert "tidak ada yang dijalankan" in capsys.readouterr().err  # Bahasa Indonesia by default

    # Run again (the tasks themselves, without a cluster): nothing is recorded twice, same bytes.
    again = [run_region(region, RecommendOptions(), str(out), str(out / "audit"))
             for region in discover_regions([province]) if region.name != BROKEN]
    assert all(r.status == "ok" and r.reused for r in again)
    assert {r.region: r.run_id for r in again} == {r["region"]: r["run_id"] for r in summary["regions"]
                                                   if r["status"] == "ok"}
    assert records_per_region(out / "audit") == dict.fromkeys(expected, 1)
    for name, text in expected.items():
        assert (out / name / "result.json").read_text(encoding="utf-8") == text


KILLER = '''
import os
from mutasi_rules.plugins import hookimpl

__version__ = "1.0"


def _die_once(marker):
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os._exit(1)  # the worker process dies mid-task


@hookimpl
def mutasi_rules_plan_constraints(dataset, as_of, settings):
    _die_once({during!r})  # before the run is recorded
    return None


@hookimpl
def mutasi_rules_decision_made(decision):
    _die_once({after!r})  # after the run is recorded, before the task returns
'''


def test_a_worker_killed_mid_task_is_retried_and_each_run_is_recorded_once(province, tmp_path):
    during, after = tmp_path / "killed-during-run", tmp_path / "killed-after-recording"
    plugin = tmp_path / "killer.py"
    plugin.write_text(KILLER.format(during=str(during), after=str(after)), encoding="utf-8")
    options = RecommendOptions(plugins=PluginSettings(explicit=[str(plugin)]))
    regions = [r for r in discover_regions([province]) if r.name != BROKEN]
    out, audit = tmp_path / "out", tmp_path / "audit"

    summary = run_batch(regions, options, out, audit, workers=2)

    killed = [int(marker.read_text()) for marker in (during, after)]
    for pid in killed:  # both worker processes are really gone
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert [r.status for r in summary.regions] == ["ok"] * REGIONS
    # The task killed after recording found its run in the log on the retry.
    assert sum(r.reused for r in summary.regions) == 1
    assert records_per_region(audit) == {r.name: 1 for r in regions}
    expected = one_by_one(province, options, tmp_path / "alone")
    for name, text in expected.items():
        assert (out / name / "result.json").read_text(encoding="utf-8") == text, name
        with AuditLog(audit_path(audit, Region(name, "")), create=False) as log:
            assert next(log.records()).result().to_json(indent=2) + "\n" == text


FAILING = '''
from mutasi_rules.plugins import hookimpl

@hookimpl
def mutasi_rules_plan_constraints(dataset, as_of, settings):
    raise RuntimeError("agency rule service unreachable")
'''


def test_a_region_that_fails_at_run_time_is_reported_and_not_recorded(province, tmp_path):
    plugin = tmp_path / "failing.py"
    plugin.write_text(FAILING, encoding="utf-8")
    region = discover_regions([province])[0]
    report = run_region(region, RecommendOptions(plugins=PluginSettings(explicit=[str(plugin)])),
                        str(tmp_path / "out"), str(tmp_path / "audit"))
    assert report.status == "failed" and "agency rule service unreachable" in (report.error or "")
    assert report.run_id is None and not (tmp_path / "out" / region.name / "result.json").exists()
    assert records_per_region(tmp_path / "audit") in ({}, {region.name: 0})


def test_regions_are_found_in_parent_folders_and_listed_datasets(province, tmp_path):
    names = [r.name for r in discover_regions([province])]
    assert names == sorted(names) and len(names) == REGIONS + 1
    single = discover_regions([province / BROKEN, tmp_path / "missing"])
    assert [r.name for r in single] == [BROKEN, "missing"]  # a missing path is a region that reports it
    with pytest.raises(BatchUsageError, match="two regions are named"):
        discover_regions([province, province / BROKEN])
    beside = [r.name for r in discover_regions([province], exclude=[province / BROKEN])]
    assert BROKEN not in beside and len(beside) == REGIONS  # the batch's output folder beside the regions
    (tmp_path / "empty").mkdir()
    with pytest.raises(BatchUsageError, match="neither a dataset nor a folder of regions"):
        discover_regions([tmp_path / "empty"])


def test_generated_regions_are_unequal_deterministic_and_sum_to_the_total(tmp_path):
    sizes = region_sizes(14, 100_000, seed=1)
    assert sum(sizes) == 100_000 and min(sizes) >= MIN_EMPLOYEES
    assert max(sizes) > 2 * min(sizes)  # realistic: a few large regencies, some small ones
    assert sizes == region_sizes(14, 100_000, seed=1) and sizes != region_sizes(14, 100_000, seed=2)
    plans = plan_regions(14, 100_000, seed=1)
    assert plans[12].name == "Kota Pontianak" and plans[0].slug == "01-kabupaten-bengkayang"
    with pytest.raises(ValueError, match="cannot staff"):
        region_sizes(3, 3 * MIN_EMPLOYEES - 1, seed=1)

    out = tmp_path / "prov"
    assert main(["generate", "--regions", "2", "--employees-total", "400", "--seed", "4", "--out", str(out)]) == 0
    folders = sorted(p.name for p in out.iterdir())
    assert folders == [p.slug for p in plan_regions(2, 400, seed=4)]
    datasets = [Service.load_dataset(out / f) for f in folders]
    assert sum(len(d.employees) for d in datasets) == 400
    assert datasets[0].metadata.name.startswith("Kabupaten Bengkayang")
    assert main(["generate", "--regions", "2", "--out", str(out)]) == 2  # needs --employees-total
