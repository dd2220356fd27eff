"""The review workflow: decisions recorded on a run, re-plans around them, lineage, replay, diff and tampering.

One lineage on the bundled example is built once per module (each re-plan reuses the
prepared context), and the tests read it:

    R1 (recommend) --V1: reject, pin over an overridable rule, hold--> R2 (replan)
       --V2: exclude_employee--> R3 (replan) --V3: reject--> R4 (replan)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from mutasi_rules.audit.log import AuditLog, replay
from mutasi_rules.cli import main
from mutasi_rules.data.decisions import ReviewDecision
from mutasi_rules.data.loading import load_dataset
from mutasi_rules.explain.explanations import explain_move
from mutasi_rules.planning.review import parse_decisions
from mutasi_rules.problems import InputError
from mutasi_rules.service import Service

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pontianak"
DAY = dt.date(2026, 12, 1)

#: The example's result is pinned byte for byte in tests/data/golden.json (tests/test_golden.py);
#: a run made and recorded through the review-aware service, with no review, must give exactly it.
GOLDEN = ROOT / "tests" / "data" / "golden.json"

REJECTED = ("198212092011122001", "sdn-01-barat.guru-sd-pertama")  # R1 moves her there
HELD = "dinkes-p2p.epidemiolog-pertama"  # R1 fills it with 199005122023032001
#: Blocked for R1 only by min-time-in-post (overridable: true), so a pin is a human override.
OVERRIDE = ("197902122005121001", "smpn-02.guru-smp-pertama")
#: A pair the engine evaluated for R1 and found blocked only by missing-competencies (overridable).
PAIR_OVERRIDE = ("196907192000091001", "bappeda.analis-kebijakan-muda")
EXCLUDED = "198408282008102001"  # moved in R1 and R2
#: A CPNS: cpns-not-transferred allows no override.
CPNS = "199111112025101001"


def decision(action: str, nip: str | None = None, position: str | None = None, **extra: object) -> ReviewDecision:
    return ReviewDecision(action=action, nip=nip, position=position, reason=extra.get("reason", f"alasan {action}"),
                          reviewer=str(extra.get("reviewer", "Baperjakat")), date=DAY)


@pytest.fixture(scope="module")
def lineage(tmp_path_factory):
    path = tmp_path_factory.mktemp("review") / "audit.sqlite"
    service = Service(path)
    dataset = load_dataset(EXAMPLE)
    r1 = service.recommend(dataset)
    v1 = service.review(r1.run_id, [
        decision("reject", *REJECTED, reason="Diperlukan di SMPN 01 untuk akreditasi"),
        decision("pin", *OVERRIDE, reason="Kepala sekolah meminta guru berpengalaman", reviewer="Sekretaris Daerah"),
        decision("hold_position", position=HELD, reason="Menunggu penataan struktur"),
        decision("pin", *PAIR_OVERRIDE, reason="Dibutuhkan untuk RPJMD", reviewer="Kepala Bappeda"),
    ])
    r2 = service.replan(r1.run_id)
    v2 = service.review(r2.run_id, [decision("exclude_employee", EXCLUDED, reason="Sedang tugas belajar")])
    r3 = service.replan(r2.run_id)
    third = next(m for m in r3.result.moves if m.review is None)
    v3 = service.review(r3.run_id, [decision("reject", third.nip, third.to.position_id)])
    r4 = service.replan(r3.run_id)
    return {"path": path, "service": service, "runs": [r1, r2, r3, r4], "reviews": [v1, v2, v3],
            "rejected_third": (third.nip, third.to.position_id)}


def moved(outcome) -> dict[str, str]:
    return {m.nip: m.to.position_id for m in outcome.result.moves}


def test_a_run_without_review_is_unchanged(lineage):
    r1 = lineage["runs"][0]
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8"))["example"]["result.json"]
    assert hashlib.sha256(r1.result.to_json().encode()).hexdigest() == pinned
    text = r1.result.to_json(indent=None)
    run = json.loads(text)["run"]
    assert "parent_run_id" not in run and "review_decisions" not in run
    assert all("review" not in m for m in json.loads(text)["moves"])


def test_reject_hold_and_pin_over_an_overridable_rule(lineage):
    r1, r2 = lineage["runs"][:2]
    assert moved(r1)[REJECTED[0]] == REJECTED[1] and HELD in moved(r1).values()
    plan = moved(r2)
    assert plan.get(REJECTED[0]) != REJECTED[1]
    assert HELD not in plan.values()
    assert plan[OVERRIDE[0]] == OVERRIDE[1]
    pinned = next(m for m in r2.result.moves if m.nip == OVERRIDE[0])
    # The human override is part of the move's explanation: who, why and every rule set aside.
    assert pinned.review is not None
    assert pinned.review.reviewer == "Sekretaris Daerah"
    assert pinned.review.reason == "Kepala sekolah meminta guru berpengalaman"
    assert pinned.review.overridden == ["national.transfer-norms/min-time-in-post"]
    assert any(f.rule_id == "min-time-in-post" for f in pinned.findings)
    text = explain_move(pinned, r2.result, "en")
    assert "Sekretaris Daerah" in text and "Kepala sekolah meminta" in text
    assert "Human override of the rules: national.transfer-norms/min-time-in-post" in text
    # A pair blocked by a candidate rule the engine had evaluated: the same override, another rule.
    pair = next(m for m in r2.result.moves if m.nip == PAIR_OVERRIDE[0])
    assert pair.to.position_id == PAIR_OVERRIDE[1] and pair.review.reviewer == "Kepala Bappeda"
    assert pair.review.overridden == ["national.competency-prerequisites/missing-competencies"]
    listed = next(a for s in r2.result.shortages if s.position.position_id == PAIR_OVERRIDE[1]
                  for a in s.alternatives if a.nip == PAIR_OVERRIDE[0])
    assert listed.outcome == "chosen"
    held = next(s for s in r2.result.shortages if s.position.position_id == HELD)
    assert held.received == 0 and "Menunggu penataan struktur" in held.unfilled_reason.en
    rejected = next(a for s in r2.result.shortages if s.position.position_id == REJECTED[1]
                    for a in s.alternatives if a.nip == REJECTED[0])
    assert rejected.outcome == "review" and "Diperlukan di SMPN 01" in rejected.reason.en
    assert r2.result.run.parent_run_id == r1.run_id
    assert [d.id for d in r2.result.run.review_decisions] == [d.id for d in lineage["reviews"][0].decisions]


def test_exclude_employee(lineage):
    assert EXCLUDED in moved(lineage["runs"][1])
    assert EXCLUDED not in moved(lineage["runs"][2])


def test_a_lineage_of_three_reviews_honours_every_decision(lineage):
    r1, r2, r3, r4 = lineage["runs"]
    plan = moved(r4)
    assert plan.get(REJECTED[0]) != REJECTED[1] and HELD not in plan.values()
    assert plan[OVERRIDE[0]] == OVERRIDE[1] and EXCLUDED not in plan
    nip, target = lineage["rejected_third"]
    assert plan.get(nip) != target
    assert r4.result.run.parent_run_id == r3.run_id
    every = sorted(d.id for v in lineage["reviews"] for d in v.decisions)
    assert [d.id for d in r4.result.run.review_decisions] == every
    runs, decisions = lineage["service"].lineage(r4.run_id)
    assert runs == [r.run_id for r in (r1, r2, r3, r4)] and [d.id for d in decisions] == every
    # A fresh service (nothing cached, context prepared from the stored inputs) gives the same re-plan.
    again = Service(lineage["path"]).replan(r3.run_id, record=False)
    assert again.result.to_json() == r4.result.to_json()


def test_replay_of_a_replan_is_byte_identical(lineage):
    with AuditLog(lineage["path"], create=False) as log:
        report = replay(log, lineage["runs"][3].run_id)
    assert report.identical, report.differences


def test_refused_decisions_are_refused_whole_with_reason_and_rule(lineage):
    service, r2 = lineage["service"], lineage["runs"][1]
    before = len(service.reviews())
    with pytest.raises(InputError) as refused:
        service.review(r2.run_id, [
            decision("reject", "123456789012345678", REJECTED[1]),
            decision("hold_position", position="no-such-post"),
            decision("pin", CPNS, OVERRIDE[1]),
            decision("pin", REJECTED[0], REJECTED[1]),  # rejected earlier in the lineage
            decision("pin", "199812122024022001", "sdn-01-selatan.guru-sd-pertama"),  # a valid one, refused too
        ], origin="keputusan.yaml")
    problems = {(p.record, p.code): p for p in refused.value.problems}
    assert set(problems) == {("decision 1", "decision.unknown_nip"), ("decision 2", "decision.unknown_position"),
                             ("decision 3", "decision.pin_blocked"), ("decision 4", "decision.conflict")}
    assert "national.transfer-norms/cpns-not-transferred" in problems[("decision 3", "decision.pin_blocked")].message
    assert lineage["reviews"][0].decisions[0].id in problems[("decision 4", "decision.conflict")].message
    assert len(service.reviews()) == before  # nothing recorded


def test_diff_names_the_decision_behind_each_change(lineage):
    r1, r2 = lineage["runs"][:2]
    diff = lineage["service"].diff(r1.run_id, r2.run_id)
    by_nip = {c.nip: c for c in diff.changes}
    v1 = lineage["reviews"][0].decisions
    assert by_nip[OVERRIDE[0]].kind == "added" and by_nip[OVERRIDE[0]].decision == v1[1].id
    assert by_nip[REJECTED[0]].decision == v1[0].id
    assert by_nip["199005122023032001"].kind == "removed" and by_nip["199005122023032001"].decision == v1[2].id
    assert diff.balance_a_after == r1.result.balance_after and diff.balance_b_after == r2.result.balance_after
    assert [d.id for d in diff.decisions] == [d.id for d in v1]


def test_tampering_with_a_recorded_decision_is_caught(lineage, tmp_path):
    copy = tmp_path / "audit.sqlite"
    shutil.copy(lineage["path"], copy)
    assert Service(copy).verify().ok
    db = sqlite3.connect(copy)
    db.execute("DROP TRIGGER reviews_no_update")
    text = db.execute("SELECT decisions_json FROM reviews WHERE seq = 1").fetchone()[0]
    db.execute("UPDATE reviews SET decisions_json = ? WHERE seq = 1", (text.replace('"reject"', '"pin"', 1),))
    db.commit()
    db.close()
    report = Service(copy).verify()
    assert not report.ok and report.first_bad_run_id == lineage["reviews"][0].review_id
    assert "decision was changed" in report.reason
    assert main(["audit", "verify", "--audit-db", str(copy)]) == 1


def test_decisions_file_problems_name_line_and_column(tmp_path):
    text = "- action: pin\n  nip: 198212092011122001\n  reason: x\n  reviewer: y\n  date: 2026-12-01\n" \
           "- action: promote\n  nip: 1\n  reason: x\n  reviewer: y\n  date: 2026-12-01\n"
    with pytest.raises(InputError) as bad:
        parse_decisions(text, "keputusan.yaml")
    found = [(p.line, p.code) for p in bad.value.problems]
    assert (1, "decisions.invalid") in found and (6, "decisions.invalid") in found
    with pytest.raises(InputError, match="tag not allowed"):
        parse_decisions("- !!python/object:os.system {}\n", "evil.yaml")
    ok = parse_decisions('[{"action": "hold_position", "position": "p", "reason": "r", "reviewer": "v", '
                         '"date": "2026-12-01"}]', "keputusan.json")
    assert ok == [ReviewDecision(action="hold_position", position="p", reason="r", reviewer="v", date=DAY)]


def test_cli_review_replan_diff(lineage, tmp_path, capsys):
    copy = tmp_path / "audit.sqlite"
    shutil.copy(lineage["path"], copy)
    r4 = lineage["runs"][3].run_id
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"- action: pin\n  nip: '{CPNS}'\n  position: {OVERRIDE[1]}\n  reason: x\n  reviewer: y\n"
                   "  date: 2026-12-01\n", encoding="utf-8")
    assert main(["review", r4, "--decisions", str(bad), "--audit-db", str(copy)]) == 1
    assert "cpns-not-transferred" in capsys.readouterr().err
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"action": "hold_position", "position": OVERRIDE[1], "reason": "Moratorium",
                                 "reviewer": "Wali Kota", "date": "2026-12-03"}]), encoding="utf-8")
    # Holding the pinned post contradicts the pin recorded earlier in the lineage.
    assert main(["review", r4, "--decisions", str(good), "--audit-db", str(copy)]) == 1
    assert "a held position receives nobody" in capsys.readouterr().err
    good.write_text(json.dumps([{"action": "hold_position", "position": "sdn-01-selatan.guru-sd-pertama",
                                 "reason": "Moratorium", "reviewer": "Wali Kota", "date": "2026-12-03"}]),
                    encoding="utf-8")
    assert main(["review", r4, "--decisions", str(good), "--audit-db", str(copy)]) == 0
    out = tmp_path / "plan.json"
    assert main(["replan", r4, "--audit-db", str(copy), "--format", "json", "--out", str(out)]) == 0
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["run"]["parent_run_id"] == r4
    assert "sdn-01-selatan.guru-sd-pertama" not in {m["to"]["position_id"] for m in plan["moves"]}
    capsys.readouterr()
    assert main(["diff", r4, "R000005", "--audit-db", str(copy), "--format", "md", "--lang", "en"]) == 0
    assert "Moratorium" in capsys.readouterr().out
    assert main(["audit", "replay", "R000005", "--audit-db", str(copy)]) == 0
    assert main(["replan", "R999999", "--audit-db", str(copy)]) == 3
    capsys.readouterr()
    r2 = lineage["runs"][1].run_id
    assert main(["explain", r2, "--audit-db", str(copy), "--employee", OVERRIDE[0], "--format", "json"]) == 0
    explained = json.loads(capsys.readouterr().out)["employee"]
    assert explained["review"]["overridden"] == ["national.transfer-norms/min-time-in-post"]
