"""The HTTP API through FastAPI's test client: every endpoint, role and error path.

One hosted service per module (a temporary data folder and decision log), one key per role;
the Pontianak example is uploaded as a zip of CSV tables and recommended once.
"""

from __future__ import annotations

import csv
import io
import json
import stat
import threading
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from mutasi_rules.audit.log import AuditLog
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.data.loading import load_dataset, save_dataset
from mutasi_rules.hosting.access import Role, ServiceConfig, add_key, read_config, revoke_key, write_config
from mutasi_rules.hosting.hosted import HostedService
from mutasi_rules.http import create_app
from mutasi_rules.service import dataset_sha256

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pontianak"
SMALL = ROOT / "tests" / "data" / "good" / "small.yaml"
RULES = ROOT / "rules"
AGENCY_UNIT = "dinkes"
PROBLEM = "application/problem+json"


def pontianak_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for table in sorted(f for f in EXAMPLE.iterdir() if f.is_file()):
            archive.write(table, f"pontianak/{table.name}")
    return buffer.getvalue()


class Api:
    """The app, its config file and a key per role."""

    def __init__(self, folder: Path, **settings: object) -> None:
        self.config_path = folder / "service.yaml"
        config = ServiceConfig(data_dir=str(folder / "data"), use_plugins=False, **settings)  # type: ignore[arg-type]
        self.keys: dict[str, str] = {}
        for role in Role:
            config, key = add_key(config, f"test {role.value}", role,
                                  unit_id=AGENCY_UNIT if role is Role.AGENCY else None)
            self.keys[role.value] = key
        config, self.keys["agency_elsewhere"] = add_key(config, "unit not in data", Role.AGENCY, unit_id="NOWHERE")
        write_config(self.config_path, config)
        self.hosted = HostedService(read_config(self.config_path), config_path=self.config_path)
        self.client = TestClient(create_app(self.hosted), raise_server_exceptions=False)

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Api:
    service = Api(tmp_path_factory.mktemp("http"))
    yield service
    service.hosted.close()


@pytest.fixture(scope="module")
def dataset_id(api: Api) -> str:
    answer = api.client.post("/v1/datasets", headers=api.as_("analyst"),
                             files={"file": ("pontianak.zip", pontianak_zip(), "application/zip")})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


@pytest.fixture(scope="module")
def run(api: Api, dataset_id: str) -> dict:
    answer = api.client.post("/v1/recommend", headers=api.as_("analyst"), json={"dataset_id": dataset_id})
    assert answer.status_code == 201, answer.text
    return answer.json()


