"""RFC 9457 problem documents: every error the HTTP API answers, and nothing else.

A library error (:class:`~mutasi_rules.errors.MutasiRulesError`) keeps its stable ``code``
(``input.invalid``, ``audit.unknown_run``, ``plugin.failed``…) and ``kind``, as the command
line's JSON problem document (:class:`~mutasi_rules.problems.ErrorReport`) has them; the kind
decides the HTTP status (:data:`STATUS_OF_KIND`). Bad input carries every
:class:`~mutasi_rules.problems.Problem` with its file, row, field and value. A server-side
failure (5xx) says what kind of failure it was and nothing more: no traceback, exception text
or server path ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from mutasi_rules.audit.log import ReplayError
from mutasi_rules.errors import MutasiRulesError, summary
from mutasi_rules.hosting.access import AccessDenied, NotAuthenticated
from mutasi_rules.problems import ErrorReport, LocalizedSummary, Problem

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:mutasi-rules:problem:"
log = logging.getLogger("mutasi_rules.http")

#: HTTP status of each kind of library error.
STATUS_OF_KIND: dict[str, int] = {"input": 422, "query": 404, "usage": 400, "plugin": 500, "engine": 500,
                                  "audit": 500, "io": 500, "failure": 500}


class ProblemDocument(BaseModel):
    """An error answer (RFC 9457), with the library's problem code and the input problems found."""

    type: str = Field(description="urn:mutasi-rules:problem:<code>")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path")
    code: str = Field(description="Stable machine-readable kind, e.g. 'input.invalid', 'audit.unknown_run'")
    kind: str | None = Field(default=None, description="Library errors: input, query, usage, plugin, engine, "
                                                       "audit, io or failure (as the CLI's exit codes)")
    message: LocalizedSummary | None = Field(default=None, description="Library errors: the kind, in both languages")
    context: dict[str, str] = Field(default_factory=dict, description="What a failure is about: plugin, hook")
    problems: list[Problem] = Field(default_factory=list, description="Every input problem, with file/row/field")


class ApiProblem(Exception):
    """Raised by a route to answer with a problem document."""

    def __init__(self, status: int, code: str, title: str, detail: str | None = None,
                 problems: list[Problem] | None = None, headers: dict[str, str] | None = None, *,
                 kind: str | None = None, message: LocalizedSummary | None = None,
                 context: dict[str, str] | None = None) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.problems = problems or []
        self.headers = headers
        self.kind = kind
        self.message = message
        self.context = context or {}


def problem_response(request: Request, problem: ApiProblem) -> JSONResponse:
    document = ProblemDocument(type=TYPE_PREFIX + problem.code, title=problem.title, status=problem.status,
                               detail=problem.detail, instance=request.url.path, code=problem.code,
                               kind=problem.kind, message=problem.message, context=problem.context,
                               problems=problem.problems)
    return JSONResponse(document.model_dump(mode="json", exclude_none=True), status_code=problem.status,
                        media_type=MEDIA_TYPE, headers=problem.headers)


def status_of(error: MutasiRulesError) -> int:
    if isinstance(error, NotAuthenticated):
        return 401
    if isinstance(error, AccessDenied):
        return 403
    if isinstance(error, ReplayError):
        return 409  # the run is fine; this server lacks a plugin it used
    return STATUS_OF_KIND[error.kind]


def library_problem(error: MutasiRulesError) -> ApiProblem:
    """The problem document of a library error: its code, kind and problems; no internals on a 5xx."""
    report = ErrorReport.of(error)
    status = status_of(error)
    detail = report.detail if status < 500 else "the server's operators have the details"
    return ApiProblem(status, report.code, report.message.en, detail, list(report.problems),
                      {"WWW-Authenticate": "Bearer"} if status == 401 else None, kind=report.kind,
                      message=report.message, context=report.context)


def _plain(value: Any) -> Any:
    """A request value safe to echo: scalars only, long text cut."""
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:200] + "…"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return None


def _validation_problems(error: RequestValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        where = location[0] if location else "body"
        problems.append(Problem(code="request.invalid", message=str(item.get("msg", "invalid")),
                                record=f"request {where}", field=".".join(location[1:]) or None,
                                value=_plain(item.get("input"))))
    return problems


_HTTP_CODES = {400: "request.bad", 404: "route.not_found", 405: "request.method_not_allowed",
               413: "request.too_large", 415: "request.media_type"}


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into a problem document."""

    @app.exception_handler(ApiProblem)
    async def on_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(request, ApiProblem(422, "request.invalid", "The request does not fit the API",
                                                    "see problems", _validation_problems(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")
        raw: object = exc.detail  # FastAPI's HTTPException (a subclass) takes any detail
        detail = raw if isinstance(raw, str) else None
        return problem_response(request, ApiProblem(exc.status_code, code, detail or "HTTP error",
                                                    headers=getattr(exc, "headers", None)))

    @app.exception_handler(MutasiRulesError)
    async def on_library_error(request: Request, exc: MutasiRulesError) -> JSONResponse:
        problem = library_problem(exc)
        if problem.status >= 500:  # the type and code only: an exception's text may hold personal data
            log.error("%s (%s) on %s %s", problem.code, type(exc).__name__, request.method, request.url.path)
        return problem_response(request, problem)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return problem_response(request, ApiProblem(500, "internal", "Internal error",
                                                    "the request failed unexpectedly; the server's operators "
                                                    "have the details", kind="failure",
                                                    message=LocalizedSummary(**summary("failure"))))


__all__ = ["MEDIA_TYPE", "STATUS_OF_KIND", "ApiProblem", "ProblemDocument", "install", "library_problem",
           "problem_response"]
