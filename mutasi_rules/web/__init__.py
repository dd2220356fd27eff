"""The web application for analysts and auditors: server-rendered pages over the hosted service.

Served by ``mutasi-rules serve`` at ``/`` beside the HTTP API, with the same keys and roles:
an API key logs in (the session cookie holds only a random token; see :mod:`.sessions`),
every form carries a CSRF token, and every page asks :class:`~mutasi_rules.hosting.hosted.HostedService`
for what it shows, so an ``agency`` key sees its unit subtree and an ``auditor`` key cannot
change anything, exactly as through the API. Templates are Jinja2 with autoescaping: data is
always text, never markup. Every asset is served by the app (no CDN); the pages work without
JavaScript, with labelled controls, and print cleanly (plan and explanation pages).
"""

# No "from __future__ import annotations": FastAPI reads the routes' annotations at run time.

import functools
import inspect
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.core.i18n import translate_message
from mutasi_rules.data.decisions import ReviewDecision
from mutasi_rules.errors import MutasiRulesError
from mutasi_rules.explain.charts import band_chart
from mutasi_rules.explain.explanations import outcome_text
from mutasi_rules.hosting.access import AccessDenied, Action, NotAuthenticated, Principal
from mutasi_rules.hosting.hosted import HostedService, NotFound, RunOptions
from mutasi_rules.hosting.unitscope import subtree
from mutasi_rules.problems import InputError, Problem
from mutasi_rules.web.sessions import COOKIE, LOGIN_COOKIE, Session, SessionStore
from mutasi_rules.web.texts import text

T = TypeVar("T")
STATIC = Path(__file__).parent / "static"
LANGS = ("id", "en")


class _Page(Exception):
    """An error page to show instead of the one asked for."""

    def __init__(self, status: int, key: str, detail: str = "", problems: list[Problem] | None = None) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.detail = detail
        self.problems = problems or []


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("mutasi_rules.web", "templates"),
                      autoescape=select_autoescape(["html"], default=True), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    env.filters["json"] = lambda value: canonical_json(value, indent=2)
    return env


def _num(value: Any, places: int = 2, lang: str = "id") -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        text_ = f"{value:,d}"
    else:
        text_ = f"{float(value):,.{places}f}"
    if lang == "id":  # Indonesian: 1.234,56
        text_ = text_.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text_