def assert_problem(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    document = answer.json()
    assert document["status"] == status and document["code"] == code
    assert document["type"] == f"urn:mutasi-rules:problem:{code}"
    assert "Traceback" not in answer.text
    return document


# --------------------------------------------------------------------------- about and keys


def test_health_and_version_need_no_key(api: Api) -> None:
    assert api.client.get("/v1/health").json() == {"status": "ok"}
    version = api.client.get("/v1/version").json()
    assert version["api"] == "v1" and version["result_format"] == "mutasi-rules.recommendation/1"


PROTECTED = [
    ("post", "/v1/datasets"), ("get", "/v1/datasets/" + "0" * 64), ("post", "/v1/workload"),
    ("post", "/v1/recommend"), ("post", "/v1/why-not"), ("get", "/v1/runs/R000001"),
    ("get", "/v1/runs/R000001/explanation"), ("get", "/v1/runs/R000001/notices"), ("get", "/v1/runs/R000001/report"),
    ("post", "/v1/rules/check"), ("post", "/v1/rules/test"), ("get", "/v1/audit/runs"), ("get", "/v1/audit/verify"),
    ("post", "/v1/audit/replay/R000001"), ("get", "/v1/runs/R000001/plan.xlsx"),
    ("get", "/v1/runs/R000001/notices.zip"),
    ("get", "/v1/runs/R000001/reviews"), ("post", "/v1/runs/R000001/reviews"), ("post", "/v1/runs/R000001/replan"),
    ("get", "/v1/runs/R000001/diff/R000002"), ("post", "/v1/datasets/" + "0" * 64 + "/scenario"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_without_a_key_every_endpoint_answers_401(api: Api, method: str, path: str) -> None:
    document = assert_problem(api.client.request(method, path), 401, "auth.required")
    assert "API key" in document["detail"]
    assert api.client.request(method, path).headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("key", ["nonsense", "mrk_000000000000_forged", None])
def test_unknown_and_forged_keys_answer_401(api: Api, key: str | None) -> None:
    if key is None:  # a real key id with the wrong secret
        key = api.keys["analyst"].rsplit("_", 1)[0] + "_wrongsecret"
    assert_problem(api.client.get("/v1/audit/verify", headers={"X-API-Key": key}), 401, "auth.required")


# Which roles may call what: (method, path template, body, allowed roles).
MATRIX = [
    ("post", "/v1/recommend", {"dataset_id": "{dataset}"}, {"analyst", "admin"}),
    ("post", "/v1/workload", {"dataset_id": "{dataset}"}, {"analyst", "admin", "agency"}),
    ("get", "/v1/datasets/{dataset}", None, {"analyst", "admin", "agency"}),
    ("post", "/v1/why-not", {"dataset_id": "{dataset}", "nip": "1", "position_id": "x"},
     {"analyst", "admin", "agency"}),
    ("get", "/v1/runs/{run}", None, {"analyst", "auditor", "admin", "agency"}),
    ("get", "/v1/runs/{run}/explanation", None, {"analyst", "auditor", "admin", "agency"}),
    ("post", "/v1/rules/check", {"files": [{"name": "a.yaml", "text": "x: 1"}]}, {"analyst", "auditor", "admin"}),
    ("get", "/v1/audit/runs", None, {"analyst", "auditor", "admin"}),
    ("get", "/v1/audit/verify", None, {"analyst", "auditor", "admin"}),
    ("post", "/v1/audit/replay/{run}", None, {"auditor", "admin"}),
]


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize(("method", "template", "body", "allowed"), MATRIX,
                         ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_roles_decide_who_may_call_what(api: Api, dataset_id: str, run: dict, role: str, method: str,
                                        template: str, body: dict | None, allowed: set[str]) -> None:
    fill = {"{dataset}": dataset_id, "{run}": run["run_id"]}
    path = template
    for mark, value in fill.items():
        path = path.replace(mark, value)
    payload = json.loads(canonical_json(body).replace("{dataset}", dataset_id)) if body else None
    answer = api.client.request(method, path, headers=api.as_(role), json=payload)
    if role in allowed:
        assert answer.status_code not in (401, 403), answer.text
    else:
        assert_problem(answer, 403, "auth.forbidden")


def test_a_revoked_key_is_refused_at_the_next_request(tmp_path: Path) -> None:
    local = Api(tmp_path)
    try:
        assert local.client.get("/v1/audit/verify", headers=local.as_("auditor")).status_code == 200
        config = read_config(local.config_path)
        auditor = next(k for k in config.keys if k.role is Role.AUDITOR)
        write_config(local.config_path, revoke_key(config, auditor.id))
        assert_problem(local.client.get("/v1/audit/verify", headers=local.as_("auditor")), 401, "auth.required")
        assert local.client.get("/v1/audit/verify", headers=local.as_("admin")).status_code == 200
    finally:
        local.hosted.close()


# --------------------------------------------------------------------------- datasets


def test_a_json_dataset_gets_its_canonical_sha256_and_is_stored_owner_only(api: Api) -> None:
    small = load_dataset(SMALL)
    answer = api.client.post("/v1/datasets", headers=api.as_("analyst"), json=small.model_dump(mode="json"))
    assert answer.status_code == 201, answer.text
    info = answer.json()
    assert info["id"] == dataset_sha256(small)
    assert answer.headers["location"] == f"/v1/datasets/{info['id']}"
    assert (info["units"], info["positions"], info["employees"]) == (3, 4, 4)
    stored = api.hosted.store.folder / f"{info['id']}.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(api.hosted.store.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(api.hosted.data_dir.stat().st_mode) == 0o700
    again = api.client.post("/v1/datasets", headers=api.as_("admin"), json=small.model_dump(mode="json"))
    assert again.json()["id"] == info["id"]
    back = api.client.get(f"/v1/datasets/{info['id']}", headers=api.as_("analyst"))
    assert back.status_code == 200 and back.json()["employees"][0]["nip"] == small.employees[0].nip


def test_a_bad_json_dataset_gets_every_problem_with_its_record_and_field(api: Api) -> None:
    data = load_dataset(SMALL).model_dump(mode="json")
    data["employees"][1]["nip"] = "12345"
    data["positions"][0]["unit_id"] = "NOWHERE"
    document = assert_problem(api.client.post("/v1/datasets", headers=api.as_("analyst"), json=data), 422,
                              "input.invalid")
    codes = {(p["code"], p["field"]) for p in document["problems"]}
    assert ("nip.invalid", "nip") in codes or any(c == "nip.invalid" for c, _ in codes)
    assert ("ref.unknown_unit", "unit_id") in codes
    assert all(p["file"] == "dataset.json" for p in document["problems"])
    unknown = next(p for p in document["problems"] if p["code"] == "ref.unknown_unit")
    assert unknown["value"] == "NOWHERE" and unknown["record"]


def test_a_zip_of_csv_tables_and_an_xlsx_workbook_give_the_same_id(api: Api, dataset_id: str,
                                                                   tmp_path: Path) -> None:
    assert dataset_id == dataset_sha256(load_dataset(EXAMPLE))
    workbook = tmp_path / "pontianak.xlsx"
    save_dataset(load_dataset(EXAMPLE), workbook, "xlsx")
    answer = api.client.post("/v1/datasets", headers=api.as_("analyst"),
                             files={"file": ("pontianak.xlsx", workbook.read_bytes(), "application/octet-stream")})
    assert answer.status_code == 201, answer.text
    assert answer.json()["id"] == dataset_id


def _zip(entries: dict[str, bytes], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def test_a_csv_row_problem_names_the_uploaded_file_and_row(api: Api) -> None:
    tables = {f.name: f.read_bytes() for f in EXAMPLE.iterdir() if f.is_file()}
    rows = list(csv.reader(io.StringIO(tables["employees.csv"].decode())))
    rows[3][rows[0].index("birth_date")] = "31-31-1999"
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    tables["employees.csv"] = text.getvalue().encode()
    answer = api.client.post("/v1/datasets", headers=api.as_("analyst"),
                             files={"file": ("upload.zip", _zip(tables), "application/zip")})
    document = assert_problem(answer, 422, "input.invalid")
    bad = next(p for p in document["problems"] if p.get("field") == "birth_date")
    assert bad["file"] == "upload.zip/employees.csv"
    assert "4" in bad["record"] and bad["value"] == "31-31-1999"
    assert "/tmp" not in answer.text and str(api.hosted.data_dir) not in answer.text


@pytest.mark.parametrize(("archive", "code"), [
    (_zip({"../../etc/units.csv": b"id,name\n", "a/b/../../../x.csv": b"x"}), "input.invalid"),
    (_zip({f"t{i}.csv": b"x" for i in range(70)}), "input.invalid"),
    (_zip({"units.csv": b"0" * 300_000_000}), "input.invalid"),
    (_zip({"units.csv": b"id\n"}, link="employees.csv"), "input.invalid"),
    (b"PK\x03\x04 this is not a zip", "input.invalid"),
    (_zip({}), "input.invalid"),
])
def test_hostile_archives_are_refused_with_a_problem(api: Api, archive: bytes, code: str) -> None:
    answer = api.client.post("/v1/datasets", headers=api.as_("analyst"),
                             files={"file": ("upload.zip", archive, "application/zip")})
    document = assert_problem(answer, 422, code)
    assert document["problems"]
    assert not list(Path("/etc").glob("units.csv"))
    assert not list((api.hosted.data_dir / "uploads").iterdir())  # the workspace is cleaned up


def test_hostile_archive_problem_codes(api: Api) -> None:
    def codes(archive: bytes) -> set[str]:
        answer = api.client.post("/v1/datasets", headers=api.as_("analyst"),
                                 files={"file": ("u.zip", archive, "application/zip")})
        return {p["code"] for p in answer.json()["problems"]}

    assert "upload.too_many_files" in codes(_zip({f"t{i}.csv": b"x" for i in range(70)}))
    assert "upload.too_large" in codes(_zip({"units.csv": b"0" * 300_000_000}))
    assert "upload.not_a_file" in codes(_zip({"units.csv": b"id\n"}, link="employees.csv"))
    assert "upload.bad_zip" in codes(b"PK\x03\x04 not a zip")


def test_uploads_of_other_kinds_and_media_types_are_refused(api: Api) -> None:
    answer = api.client.post("/v1/datasets", headers=api.as_("analyst"),
                             files={"file": ("data.exe", b"MZ", "application/octet-stream")})
    assert assert_problem(answer, 422, "input.invalid")["problems"][0]["code"] == "upload.format"
    assert_problem(api.client.post("/v1/datasets", headers={**api.as_("analyst"), "content-type": "text/csv"},
                                   content=b"a,b"), 415, "request.media_type")
    assert_problem(api.client.post("/v1/datasets", headers=api.as_("analyst"), files={"other": ("x", b"x")}),
                   422, "request.no_file")
    document = assert_problem(api.client.post("/v1/datasets", headers={**api.as_("analyst"),
                                                                       "content-type": "application/json"},
                                              content=b"{not json"), 422, "input.invalid")
    assert document["problems"][0]["file"] == "dataset.json"


def test_a_body_over_the_limit_answers_413(tmp_path: Path) -> None:
    local = Api(tmp_path, limits={"max_body_bytes": 2048})
    try:
        answer = local.client.post("/v1/datasets", headers=local.as_("analyst"),
                                   files={"file": ("big.zip", b"x" * 10_000, "application/zip")})
        assert_problem(answer, 413, "request.too_large")

        def chunks():  # no content-length: counted while streaming
            for _ in range(10):
                yield b"x" * 1000

        answer = local.client.post("/v1/recommend", headers={**local.as_("analyst"),
                                                             "content-type": "application/json"}, content=chunks())
        assert_problem(answer, 413, "request.too_large")
    finally:
        local.hosted.close()


def test_an_agency_sees_only_its_unit_subtree_of_a_dataset(api: Api, dataset_id: str) -> None:
    full = api.client.get(f"/v1/datasets/{dataset_id}", headers=api.as_("analyst")).json()
    mine = api.client.get(f"/v1/datasets/{dataset_id}", headers=api.as_("agency")).json()
    parents = {u["id"]: u.get("parent_id") for u in full["units"]}

    def under(unit: str | None) -> bool:
        while unit is not None:
            if unit == AGENCY_UNIT:
                return True
            unit = parents.get(unit)
        return False

    assert {u["id"] for u in mine["units"]} == {u for u in parents if under(u)}
    assert {e["nip"] for e in mine["employees"]} == {e["nip"] for e in full["employees"] if under(e["unit_id"])}
    assert 0 < len(mine["employees"]) < len(full["employees"])
    assert_problem(api.client.get(f"/v1/datasets/{dataset_id}", headers=api.as_("agency_elsewhere")), 404,
                   "dataset.unknown")
    assert_problem(api.client.get(f"/v1/datasets/{'f' * 64}", headers=api.as_("analyst")), 404, "dataset.unknown")
    assert_problem(api.client.get("/v1/datasets/not-a-sha", headers=api.as_("analyst")), 422, "request.invalid")


def test_workload_of_an_agency_is_cut_to_its_units(api: Api, dataset_id: str) -> None:
    full = api.client.post("/v1/workload", headers=api.as_("analyst"), json={"dataset_id": dataset_id}).json()
    mine = api.client.post("/v1/workload", headers=api.as_("agency"), json={"dataset_id": dataset_id}).json()
    assert full["format"] == "mutasi-rules.workload/1"
    assert {u["unit_id"] for u in mine["units"]} < {u["unit_id"] for u in full["units"]}
    assert all(p["opd_id"] == AGENCY_UNIT for p in mine["positions"])


# --------------------------------------------------------------------------- runs


def test_recommend_records_the_run_and_returns_it(api: Api, run: dict, dataset_id: str) -> None:
    assert run["dataset_sha256"] == dataset_id
    assert run["moves"] == len(run["result"]["moves"]) > 0
    assert all("from" in move for move in run["result"]["moves"])  # the published alias
    again = api.client.get(f"/v1/runs/{run['run_id']}", headers=api.as_("auditor")).json()
    assert again == run
    with AuditLog(api.hosted.service.audit_path, create=False) as log:
        assert log.get(run["run_id"]).record_hash == run["record_hash"]


def test_recommend_options_are_the_clients_and_rule_files_the_hosts(api: Api, dataset_id: str) -> None:
    for forbidden in ({"rules": ["/etc"]}, {"plugins": {"explicit": ["/tmp/evil.py"]}}, {"use_plugins": True}):
        answer = api.client.post("/v1/recommend", headers=api.as_("analyst"),
                                 json={"dataset_id": dataset_id, "options": forbidden})
        document = assert_problem(answer, 422, "request.invalid")
        assert document["problems"][0]["field"].startswith("options")
    both = api.client.post("/v1/recommend", headers=api.as_("analyst"),
                           json={"dataset_id": dataset_id, "dataset": {"metadata": {}}})
    assert assert_problem(both, 422, "input.invalid")["problems"][0]["code"] == "request.dataset"
    assert_problem(api.client.post("/v1/recommend", headers=api.as_("analyst"), json={"dataset_id": "e" * 64}),
                   404, "dataset.unknown")


def test_recommend_on_an_inline_dataset_stores_it_too(api: Api) -> None:
    small = load_dataset(SMALL)
    answer = api.client.post("/v1/recommend", headers=api.as_("admin"),
                             json={"dataset": small.model_dump(mode="json"), "options": {"max_moves": 1}})
    assert answer.status_code == 201, answer.text
    assert answer.json()["dataset_sha256"] == dataset_sha256(small)
    assert dataset_sha256(small) in api.hosted.store
    assert answer.json()["result"]["run"]["options"]["max_moves"] == 1


def test_an_agency_sees_the_moves_that_touch_its_subtree(api: Api, run: dict) -> None:
    mine = api.client.get(f"/v1/runs/{run['run_id']}", headers=api.as_("agency")).json()
    touching = [m for m in run["result"]["moves"] if AGENCY_UNIT in (m["from"]["opd_id"], m["to"]["opd_id"])]
    assert mine["result"]["moves"] == touching and touching
    assert len(mine["result"]["moves"]) < len(run["result"]["moves"])
    assert all(s["position"]["opd_id"] == AGENCY_UNIT for s in mine["result"]["shortages"])
    outsider = next(m for m in run["result"]["moves"] if m not in touching)
    answer = api.client.get(f"/v1/runs/{run['run_id']}/explanation", headers=api.as_("agency"),
                            params={"nip": outsider["nip"]})
    assert_problem(answer, 404, "query.unknown_subject")
    assert_problem(api.client.get(f"/v1/runs/{run['run_id']}", headers=api.as_("agency_elsewhere")), 404,
                   "audit.unknown_run")


def test_explanations_notices_and_report(api: Api, run: dict) -> None:
    path = f"/v1/runs/{run['run_id']}"
    moved = run["result"]["moves"][0]["nip"]
    data = api.client.get(path + "/explanation", headers=api.as_("auditor"), params={"lang": "en"}).json()
    assert data["format"] == "mutasi-rules.explanation/1" and len(data["moves"]) == run["moves"]
    one = api.client.get(path + "/explanation", headers=api.as_("auditor"), params={"nip": moved}).json()
    assert one["employee"]["nip"] == moved
    markdown = api.client.get(path + "/explanation", headers=api.as_("analyst"), params={"format": "md"})
    assert markdown.headers["content-type"].startswith("text/markdown") and run["run_id"] in markdown.text
    text = api.client.get(path + "/explanation", headers=api.as_("analyst"), params={"format": "text"})
    assert text.headers["content-type"].startswith("text/plain")
    assert_problem(api.client.get(path + "/explanation", headers=api.as_("analyst"),
                                  params={"nip": "199901012020011001"}), 404, "query.unknown_subject")
    assert_problem(api.client.get(path + "/explanation", headers=api.as_("analyst"), params={"lang": "fr"}),
                   422, "request.invalid")
    notices = api.client.get(path + "/notices", headers=api.as_("analyst")).json()["notices"]
    assert len(notices) == run["moves"] and any(moved in name for name in notices)
    html = api.client.get(path + "/report", headers=api.as_("analyst"), params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "<svg" in html.text
    assert_problem(api.client.get("/v1/runs/R999999/report", headers=api.as_("analyst")), 404, "audit.unknown_run")


def test_why_not_and_an_agencys_view_of_it(api: Api, dataset_id: str, run: dict) -> None:
    dataset = load_dataset(EXAMPLE)
    unit_of = {p.id: p.unit_id for p in dataset.positions}
    opd = {u.id: (u.parent_id or u.id) for u in dataset.units}
    inside = next(e for e in dataset.employees if opd[e.unit_id] == AGENCY_UNIT)
    outside = next(e for e in dataset.employees if opd[e.unit_id] != AGENCY_UNIT)
    target = next(p for p in dataset.positions if opd[unit_of[p.id]] == AGENCY_UNIT and p.id != inside.position_id)
    query = {"dataset_id": dataset_id, "nip": inside.nip, "position_id": target.id}
    answer = api.client.post("/v1/why-not", headers=api.as_("analyst"), json=query)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["format"] == "mutasi-rules.why-not/1" and report["employee"]["nip"] == inside.nip
    assert api.client.post("/v1/why-not", headers=api.as_("agency"), json=query).json() == report
    hidden = assert_problem(api.client.post("/v1/why-not", headers=api.as_("agency"),
                                            json={**query, "nip": outside.nip}), 404, "query.unknown_subject")
    unknown = assert_problem(api.client.post("/v1/why-not", headers=api.as_("analyst"),
                                             json={**query, "nip": "199901012020011001"}), 404,
                             "query.unknown_subject")
    assert hidden["detail"].split(" is ")[1] == unknown["detail"].split(" is ")[1].split(";")[0]


# --------------------------------------------------------------------------- rules


def _rule_files(*, tests: bool) -> list[dict[str, str]]:
    return [{"name": str(f.relative_to(RULES)), "text": f.read_text(encoding="utf-8")}
            for f in sorted(RULES.rglob("*.yaml")) if tests or not f.name.endswith(".tests.yaml")]


def test_rules_check_reports_rule_sets_and_located_problems(api: Api) -> None:
    good = api.client.post("/v1/rules/check", headers=api.as_("auditor"), json={"files": _rule_files(tests=False)})
    assert good.status_code == 200 and good.json()["ok"] and good.json()["rulesets"]
    broken = _rule_files(tests=False)
    broken[0]["text"] = broken[0]["text"].replace("when: ", "when: employee.no_such_field > 1 and ", 1)
    answer = api.client.post("/v1/rules/check", headers=api.as_("analyst"), json={"files": broken}).json()
    assert not answer["ok"]
    problem = answer["problems"][0]
    assert problem["file"] == broken[0]["name"] and problem["line"] and problem["code"].startswith("rule")
    multipart = api.client.post("/v1/rules/check", headers=api.as_("analyst"),
                                files=[("files", (f["name"], f["text"].encode())) for f in _rule_files(tests=False)])
    assert multipart.status_code == 200 and multipart.json()["ok"], multipart.text
    assert_problem(api.client.post("/v1/rules/check", headers=api.as_("analyst"), json={"files": []}), 422,
                   "request.invalid")


def test_rules_test_runs_posted_cases(api: Api) -> None:
    files = _rule_files(tests=True)
    answer = api.client.post("/v1/rules/test", headers=api.as_("analyst"), json={"files": files}).json()
    assert answer["ok"] and answer["passed"] > 10 and answer["failed"] == 0
    test_file = next(f for f in files if f["name"] == "national/competency.tests.yaml")
    swapped = "fires: [rank-above-maximum]\n      not_fires: [rank-below-minimum]"
    test_file["text"] = test_file["text"].replace(
        "fires: [rank-below-minimum]\n      not_fires: [rank-above-maximum]", swapped, 1)
    assert swapped in test_file["text"]
    failing = api.client.post("/v1/rules/test", headers=api.as_("analyst"), json={"files": files}).json()
    assert not failing["ok"] and failing["failed"] >= 1
    bad = assert_problem(api.client.post("/v1/rules/test", headers=api.as_("analyst"),
                                         json={"files": _rule_files(tests=False)}), 422, "input.invalid")
    assert bad["problems"][0]["code"] == "ruletest.none"


# --------------------------------------------------------------------------- the decision log


def test_audit_list_verify_and_replay(api: Api, run: dict) -> None:
    runs = api.client.get("/v1/audit/runs", headers=api.as_("auditor")).json()
    assert run["run_id"] in [r["run_id"] for r in runs]
    verify = api.client.get("/v1/audit/verify", headers=api.as_("auditor")).json()
    assert verify["ok"] and verify["records"] == len(runs)
    replay = api.client.post(f"/v1/audit/replay/{run['run_id']}", headers=api.as_("auditor")).json()
    assert replay["identical"] and replay["verifiable"]
    assert_problem(api.client.post("/v1/audit/replay/R999999", headers=api.as_("admin")), 404, "audit.unknown_run")


def test_concurrent_recommends_keep_the_decision_log_chain(api: Api) -> None:
    body = {"dataset": load_dataset(SMALL).model_dump(mode="json")}
    before = len(api.client.get("/v1/audit/runs", headers=api.as_("auditor")).json())
    statuses: list[int] = []

    def one() -> None:
        with TestClient(api.client.app) as client:
            statuses.append(client.post("/v1/recommend", headers=api.as_("analyst"), json=body).status_code)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 8
    verify = api.client.get("/v1/audit/verify", headers=api.as_("auditor")).json()
    assert verify["ok"] and verify["records"] == before + 8


# --------------------------------------------------------------------------- failures


def test_a_request_over_the_time_limit_answers_503(tmp_path: Path) -> None:
    local = Api(tmp_path, limits={"request_timeout_seconds": 0.001})
    try:
        answer = local.client.post("/v1/recommend", headers=local.as_("analyst"),
                                   json={"dataset": load_dataset(SMALL).model_dump(mode="json")})
        assert_problem(answer, 503, "request.timeout")
    finally:
        local.hosted.close()


def test_an_unexpected_failure_is_a_500_without_its_text(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("NIP 198503122010011002 secret detail")

    monkeypatch.setattr(api.hosted, "runs", broken)
    answer = api.client.get("/v1/audit/runs", headers=api.as_("auditor"))
    assert_problem(answer, 500, "internal")
    assert "198503122010011002" not in answer.text and "secret" not in answer.text


def test_unknown_routes_and_methods_are_problem_documents(api: Api) -> None:
    assert_problem(api.client.get("/v1/nothing"), 404, "route.not_found")
    assert_problem(api.client.delete("/v1/health"), 405, "request.method_not_allowed")


def test_a_worker_process_builds_its_app_from_the_configuration_file(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from mutasi_rules.hosting.access import ENV_CONFIG
    from mutasi_rules.http.app import app_from_environment

    local = Api(tmp_path)
    local.hosted.close()
    monkeypatch.setenv(ENV_CONFIG, str(local.config_path))
    with TestClient(app_from_environment()) as client:  # the lifespan closes the hosted service at the end
        assert client.get("/v1/audit/verify", headers=local.as_("auditor")).json()["ok"]
        assert_problem(client.get("/v1/audit/verify"), 401, "auth.required")
