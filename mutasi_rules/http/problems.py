"""RFC 9457 problem documents: every error the HTTP API answers, and nothing else.

Each answer carries the library's problem ``code`` (e.g. ``nip.invalid``, ``run.not_found``)
and, for bad input, every :class:`~mutasi_rules.problems.Problem` with its file, row, field
and value. An unexpected exception becomes a 500 whose detail says nothing about the
exception: no traceback, value or path ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..access import AccessDenied, NotAuthenticated
from ..audit import AuditError, ReplayError
from ..engine import EngineError
from ..hosted import NotFound
from ..plugins.manager import PluginError
from ..problems import InputError, Problem

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:mutasi-rules:problem:"
log = logging.getLogger("mutasi_rules.http")


class ProblemDocument(BaseModel):
    """An error answer (RFC 9457), with the library's problem code and the input problems found."""

    type: str = Field(description="urn:mutasi-rules:problem:<code>")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path")
    code: str = Field(description="Stable machine-readable kind, e.g. 'input.invalid', 'run.not_found'")
    problems: list[Problem] = Field(default_factory=list, description="Every input problem, with file/row/field")


class ApiProblem(Exception):
    """Raised by a route to answer with a problem document."""

    def __init__(self, status: int, code: str, title: str, detail: str | None = None,
                 problems: list[Problem] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.problems = problems or []
        self.headers = headers


def problem_response(request: Request, problem: ApiProblem) -> JSONResponse:
    document = ProblemDocument(type=TYPE_PREFIX + problem.code, title=problem.title, status=problem.status,
                               detail=problem.detail, instance=request.url.path, code=problem.code,
                               problems=problem.problems)
    return JSONResponse(document.model_dump(mode="json", exclude_none=True), status_code=problem.status,
                        media_type=MEDIA_TYPE, headers=problem.headers)


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
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(request, ApiProblem(exc.status_code, code, detail or "HTTP error",
                                                    headers=getattr(exc, "headers", None)))

    @app.exception_handler(InputError)
    async def on_input(request: Request, exc: InputError) -> JSONResponse:
        errors = [p for p in exc.problems if p.severity == "error"]
        return problem_response(request, ApiProblem(
            422, "input.invalid", "The input has problems",
            f"{exc.what}: {len(errors)} error(s)", list(exc.problems)))

    @app.exception_handler(NotFound)
    async def on_not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem_response(request, ApiProblem(404, "not_found", "Not found", str(exc)))

    @app.exception_handler(NotAuthenticated)
    async def on_unauthenticated(request: Request, exc: NotAuthenticated) -> JSONResponse:
        return problem_response(request, ApiProblem(401, "auth.required", "An API key is required", str(exc),
                                                    headers={"WWW-Authenticate": "Bearer"}))

    @app.exception_handler(AccessDenied)
    async def on_denied(request: Request, exc: AccessDenied) -> JSONResponse:
        return problem_response(request, ApiProblem(403, "auth.forbidden", "The key's role does not allow this",
                                                    str(exc)))

    @app.exception_handler(ReplayError)
    async def on_replay(request: Request, exc: ReplayError) -> JSONResponse:
        return problem_response(request, ApiProblem(409, "replay.unavailable", "The run cannot be replayed here",
                                                    "a plugin the run used is missing or fails on this server"))

    @app.exception_handler(PluginError)
    async def on_plugin(request: Request, exc: PluginError) -> JSONResponse:
        log.error("plugin failure on %s: %s", request.url.path, type(exc).__name__)
        return problem_response(request, ApiProblem(500, "plugin.failure", "A plugin failed",
                                                    "a plugin failed; the server's operators have the details"))

    @app.exception_handler(EngineError)
    async def on_engine(request: Request, exc: EngineError) -> JSONResponse:
        log.error("rule engine failure on %s", request.url.path)
        return problem_response(request, ApiProblem(500, "engine.failure", "The rule engine failed"))

    @app.exception_handler(AuditError)
    async def on_audit(request: Request, exc: AuditError) -> JSONResponse:
        log.error("decision log failure on %s: %s", request.url.path, type(exc).__name__)
        return problem_response(request, ApiProblem(500, "audit.failure", "The decision log cannot be used"))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The exception's text may hold personal data: only its type goes to the log.
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return problem_response(request, ApiProblem(500, "internal", "Internal error",
                                                    "the request failed unexpectedly; the server's operators "
                                                    "have the details"))


__all__ = ["MEDIA_TYPE", "ApiProblem", "ProblemDocument", "install", "problem_response"]
