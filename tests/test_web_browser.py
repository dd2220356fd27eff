"""The web application in a real browser: Debian's chromium, driven by Playwright, against uvicorn on 127.0.0.1.

One path through the whole job as an analyst would take it (log in, upload the example,
workload, drill into a unit, plan, one explanation, why-not, audit verification, the report
download), then the agency and auditor restrictions, and hostile names shown as text. Each
step saves a screenshot (``MUTASI_RULES_SCREENSHOTS=DIR`` keeps them; the README's come from
``docs/screenshots``). ``make test`` installs chromium when it is missing; in CI a missing
browser fails the test rather than skipping it.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
playwright_api = pytest.importorskip("playwright.sync_api")

from test_http import Api, pontianak_zip  # noqa: E402

from mutasi_rules.data.loading import load_dataset, save_dataset  # noqa: E402
from mutasi_rules.http import create_app  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SMALL = Path(__file__).resolve().parent / "data" / "good" / "small.yaml"
# Flags for a closed network and a root sandbox (the test machines run as root).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _browser_missing() -> bool:
    if os.path.exists(CHROMIUM):
        return False
    if os.environ.get("CI"):
        pytest.fail(f"chromium is not installed at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    return True


class Server:
    """uvicorn serving the app on 127.0.0.1 (a free port) in a thread; stops when the test ends."""

    def __init__(self, app: object) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Api]]:
    if _browser_missing():
        pytest.skip(f"no chromium at {CHROMIUM}")
    api = Api(tmp_path_factory.mktemp("web"))
    with Server(create_app(api.hosted)) as url:
        yield url, api
    api.hosted.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if _browser_missing():
        pytest.skip(f"no chromium at {CHROMIUM}")
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


class Shots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.keep = Path(os.environ["MUTASI_RULES_SCREENSHOTS"]) if os.environ.get("MUTASI_RULES_SCREENSHOTS") else None

    def __call__(self, page: object, name: str) -> None:
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)  # type: ignore[attr-defined]
        assert path.stat().st_size > 1000
        if self.keep is not None:
            self.keep.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, self.keep / path.name)


def _login(page: object, url: str, key: str) -> None:
    page.goto(f"{url}/login?lang=id")  # type: ignore[attr-defined]
    page.get_by_label("Kunci API").fill(key)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Masuk").click()  # type: ignore[attr-defined]


def test_an_analyst_does_the_whole_job_in_the_browser(site, browser, tmp_path):
    url, api = site
    shots = Shots(tmp_path)
    context = browser.new_context(viewport={"width": 1366, "height": 800}, accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(url + "/")
    assert "/login" in page.url  # not logged in: the login page, nothing else
    shots(page, "01-login")
    _login(page, url, "wrong-key")
    assert page.get_by_role("alert").inner_text().startswith("Kunci tidak dikenal")
    _login(page, url, api.keys["analyst"])
    cookie = next(c for c in context.cookies() if c["name"] == "mutasi_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert api.keys["analyst"] not in cookie["value"]

    upload = tmp_path / "pontianak.zip"
    upload.write_bytes(pontianak_zip())
    page.get_by_label("Berkas").set_input_files(str(upload))
    page.get_by_role("button", name="Kirim").click()
    page.wait_for_url("**/datasets/*")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Kota Pontianak")
    assert page.get_by_role("link", name="Dinas Kesehatan", exact=True).is_visible()
    shots(page, "02-workload")

    page.get_by_role("link", name="Dinas Kesehatan", exact=True).click()
    assert page.get_by_role("heading", name="Rincian jabatan").is_visible()
    shots(page, "03-unit")
    page.go_back()

    page.get_by_role("button", name="Buat rekomendasi mutasi").click()
    page.wait_for_url("**/runs/R*")
    run_url = page.url
    moves = page.locator("table.data").first.locator("tbody tr")
    assert moves.count() >= 1
    shots(page, "04-plan")

    conditional = page.locator("table.data").first.locator("tbody tr", has_text="bersyarat pelatihan").first
    conditional.get_by_role("link", name="Mengapa?").click()  # a move with rules that fired: training first
    page.wait_for_url("**/people/*")
    assert page.get_by_text("Dasar hukum").first.is_visible()
    assert page.get_by_text("Pelatihan Vaksinator").first.is_visible()
    shots(page, "05-explanation")

    page.goto(run_url)
    with page.expect_download() as download:
        page.get_by_role("link", name="Laporan untuk kepala daerah (HTML)").click()
    report = download.value.path()
    assert report is not None and b"<html" in Path(report).read_bytes()[:2000].lower()

    with page.expect_download() as download:
        page.get_by_role("link", name="Rencana (Excel)").click()
    workbook = Path(download.value.path()).read_bytes()
    assert workbook[:2] == b"PK"  # an xlsx is a zip

    # Review: reject one move, re-plan, and see the difference with the reason.
    rejected = moves.first.locator("td").first.inner_text()
    target = api.hosted.run(api.hosted.authenticate(api.keys["analyst"]), run_url.rsplit("/", 1)[1]).result
    post = next(m.to.position_id for m in target.moves if m.nip == rejected)
    page.get_by_label("Tindakan").select_option("reject")
    page.get_by_label("NIP").select_option(index=1)
    page.locator("#review-nip").select_option(rejected)
    page.locator("#review-position").select_option(post)
    page.get_by_label("Alasan").fill("Dibutuhkan di unit asal sampai akhir tahun anggaran")
    page.get_by_label("Peninjau").fill("Baperjakat Kota Pontianak")
    page.get_by_role("button", name="Catat keputusan").click()
    assert page.locator("#review table.data tbody tr").count() == 1
    shots(page, "07a-review")
    page.get_by_role("button", name="Susun ulang rencana").click()
    page.wait_for_url("**/diff/*")
    assert page.get_by_role("heading", name="Perbedaan rencana").is_visible()
    assert rejected in page.locator("table.data").inner_text()
    shots(page, "07b-diff")

    dataset_url = page.url  # the run page links back through the home page
    page.get_by_role("link", name="Beranda").click()
    page.get_by_role("link", name="Kota Pontianak", exact=False).first.click()
    page.get_by_role("link", name="Mengapa tidak?").click()
    page.get_by_label("NIP").select_option("197601222004071001")
    page.get_by_label("Jabatan").select_option("sdn-01-selatan.guru-sd-pertama")
    page.get_by_role("button", name="Tanyakan").click()
    assert page.locator(".verdict").inner_text() in ("Memenuhi syarat", "Tidak memenuhi syarat")
    shots(page, "06-why-not")

    page.get_by_role("link", name="Audit").click()
    page.get_by_role("button", name="Periksa rantai hash").click()
    assert page.get_by_role("status").inner_text().startswith("Rantai utuh")
    shots(page, "07-audit")

    page.get_by_label("Bahasa").select_option("en")
    page.get_by_role("button", name="OK").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Audit"
    assert page.get_by_role("button", name="Verify the hash chain").is_visible()

    page.get_by_role("button", name="Log out").click()
    page.goto(run_url)
    assert "/login" in page.url and dataset_url
    assert dialogs == []
    context.close()


def test_agency_and_auditor_keys_see_and_do_only_what_their_role_allows(site, browser, tmp_path):
    url, api = site
    shots = Shots(tmp_path)
    # The analyst's run above may not exist when this test runs alone: make one through the service.
    info = api.hosted.add_dataset(api.hosted.authenticate(api.keys["analyst"]), pontianak_zip(), "p.zip")
    run = api.hosted.recommend(api.hosted.authenticate(api.keys["analyst"]), dataset_id=info.id)

    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    _login(page, url, api.keys["agency"])
    assert page.get_by_role("heading", name="Unggah data").count() == 0  # no uploads for an agency
    page.goto(f"{url}/runs/{run.run_id}")
    shown = {cell.inner_text() for cell in page.locator("table.data").first.locator("tbody tr td:first-child").all()}
    touching = {m.nip for m in run.result.moves if "dinkes" in (m.from_.opd_id, m.to.opd_id)}
    assert shown == touching and 0 < len(shown) < len(run.result.moves)  # only the moves that touch its OPD
    shots(page, "08-agency-plan")
    page.goto(f"{url}/audit")
    assert page.get_by_role("heading", name="Peran Anda tidak mengizinkan tindakan ini.").is_visible()
    context.close()

    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    _login(page, url, api.keys["auditor"])
    page.goto(f"{url}/runs/{run.run_id}")
    assert page.locator("table.data").first.locator("tbody tr").count() == len(run.result.moves)
    assert page.get_by_role("button", name="Catat keputusan").count() == 0  # an auditor does not review
    page.goto(f"{url}/datasets/{info.id}")
    assert page.get_by_role("button", name="Buat rekomendasi mutasi").count() == 0
    page.goto(f"{url}/audit")
    page.get_by_role("button", name=f"Ulangi keputusan {run.run_id}").click()
    assert "identik" in page.get_by_role("status").inner_text()
    shots(page, "09-auditor-replay")
    context.close()


def test_hostile_names_are_shown_as_text_on_every_page(site, browser, tmp_path):
    url, api = site
    hostile = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>']
    dataset = load_dataset(SMALL)
    data = dataset.model_dump(mode="json")
    data["metadata"]["name"] = hostile[0]
    data["units"][0]["name"] = hostile[1]
    for i, employee in enumerate(data["employees"]):
        employee["name"] = hostile[i % 2]
    path = tmp_path / "hostile.json"
    save_dataset(type(dataset).model_validate(data), path, "json")
    analyst = api.hosted.authenticate(api.keys["analyst"])
    info = api.hosted.add_dataset(analyst, path.read_bytes(), "hostile.json")
    run = api.hosted.recommend(analyst, dataset_id=info.id)

    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _login(page, url, api.keys["analyst"])
    nip = data["employees"][0]["nip"]
    for path_ in ("/", f"/datasets/{info.id}", f"/datasets/{info.id}/units/{data['units'][0]['id']}",
                  f"/runs/{run.run_id}", f"/runs/{run.run_id}/people/{nip}",
                  f"/datasets/{info.id}/why-not?nip={nip}&position={data['positions'][0]['id']}", "/audit"):
        page.goto(url + path_)
        assert page.locator("img").count() == 0 and page.locator("main script").count() == 0, path_
    page.goto(url + f"/datasets/{info.id}")
    assert hostile[0] in page.get_by_role("heading", level=1).inner_text()
    assert hostile[1] in page.locator("main").inner_text()
    assert dialogs == []
    context.close()