def install(app: FastAPI, hosted: HostedService, *, secure_cookies: bool = False,
            sessions: SessionStore | None = None) -> None:
    """Add the web pages to ``app`` (the API's app): same service, same keys, same roles."""
    env = _environment()
    store = sessions or SessionStore()
    timeout = hosted.config.limits.request_timeout_seconds
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def call(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Library work in a worker thread, within the request time limit; errors become pages."""
        try:
            with anyio.fail_after(timeout):
                return await anyio.to_thread.run_sync(functools.partial(work, *args, **kwargs),
                                                      abandon_on_cancel=True)
        except TimeoutError:
            raise _Page(503, "error", f"> {timeout:g} s") from None
        except AccessDenied:
            raise _Page(403, "forbidden") from None
        except NotFound as error:
            raise _Page(404, "not_found", str(error)) from None
        except InputError as error:
            raise _Page(422, "problems", error.what, list(error.problems)) from None
        except MutasiRulesError as error:  # e.g. a plan whose pins cannot all be made, a tampered log
            raise _Page(409, "error", str(error)[:2000]) from None

    def current(request: Request) -> tuple[Session, Principal] | None:
        session = store.get(request.cookies.get(COOKIE))
        if session is None:
            return None
        try:
            return session, hosted.authenticate(session.key)
        except (NotAuthenticated, AccessDenied):  # the key was revoked since the login
            store.close(request.cookies.get(COOKIE))
            return None

    def render(request: Request, template: str, who: tuple[Session, Principal] | None, status: int = 200,
               lang_override: str | None = None, **context: Any) -> HTMLResponse:
        lang = who[0].lang if who else (lang_override or _lang_of(request))
        page = env.get_template(template).render(
            t=lambda key, **values: text(key, lang, **values), lang=lang, request=request,
            # A message recorded in English (a problem, a warning, a difference), and an outcome code, in words.
            msg=lambda message: translate_message(message, lang), outcome=lambda code: outcome_text(code, lang),
            session=who[0] if who else None, principal=who[1] if who else None,
            may=(lambda action: who[1].may(Action(action))) if who else (lambda action: False),
            num=lambda value, places=2: _num(value, places, lang), here=_here(request), **context)
        response = HTMLResponse(page, status_code=status)
        response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; "
                                                       "style-src 'self'; script-src 'none'; frame-ancestors 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"  # pages carry personal data
        return response

    def page(handler: Callable[..., Any]) -> Callable[..., Any]:
        """Log-in required; error pages for denied, unknown and bad input; CSRF checked on POST."""

        @functools.wraps(handler)
        async def wrapped(request: Request, **kwargs: Any) -> Response:
            who = current(request)
            if who is None:
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            try:
                if request.method == "POST":
                    form = await request.form()
                    if not who[0].csrf_ok(str(form.get("csrf") or "") or None):
                        raise _Page(403, "forbidden", "CSRF")
                    kwargs["form"] = form
                return await handler(request, who, **kwargs)
            except _Page as failure:
                return render(request, "error.html", who, failure.status, failure=failure)

        # FastAPI reads the route's parameters from the signature: the request and the path.
        signature = inspect.signature(handler)
        wrapped.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[p for name, p in signature.parameters.items() if name not in ("who", "form")])
        return wrapped

    # ------------------------------------------------------------------ log in / out, language

    @app.get("/login", include_in_schema=False)
    async def login_form(request: Request, failed: bool = False, lang: str | None = None,
                         next_page: str | None = None) -> Response:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, 401 if failed else 200, login_token=token, failed=failed,
                          next=_safe_next(next_page or request.query_params.get("next")), lang_override=lang)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies,
                            path="/login")
        return response

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        token = request.cookies.get(LOGIN_COOKIE)
        if not token or not secrets.compare_digest(str(form.get("login_token") or ""), token):
            return RedirectResponse("/login", status_code=303)
        key = str(form.get("key") or "").strip()
        lang = str(form.get("lang") or "")
        lang = lang if lang in LANGS else _lang_of(request)
        try:
            hosted.authenticate(key)
        except (NotAuthenticated, AccessDenied):
            return await login_form(request, failed=True, lang=lang, next_page=str(form.get("next") or ""))
        session_token, _ = store.open(key, lang)
        response = RedirectResponse(_safe_next(str(form.get("next") or "")), status_code=303)
        response.set_cookie(COOKIE, session_token, httponly=True, samesite="strict", secure=secure_cookies, path="/")
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @app.post("/logout", include_in_schema=False)
    @page
    async def logout(request: Request, who: tuple[Session, Principal], form: Any) -> Response:
        store.close(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.post("/language", include_in_schema=False)
    @page
    async def language(request: Request, who: tuple[Session, Principal], form: Any) -> Response:
        lang = str(form.get("lang") or "id")
        who[0].lang = lang if lang in LANGS else "id"
        return RedirectResponse(_safe_next(str(form.get("next") or "")), status_code=303)

    # ------------------------------------------------------------------ home, datasets, workload

    @app.get("/", include_in_schema=False)
    @page
    async def home(request: Request, who: tuple[Session, Principal]) -> Response:
        datasets = await call(hosted.datasets, who[1])
        runs = await call(hosted.recorded_runs, who[1])
        return render(request, "home.html", who, datasets=datasets, runs=runs)

    @app.post("/datasets", include_in_schema=False)
    @page
    async def upload(request: Request, who: tuple[Session, Principal], form: Any) -> Response:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise _Page(422, "problems", "", [Problem(code="request.no_file", message="no file was chosen",
                                                      field="file")])
        info = await call(hosted.add_dataset, who[1], await upload.read(), upload.filename)
        return RedirectResponse(f"/datasets/{info.id}", status_code=303)

    @app.get("/datasets/{dataset_id}", include_in_schema=False)
    @page
    async def dataset_page(request: Request, who: tuple[Session, Principal], dataset_id: str) -> Response:
        dataset = await call(hosted.dataset, who[1], _dataset_id(dataset_id))
        report = await call(hosted.workload, who[1], dataset_id=dataset_id)
        opds = sorted(report.opd_units(), key=lambda u: (u.name, u.unit_id))
        chart = band_chart(opds, report.balance.band_low, report.balance.band_high)
        return render(request, "dataset.html", who, dataset_id=dataset_id, dataset=dataset, report=report,
                      opds=opds, chart=chart)

    @app.get("/datasets/{dataset_id}/units/{unit_id}", include_in_schema=False)
    @page
    async def unit_page(request: Request, who: tuple[Session, Principal], dataset_id: str, unit_id: str) -> Response:
        report = await call(hosted.workload, who[1], dataset_id=_dataset_id(dataset_id))
        unit = report.unit(unit_id)
        if unit is None:
            raise _Page(404, "not_found", unit_id)
        inside = subtree(unit_id, {u.unit_id: u.parent_id for u in report.units})
        units = [u for u in report.units if u.unit_id in inside]
        positions = [p for p in report.positions if p.unit_id in inside]
        return render(request, "unit.html", who, dataset_id=dataset_id, report=report, unit=unit, units=units,
                      positions=positions)

    @app.post("/datasets/{dataset_id}/recommend", include_in_schema=False)
    @page
    async def recommend(request: Request, who: tuple[Session, Principal], dataset_id: str, form: Any) -> Response:
        raw = str(form.get("max_moves") or "").strip()
        if raw and not raw.isdigit():
            raise _Page(422, "problems", "", [Problem(code="request.max_moves", field="max_moves", value=raw,
                                                      message="a whole number of 0 or more")])
        options = RunOptions(max_moves=int(raw) if raw else None)
        view = await call(hosted.recommend, who[1], dataset_id=_dataset_id(dataset_id), options=options)
        return RedirectResponse(f"/runs/{view.run_id}", status_code=303)

    @app.post("/datasets/{dataset_id}/scenario", include_in_schema=False)
    @page
    async def scenario(request: Request, who: tuple[Session, Principal], dataset_id: str, form: Any) -> Response:
        upload = form.get("scenario")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise _Page(422, "problems", "", [Problem(code="request.no_file", message="no file was chosen",
                                                      field="scenario")])
        raw = await upload.read()
        try:
            text_ = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _Page(422, "problems", "", [Problem(code="file.encoding", file=upload.filename,
                                                      message="a scenario file is UTF-8 text (YAML)")]) from None
        report = await call(hosted.scenario, who[1], _dataset_id(dataset_id), text_, upload.filename)
        return render(request, "scenario.html", who, dataset_id=dataset_id, report=report)

    @app.get("/datasets/{dataset_id}/why-not", include_in_schema=False)
    @page
    async def why_not(request: Request, who: tuple[Session, Principal], dataset_id: str) -> Response:
        dataset = await call(hosted.dataset, who[1], _dataset_id(dataset_id))
        nip = request.query_params.get("nip") or ""
        position = request.query_params.get("position") or ""
        report = None
        if nip and position:
            report = await call(hosted.why_not, who[1], dataset_id=dataset_id, nip=nip, position_id=position)
        return render(request, "whynot.html", who, dataset_id=dataset_id, dataset=dataset, nip=nip,
                      position=position, report=report)

    # ------------------------------------------------------------------ runs

    @app.get("/runs/{run_id}", include_in_schema=False)
    @page
    async def run_page(request: Request, who: tuple[Session, Principal], run_id: str) -> Response:
        view = await call(hosted.run, who[1], run_id)
        reviews = await call(hosted.reviews, who[1], view.run_id)
        dataset = await call(hosted.dataset, who[1], view.dataset_sha256) if who[1].may(Action.REVIEW) else None
        return render(request, "run.html", who, view=view, result=view.result, reviews=reviews, dataset=dataset)

    @app.post("/runs/{run_id}/review", include_in_schema=False)
    @page
    async def review(request: Request, who: tuple[Session, Principal], run_id: str, form: Any) -> Response:
        try:
            decision = ReviewDecision.model_validate({
                "action": str(form.get("action") or ""), "nip": str(form.get("nip") or "") or None,
                "position": str(form.get("position") or "") or None, "reason": str(form.get("reason") or ""),
                "reviewer": str(form.get("reviewer") or ""), "date": str(form.get("date") or "")})
        except ValidationError as error:
            raise _Page(422, "problems", "", [
                Problem(code="decision.invalid", field=".".join(str(p) for p in e["loc"]) or None,
                        message=e["msg"], value=str(e.get("input"))[:200]) for e in error.errors()]) from None
        await call(hosted.review, who[1], run_id, [decision])
        return RedirectResponse(f"/runs/{run_id}#review", status_code=303)

    @app.post("/runs/{run_id}/replan", include_in_schema=False)
    @page
    async def replan(request: Request, who: tuple[Session, Principal], run_id: str, form: Any) -> Response:
        view = await call(hosted.replan, who[1], run_id)
        return RedirectResponse(f"/runs/{view.run_id}/diff/{run_id}", status_code=303)

    @app.get("/runs/{run_id}/diff/{other}", include_in_schema=False)
    @page
    async def diff_page(request: Request, who: tuple[Session, Principal], run_id: str, other: str) -> Response:
        found = await call(hosted.diff, who[1], other, run_id)  # from the other (earlier) run to this one
        return render(request, "diff.html", who, diff=found, run_id=run_id, other=other)

    @app.get("/runs/{run_id}/plan.xlsx", include_in_schema=False)
    @page
    async def workbook_download(request: Request, who: tuple[Session, Principal], run_id: str) -> Response:
        data = await call(hosted.plan_workbook, who[1], run_id, lang=who[0].lang)
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="rencana-{_file_part(run_id)}.xlsx"',
                                 "Cache-Control": "no-store"})

    @app.get("/runs/{run_id}/notices.zip", include_in_schema=False)
    @page
    async def notices_download(request: Request, who: tuple[Session, Principal], run_id: str) -> Response:
        data = await call(hosted.notices_docx, who[1], run_id, lang=who[0].lang)
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="surat-{_file_part(run_id)}.zip"',
            "Cache-Control": "no-store"})

    @app.get("/runs/{run_id}/people/{nip}", include_in_schema=False)
    @page
    async def person_page(request: Request, who: tuple[Session, Principal], run_id: str, nip: str) -> Response:
        view = await call(hosted.run, who[1], run_id)
        explanation = await call(hosted.explanation, who[1], run_id, lang=who[0].lang, nip=nip, fmt="json")
        move = next((m for m in view.result.moves if m.nip == nip), None)
        return render(request, "person.html", who, view=view, result=view.result, move=move, nip=nip,
                      explanation=explanation)

    @app.get("/runs/{run_id}/report.html", include_in_schema=False)
    @page
    async def report_download(request: Request, who: tuple[Session, Principal], run_id: str) -> Response:
        html = await call(hosted.report, who[1], run_id, lang=who[0].lang, fmt="html")
        return Response(html, media_type="text/html; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="laporan-{_file_part(run_id)}.html"',
            "Cache-Control": "no-store"})

    @app.get("/runs/{run_id}/result.json", include_in_schema=False)
    @page
    async def result_download(request: Request, who: tuple[Session, Principal], run_id: str) -> Response:
        view = await call(hosted.run, who[1], run_id)
        return Response(view.result.to_json(indent=2) + "\n", media_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="rencana-{_file_part(view.run_id)}.json"',
            "Cache-Control": "no-store"})

    # ------------------------------------------------------------------ audit

    @app.get("/audit", include_in_schema=False)
    @page
    async def audit_page(request: Request, who: tuple[Session, Principal]) -> Response:
        runs = await call(hosted.runs, who[1])
        return render(request, "audit.html", who, runs=runs, verified=None, replayed=None)

    @app.post("/audit/verify", include_in_schema=False)
    @page
    async def audit_verify(request: Request, who: tuple[Session, Principal], form: Any) -> Response:
        runs = await call(hosted.runs, who[1])
        verified = await call(hosted.verify, who[1])
        return render(request, "audit.html", who, runs=runs, verified=verified, replayed=None)

    @app.post("/audit/replay/{run_id}", include_in_schema=False)
    @page
    async def audit_replay(request: Request, who: tuple[Session, Principal], run_id: str, form: Any) -> Response:
        runs = await call(hosted.runs, who[1])
        replayed = await call(hosted.replay, who[1], run_id)
        return render(request, "audit.html", who, runs=runs, verified=None, replayed=replayed)


def _lang_of(request: Request) -> str:
    lang = request.query_params.get("lang", "")
    if lang in LANGS:
        return lang
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "id"


def _here(request: Request) -> str:
    """Where the language switch returns to: this page, or for a page shown by a form, the form's page."""
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return _safe_next(request.url.path + query)
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return _safe_next(referer[len(origin):]) if referer.startswith(origin + "/") else "/"


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host, no '//'): a login never redirects elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _dataset_id(value: str) -> str:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise _Page(404, "not_found", value[:80])
    return value


def _file_part(value: str) -> str:
    return "".join(c for c in value if c.isalnum() or c in "-_")[:80] or "run"


__all__ = ["install"]
