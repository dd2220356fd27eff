"""The report for the head of the region: summary, balance, chart, unfilled shortages, trainings, provenance."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

from mutasi_rules.analysis.workload import WorkloadReport, figures_report
from mutasi_rules.data.loading import load_dataset
from mutasi_rules.explain.explanations import number
from mutasi_rules.explain.report import (
    chart_rows,
    ej_chart_svg,
    report_html,
    report_markdown,
    write_report,
)
from mutasi_rules.planning.recommendation import RecommendationResult, recommend

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pontianak"


@functools.lru_cache(maxsize=1)
def inputs() -> tuple[RecommendationResult, WorkloadReport]:
    dataset = load_dataset(EXAMPLE)
    res = recommend(dataset)
    return res, figures_report(dataset, as_of=res.run.as_of, settings=res.run.options.workload)


def result() -> RecommendationResult:
    return inputs()[0]


@functools.cache
def rendered(kind: str) -> str:
    render = report_html if kind == "html" else report_markdown
    return render(result(), run_id="R000003-abcdef", workload=inputs()[1])


def _plain(text: str) -> str:
    return text.replace("\\", "")


def test_report_contents_in_both_forms():
    res = result()
    b, a = res.balance_before, res.balance_after
    assert a.ej_std < b.ej_std, "the example plan evens the workload out"
    unfilled = [s for s in res.shortages if s.remaining > 0]
    assert unfilled and res.trainings_total
    for kind in ("md", "html"):
        text = rendered(kind)
        # Balance before and after.
        assert number(b.ej_std, 4, "id") in text and number(a.ej_std, 4, "id") in text
        # The chart, inline.
        assert text.count("<svg") == 1 and "</svg>" in text
        # Moves by OPD in and out.
        for unit in res.units:
            assert unit.name in text
        # Shortages left unfilled, and why.
        for shortage in unfilled:
            assert shortage.position.position_name in text
            assert shortage.unfilled_reason.id in text
        # Trainings in total, with hours and provider.
        for need in res.trainings_total:
            persons = sum(1 for m in res.moves if any(n.name == need.name for n in m.trainings_required))
            assert need.name in text and need.offer.provider in text
            assert number(need.offer.hours * persons, 0, "id") in text
        # Rule sets and plugins with versions; the audit run id.
        for ruleset in res.run.rulesets:
            assert ruleset.id in text and ruleset.version in text
        for plugin in res.run.plugins:
            assert plugin.name in text and plugin.version in text
        assert "R000003-abcdef" in text
        for move in res.moves:
            assert move.nip in text


def test_html_is_self_contained():
    text = rendered("html")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text), "no external assets"
    assert "<link" not in text and "@import" not in text


def test_names_from_data_are_escaped():
    res = result()
    hostile = "<script>alert('x')</script>"
    move = res.moves[0].model_copy(update={"name": hostile})
    unit = res.units[0].model_copy(update={"name": hostile + " & Co"})
    bad = res.model_copy(update={"moves": [move, *res.moves[1:]], "units": [unit, *res.units[1:]]})
    html = report_html(bad)
    assert "<script" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&amp; Co" in html
    md = report_markdown(bad)
    assert "<script" not in md and "&lt;script&gt;" in md


def test_two_renders_and_two_writes_are_byte_identical(tmp_path):
    assert report_html(result(), run_id="R000003-abcdef", workload=inputs()[1]) == rendered("html")
    assert report_markdown(result(), run_id="R000003-abcdef", workload=inputs()[1]) == rendered("md")
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    write_report(result(), first, run_id="R1")
    write_report(result(), second, run_id="R1")
    assert first.read_bytes() == second.read_bytes()
    md = write_report(result(), tmp_path / "r.md")
    assert md.read_text(encoding="utf-8").startswith("# Laporan rencana mutasi")


def test_chart_is_deterministic_across_processes(tmp_path):
    """The SVG ids depend on a hash salt that is random per process unless fixed."""
    plan = tmp_path / "plan.json"
    plan.write_text(result().to_json(), encoding="utf-8")
    code = ("import sys; from mutasi_rules.planning.recommendation import RecommendationResult as R; "
            "from mutasi_rules.explain.report import ej_chart_svg; "
            "sys.stdout.write(ej_chart_svg(R.model_validate_json(open(sys.argv[1]).read())))")
    other = subprocess.run([sys.executable, "-c", code, str(plan)], capture_output=True, text=True, check=True,
                           timeout=120).stdout
    assert other == ej_chart_svg(result())
    assert "<dc:date>" not in other and not other.startswith("<?xml")


def test_chart_covers_every_opd_when_the_workload_is_given():
    res, workload = inputs()
    touched = chart_rows(res)
    assert [r.unit_id for r in touched] == sorted((u.unit_id for u in res.units),
                                                   key=lambda uid: (next(u.ej_before for u in res.units
                                                                         if u.unit_id == uid), uid))
    every = chart_rows(res, workload)
    assert {r.unit_id for r in every} == {u.unit_id for u in workload.opd_units() if u.ej is not None}
    after = {u.unit_id: u.ej_after for u in res.units}
    for row in every:
        assert row.after == after.get(row.unit_id, row.before)


def test_english_report():
    text = report_markdown(result(), lang="en")
    assert text.startswith("# Transfer plan report for the head of the region")
    assert "Shortages left unfilled" in text and "Trainings needed" in text
    assert number(result().balance_after.ej_std, 4, "en") in text
