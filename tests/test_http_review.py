"""The review workflow, surge scenarios and downloads over HTTP: what a SIMPEG client drives.

Its own hosted service (reviews and re-plans add runs to the log, which tests in
test_http.py count); the Pontianak example is uploaded once and recommended once.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
import openpyxl
import yaml
from fastapi.testclient import TestClient

from mutasi_rules.hosting.access import Role, ServiceConfig, add_key, read_config, write_config
from mutasi_rules.hosting.hosted import HostedService
from mutasi_rules.http import create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pontianak"
SCENARIO = EXAMPLE / "scenarios" / "vaksinasi-lonjakan.yaml"
PROBLEM = "application/problem+json"
DAY = "2026-12-01"
REJECTED = ("198212092011122001", "sdn-01-barat.guru-sd-pertama")  # the example's plan moves her there
HELD = "dinkes-p2p.epidemiolog-pertama"  # the example's plan fills it
CPNS = "199111112025101001"  # cpns-not-transferred allows no override
AGENCY_UNIT = "dinkes"


class Api:
    def __init__(self, folder: Path) -> None:
        config = ServiceConfig(data_dir=str(folder / "data"), use_plugins=False)
        self.keys: dict[str, str] = {}
        for role in Role:
            config, self.keys[role.value] = add_key(config, f"test {role.value}", role,
                                                    unit_id=AGENCY_UNIT if role is Role.AGENCY else None)
        path = folder / "service.yaml"
        write_config(path, config)
        self.hosted = HostedService(read_config(path), config_path=path)
        self.client = TestClient(create_app(self.hosted, web=False), raise_server_exceptions=False)

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Api:
    service = Api(tmp_path_factory.mktemp("http-review"))
    yield service
    service.hosted.close()


@pytest.fixture(scope="module")
def dataset_id(api: Api) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for table in sorted(f for f in EXAMPLE.iterdir() if f.is_file()):
            archive.write(table, f"pontianak/{table.name}")
    answer = api.client.post("/v1/datasets", headers=api.as_("analyst"),
                             files={"file": ("pontianak.zip", buffer.getvalue(), "application/zip")})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


@pytest.fixture(scope="module")
def run(api: Api, dataset_id: str) -> dict:
    answer = api.client.post("/v1/recommend", headers=api.as_("analyst"), json={"dataset_id": dataset_id})
    assert answer.status_code == 201, answer.text
    return answer.json()


def decision(action: str, nip: str | None = None, position: str | None = None, reason: str = "alasan") -> dict:
    found = {"action": action, "reason": reason, "reviewer": "Baperjakat", "date": DAY}
    if nip:
        found["nip"] = nip
    if position:
        found["position"] = position
    return found


def moves(view: dict) -> set[tuple[str, str]]:
    return {(m["nip"], m["to"]["position_id"]) for m in view["result"]["moves"]}


def test_a_client_reviews_replans_and_diffs_a_run(api: Api, run: dict) -> None:
    assert REJECTED in moves(run)
    answer = api.client.post(f"/v1/runs/{run['run_id']}/reviews", headers=api.as_("analyst"), json={"decisions": [
        decision("reject", *REJECTED, reason="Diperlukan untuk akreditasi"),
        decision("hold_position", position=HELD, reason="Menunggu penataan struktur"),
    ]})
    assert answer.status_code == 201, answer.text
    review = answer.json()
    assert review["run_id"] == run["run_id"] and review["run_record_hash"] == run["record_hash"]
    assert [d["id"] for d in review["decisions"]] == [f"{review['review_id']}/1", f"{review['review_id']}/2"]
    assert answer.headers["location"] == f"/v1/runs/{run['run_id']}/reviews"

    listed = api.client.get(f"/v1/runs/{run['run_id']}/reviews", headers=api.as_("auditor"))
    assert listed.status_code == 200 and listed.json() == [review]

    answer = api.client.post(f"/v1/runs/{run['run_id']}/replan", headers=api.as_("analyst"))
    assert answer.status_code == 201, answer.text
    replanned = answer.json()
    assert replanned["run_id"] != run["run_id"]
    assert REJECTED not in moves(replanned)
    assert HELD not in {m["to"]["position_id"] for m in replanned["result"]["moves"]}
    # The re-plan is a recorded run like any other.
    assert api.client.get(f"/v1/runs/{replanned['run_id']}", headers=api.as_("auditor")).json() == replanned

    answer = api.client.get(f"/v1/runs/{run['run_id']}/diff/{replanned['run_id']}", headers=api.as_("auditor"))
    assert answer.status_code == 200, answer.text
    changes = answer.json()["changes"]
    removed = [c for c in changes
               if c["nip"] == REJECTED[0] and c["before"] and c["before"]["position_id"] == REJECTED[1]]
    assert len(removed) == 1, changes
    assert removed[0]["decision"] == f"{review['review_id']}/1"  # the reject explains the change


def test_refused_decisions_are_refused_whole_with_every_reason(api: Api, run: dict) -> None:
    before = api.client.get(f"/v1/runs/{run['run_id']}/reviews", headers=api.as_("analyst")).json()
    answer = api.client.post(f"/v1/runs/{run['run_id']}/reviews", headers=api.as_("analyst"), json={"decisions": [
        decision("pin", CPNS, "smpn-02.guru-smp-pertama"),
        decision("pin", "000000000000000000", "smpn-02.guru-smp-pertama"),
    ]})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    problems = answer.json()["problems"]
    assert len(problems) >= 2, problems
    assert all(p.get("file") == "request body" for p in problems)
    assert api.client.get(f"/v1/runs/{run['run_id']}/reviews", headers=api.as_("analyst")).json() == before


def test_a_malformed_review_body_is_a_located_422(api: Api, run: dict) -> None:
    answer = api.client.post(f"/v1/runs/{run['run_id']}/reviews", headers=api.as_("analyst"),
                             json={"decisions": [{"action": "promote", "reason": "x"}]})
    assert answer.status_code == 422
    assert "Traceback" not in answer.text
    assert api.client.post(f"/v1/runs/{run['run_id']}/reviews", headers=api.as_("analyst"),
                           json={"decisions": []}).status_code == 422


@pytest.mark.parametrize("role", ["auditor", "agency"])
def test_auditors_and_agencies_may_not_review_or_replan(api: Api, run: dict, role: str) -> None:
    body = {"decisions": [decision("exclude_employee", "198408282008102001", reason="Tugas belajar")]}
    before = api.client.get(f"/v1/runs/{run['run_id']}/reviews", headers=api.as_("analyst")).json()
    for answer in (api.client.post(f"/v1/runs/{run['run_id']}/reviews", headers=api.as_(role), json=body),
                   api.client.post(f"/v1/runs/{run['run_id']}/replan", headers=api.as_(role))):
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "auth.forbidden"
    assert api.client.get(f"/v1/runs/{run['run_id']}/reviews", headers=api.as_("analyst")).json() == before


def test_unknown_runs_are_404(api: Api) -> None:
    for method, path in (("get", "/v1/runs/R999999/reviews"), ("post", "/v1/runs/R999999/replan"),
                         ("get", "/v1/runs/R999999/diff/R999998"), ("get", "/v1/runs/R999999/plan.xlsx")):
        answer = api.client.request(method, path, headers=api.as_("analyst"))
        assert answer.status_code == 404, (path, answer.text)


def test_the_plan_workbook_and_the_word_letters_download(api: Api, run: dict) -> None:
    answer = api.client.get(f"/v1/runs/{run['run_id']}/plan.xlsx", headers=api.as_("auditor"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"rencana-mutasi-{run['run_id']}.xlsx" in answer.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    cells = {str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c}
    assert {nip for nip, _ in moves(run)} <= cells

    answer = api.client.get(f"/v1/runs/{run['run_id']}/notices.zip", headers=api.as_("analyst"))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert len(names) == len(run["result"]["moves"]) and all(n.endswith(".docx") for n in names)
    # Same run, same bytes.
    assert api.client.get(f"/v1/runs/{run['run_id']}/notices.zip", headers=api.as_("analyst")).content \
        == answer.content


def test_an_agency_downloads_only_its_subtree(api: Api, run: dict) -> None:
    answer = api.client.get(f"/v1/runs/{run['run_id']}/plan.xlsx", headers=api.as_("agency"))
    assert answer.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    cells = {str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c}
    outside = {m["nip"] for m in run["result"]["moves"]
               if AGENCY_UNIT not in (m["to"]["opd_id"], m["from"]["opd_id"])}
    assert outside and not (outside & cells)


def test_a_scenario_as_json_and_as_a_yaml_file_give_the_same_comparison(api: Api, dataset_id: str) -> None:
    # As a PHP or Java client would send it: the YAML file's content as JSON (dates as ISO text).
    document = json.loads(json.dumps(yaml.safe_load(SCENARIO.read_text(encoding="utf-8")), default=str))
    as_json = api.client.post(f"/v1/datasets/{dataset_id}/scenario", headers=api.as_("analyst"),
                              json={"scenario": document, "options": {"plan_date": "2026-08-03"}})
    assert as_json.status_code == 200, as_json.text
    report = as_json.json()
    assert report["scenarios"][0]["name"] == "vaksinasi-lonjakan"
    as_file = api.client.post(f"/v1/datasets/{dataset_id}/scenario", headers=api.as_("analyst"),
                              files={"file": (SCENARIO.name, SCENARIO.read_bytes(), "application/yaml")})
    assert as_file.status_code == 200, as_file.text
    assert as_file.json()["scenarios"][0]["comparison"]["agencies"] \
        == api.client.post(f"/v1/datasets/{dataset_id}/scenario", headers=api.as_("analyst"),
                           json={"scenario": document}).json()["scenarios"][0]["comparison"]["agencies"]


def test_a_bad_scenario_names_its_problems(api: Api, dataset_id: str) -> None:
    answer = api.client.post(f"/v1/datasets/{dataset_id}/scenario", headers=api.as_("analyst"),
                             files={"file": ("lonjakan.yaml", b"name: x\nchanges:\n  - scale_volume: -3\n",
                                             "application/yaml")})
    assert answer.status_code == 422, answer.text
    problems = answer.json()["problems"]
    assert problems and all(p["file"] == "lonjakan.yaml" and p.get("line") for p in problems)
    answer = api.client.post(f"/v1/datasets/{dataset_id}/scenario", headers=api.as_("auditor"),
                             json={"scenario": {"name": "x", "changes": []}})
    assert answer.status_code == 403


# --------------------------------------------------------------------------- listing datasets


def test_listing_datasets_reads_summaries_not_datasets(api: Api, dataset_id: str, monkeypatch) -> None:
    from mutasi_rules.data.models import Dataset

    listed = api.client.get("/v1/datasets", headers=api.as_("analyst"))
    assert listed.status_code == 200
    (info,) = [d for d in listed.json() if d["id"] == dataset_id]
    assert info["name"] and info["employees"] > 400 and info["units"] > 10
    summary = api.hosted.store.folder / f"{dataset_id}.summary.json"
    assert summary.stat().st_mode & 0o077 == 0  # owner-only, like the dataset

    api.hosted.store._parsed.clear()  # nothing parsed in memory: a fresh process

    def refuse(*args, **kwargs):
        raise AssertionError("listing parsed a dataset")

    monkeypatch.setattr(Dataset, "model_validate_json", refuse)
    assert api.client.get("/v1/datasets", headers=api.as_("admin")).json() == listed.json()


def test_a_lost_or_damaged_summary_is_mended_from_the_dataset(api: Api, dataset_id: str) -> None:
    summary = api.hosted.store.folder / f"{dataset_id}.summary.json"
    before = api.client.get("/v1/datasets", headers=api.as_("analyst")).json()
    summary.write_text("{not json", encoding="utf-8")
    assert api.client.get("/v1/datasets", headers=api.as_("analyst")).json() == before
    summary.unlink()
    assert api.client.get("/v1/datasets", headers=api.as_("analyst")).json() == before
    assert summary.exists()


def test_an_agency_lists_only_datasets_holding_its_unit_counted_within_it(api: Api, dataset_id: str) -> None:
    everything = {d["id"]: d for d in api.client.get("/v1/datasets", headers=api.as_("analyst")).json()}
    mine = {d["id"]: d for d in api.client.get("/v1/datasets", headers=api.as_("agency")).json()}
    assert dataset_id in mine
    subtree = api.client.get(f"/v1/datasets/{dataset_id}", headers=api.as_("agency")).json()
    assert mine[dataset_id]["employees"] == len(subtree["employees"]) < everything[dataset_id]["employees"]
    assert mine[dataset_id]["units"] == len(subtree["units"])
    # A dataset without the agency's unit is not listed for it.
    small = (ROOT / "tests" / "data" / "good" / "small.yaml").read_bytes()
    other = api.client.post("/v1/datasets", headers=api.as_("analyst"),
                            files={"file": ("small.yaml", small, "application/yaml")}).json()["id"]
    assert other in {d["id"] for d in api.client.get("/v1/datasets", headers=api.as_("analyst")).json()}
    assert other not in {d["id"] for d in api.client.get("/v1/datasets", headers=api.as_("agency")).json()}
