"""The web application through the test client: sessions, CSRF, roles, scoping and escaping.

The real-browser path is tests/test_web_browser.py; these pin the security properties one by one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from test_http import Api, pontianak_zip

from mutasi_rules.data.loading import load_dataset, save_dataset
from mutasi_rules.hosting.access import read_config, revoke_key, write_config

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SMALL = Path(__file__).resolve().parent / "data" / "good" / "small.yaml"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Api:
    service = Api(tmp_path_factory.mktemp("web"))
    yield service
    service.hosted.close()


@pytest.fixture(scope="module")
def run(api: Api) -> tuple[str, str]:
    analyst = api.hosted.authenticate(api.keys["analyst"])
    info = api.hosted.add_dataset(analyst, pontianak_zip(), "pontianak.zip")
    view = api.hosted.recommend(analyst, dataset_id=info.id)
    return info.id, view.run_id


def login(api: Api, role: str, *, next_page: str = "/") -> str:
    """Log the test client in with ``role``'s key; the session's CSRF token."""
    api.client.cookies.clear()
    form = api.client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
    answer = api.client.post("/login", data={"key": api.keys[role], "login_token": token, "next": next_page},
                             follow_redirects=False)
    assert answer.status_code == 303, answer.text
    home = api.client.get("/")
    return re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)


def test_pages_need_a_login_and_the_session_cookie_holds_no_key(api):
    api.client.cookies.clear()
    for path in ("/", "/audit", "/datasets/" + "0" * 64, "/runs/R000001"):
        answer = api.client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    form = api.client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
    answer = api.client.post("/login", data={"key": api.keys["analyst"], "login_token": token},
                             follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert api.keys["analyst"] not in cookie


def test_a_login_without_the_forms_token_is_refused(api):
    api.client.cookies.clear()
    answer = api.client.post("/login", data={"key": api.keys["analyst"], "login_token": "forged"},
                             follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert "mutasi_session" not in answer.headers.get("set-cookie", "")


def test_a_wrong_key_gets_the_login_page_again(api):
    api.client.cookies.clear()
    form = api.client.get("/login?lang=en")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
    answer = api.client.post("/login", data={"key": "nope", "login_token": token, "lang": "en"})
    assert answer.status_code == 401 and "Unknown or revoked key." in answer.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_login_never_redirects_off_the_site(api, target):
    api.client.cookies.clear()
    form = api.client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
    answer = api.client.post("/login", data={"key": api.keys["analyst"], "login_token": token, "next": target},
                             follow_redirects=False)
    assert answer.headers["location"] == "/"


def test_every_form_post_needs_the_sessions_csrf_token(api, run):
    dataset_id, _ = run
    login(api, "analyst")
    for path in (f"/datasets/{dataset_id}/recommend", "/audit/verify", "/language", "/logout"):
        answer = api.client.post(path, data={"csrf": "forged"}, follow_redirects=False)
        assert answer.status_code == 403, path
    assert api.client.get("/", follow_redirects=False).status_code == 200  # still logged in


def test_an_auditor_reads_but_cannot_upload_or_run(api, run):
    dataset_id, run_id = run
    csrf = login(api, "auditor")
    assert api.client.get(f"/runs/{run_id}").status_code == 200
    assert 'action="/datasets"' not in api.client.get("/").text
    answer = api.client.post("/datasets", data={"csrf": csrf}, files={"file": ("p.zip", pontianak_zip())})
    assert answer.status_code == 403
    answer = api.client.post(f"/datasets/{dataset_id}/recommend", data={"csrf": csrf})
    assert answer.status_code == 403
    assert api.client.post("/audit/verify", data={"csrf": csrf}).status_code == 200


def test_an_agency_sees_its_unit_subtree_and_nothing_else(api, run):
    dataset_id, run_id = run
    login(api, "agency")
    page = api.client.get(f"/datasets/{dataset_id}")
    assert page.status_code == 200 and "Dinas Kesehatan" in page.text and "Dinas Perhubungan" not in page.text
    assert api.client.get(f"/datasets/{dataset_id}/units/dishub").status_code == 404
    assert api.client.get("/audit").status_code == 403
    plan = api.client.get(f"/runs/{run_id}")
    assert plan.status_code == 200
    outside = [m.nip for m in api.hosted.run(api.hosted.authenticate(api.keys["analyst"]), run_id).result.moves
               if "dinkes" not in (m.from_.opd_id, m.to.opd_id)]
    assert outside and not any(nip in plan.text for nip in outside)
    assert api.client.get(f"/runs/{run_id}/people/{outside[0]}").status_code == 404
    login(api, "agency_elsewhere")
    assert api.client.get(f"/datasets/{dataset_id}").status_code == 404


def test_a_revoked_key_ends_its_sessions(api, run):
    login(api, "admin")
    assert api.client.get("/", follow_redirects=False).status_code == 200
    config = read_config(api.config_path)
    key_id = next(k.id for k in config.keys if k.name == "test admin")
    write_config(api.config_path, revoke_key(config, key_id))
    api.hosted.keys.refresh()
    answer = api.client.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_upload_problems_are_listed_with_file_row_field_and_nothing_is_stored(api, tmp_path):
    csrf = login(api, "analyst")
    before = len(api.hosted.store.ids())
    broken = load_dataset(SMALL).model_dump(mode="json")
    broken["employees"][0]["position_id"] = "NO.SUCH.POST"
    broken["employees"][1]["birth_date"] = "1990-13-40"
    answer = api.client.post("/datasets", data={"csrf": csrf},
                             files={"file": ("broken.json", __import__("json").dumps(broken).encode())})
    assert answer.status_code == 422
    assert "ref.unknown_position" in answer.text and "NO.SUCH.POST" in answer.text and "birth_date" in answer.text
    assert len(api.hosted.store.ids()) == before
    # The problems are shown in the reader's language, from the one catalogue (recorded in English).
    from test_language import english_in

    cells = re.findall(r'<td>([^<]*) <span class="code">', answer.text)
    assert cells and "kesalahan" in answer.text
    assert not english_in(" ".join(cells)), english_in(" ".join(cells))


def test_a_candidates_outcome_is_shown_in_words(api, run):
    login(api, "analyst")
    page = api.client.get(f"/runs/{run[1]}").text
    assert "): dipilih — " in page and "): chosen — " not in page


def test_data_is_text_never_markup(api, tmp_path):
    csrf = login(api, "analyst")
    data = load_dataset(SMALL).model_dump(mode="json")
    data["metadata"]["name"] = '<script>alert("x")</script>'
    data["employees"][0]["name"] = '"><img src=x onerror=alert(1)>'
    path = tmp_path / "hostile.json"
    save_dataset(type(load_dataset(SMALL)).model_validate(data), path, "json")
    answer = api.client.post("/datasets", data={"csrf": csrf}, files={"file": ("hostile.json", path.read_bytes())},
                             follow_redirects=False)
    dataset_page = api.client.get(answer.headers["location"])
    home = api.client.get("/")
    for page in (dataset_page.text, home.text):
        assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "script-src 'none'" in dataset_page.headers["content-security-policy"]


def test_a_surge_scenario_is_compared_side_by_side_with_its_training_plan(api, run):
    dataset_id, _ = run
    csrf = login(api, "analyst")
    example = Path(__file__).resolve().parent.parent / "examples" / "pontianak"
    scenario = example / "scenarios" / "vaksinasi-lonjakan.yaml"
    answer = api.client.post(f"/datasets/{dataset_id}/scenario", data={"csrf": csrf},
                             files={"scenario": (scenario.name, scenario.read_bytes())})
    assert answer.status_code == 200, answer.text[:2000]
    assert "Dinas Kesehatan" in answer.text and "Rencana pelatihan (skenario)" in answer.text
    assert "Pelatihan Vaksinator" in answer.text
    broken = api.client.post(f"/datasets/{dataset_id}/scenario", data={"csrf": csrf},
                             files={"scenario": ("bad.yaml", b"name: x\nchanges:\n  - scale: banyak\n")})
    assert broken.status_code == 422 and "bad.yaml" in broken.text
    login(api, "auditor")
    assert "Bandingkan" not in api.client.get(f"/datasets/{dataset_id}").text


def test_every_page_has_a_short_plain_title(api, run):
    dataset_id, run_id = run
    login(api, "analyst")
    nip = api.hosted.run(api.hosted.authenticate(api.keys["analyst"]), run_id).result.moves[0].nip
    for path in ("/", f"/datasets/{dataset_id}", f"/datasets/{dataset_id}/units/dinkes", f"/runs/{run_id}",
                 f"/runs/{run_id}/people/{nip}", f"/datasets/{dataset_id}/why-not", "/audit"):
        page = api.client.get(path).text
        title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
        assert len(title) < 120 and "&lt;" not in title and "\n" not in title.strip(), (path, title[:200])


def test_the_dataset_page_draws_a_bar_per_agency_as_long_as_its_ej(api, run):
    """The bars (mutasi_rules.explain.charts.band_chart) show every OPD, in name order, scaled alike."""
    dataset_id, _ = run
    login(api, "analyst")
    page = api.client.get(f"/datasets/{dataset_id}").text
    report = api.hosted.workload(api.hosted.authenticate(api.keys["analyst"]), dataset_id=dataset_id)
    opds = sorted(report.opd_units(), key=lambda u: (u.name, u.unit_id))
    rows = re.findall(r'<span class="bar-label" title="([^"]*)">.*?</span>\s*<svg class="bar-track"[^>]*>'
                      r'<rect class="band" x="([\d.]+)" y="0" width="([\d.]+)"[^>]*></rect>'
                      r'(?:<rect class="bar (\w+)" x="0" y="2" width="([\d.]+)")?', page, re.S)
    assert [name for name, *_ in rows] == [u.name for u in opds]
    band = report.balance
    lengths = {}
    for (_name, band_x, band_width, side, width), unit in zip(rows, opds, strict=True):
        assert float(band_x) / float(band_width) == pytest.approx(band.band_low / (band.band_high - band.band_low),
                                                                   rel=1e-3)
        if unit.ej is None:
            assert not width
            continue
        lengths[unit.unit_id] = float(width) / unit.ej
        assert side == ("high" if unit.ej > band.band_high else "low" if unit.ej < band.band_low else "ok")
    assert len(lengths) > 10 and max(lengths.values()) == pytest.approx(min(lengths.values()), rel=1e-3)
