"""The ASGI application: HTTP in and out, nothing else.

Every route authenticates the caller, hands the work to
:class:`~mutasi_rules.hosting.hosted.HostedService` in a worker thread (bounded by the configured
request time), and writes the answer. Roles, agency scoping, datasets, runs and rule checks
live in the library, where the web application finds the same functions.
"""

# No "from __future__ import annotations": FastAPI reads the routes' annotations at run time,
# and some name types local to create_app.

import contextlib
import functools
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio
from fastapi import Depends, FastAPI, Path, Query, Request, Security
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mutasi_rules import __version__
from mutasi_rules.analysis.workload import WorkloadReport
from mutasi_rules.audit.log import RecordSummary, VerifyReport
from mutasi_rules.data.decisions import ReviewDecision
from mutasi_rules.data.models import Dataset
from mutasi_rules.documents import Explanation, ReviewView, RuleCheckReport, RuleTestSummary
from mutasi_rules.hosting.access import Principal
from mutasi_rules.hosting.hosted import (
    DatasetInfo,
    HostedService,
    ReplayView,
    RunOptions,
    RunView,
)
from mutasi_rules.http import problems
from mutasi_rules.http.problems import MEDIA_TYPE, ApiProblem, ProblemDocument
from mutasi_rules.planning.comparison import ScenarioReport
from mutasi_rules.planning.diff import RunDiff
from mutasi_rules.planning.whynot import WhyNotReport

T = TypeVar("T")
B = TypeVar("B", bound=BaseModel)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
log = logging.getLogger("mutasi_rules.http")

RUN_ID = Annotated[str, Path(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9_-]+$",
                             description="Run id, e.g. R000042-1a2b3c4d5e (a unique prefix will do)")]
DATASET_ID = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the dataset's canonical JSON")]
LANG = Annotated[Literal["id", "en"], Query(description="Language of the text")]


# --------------------------------------------------------------------------- request bodies


class DatasetRequest(BaseModel):
    """A stored dataset (``dataset_id``) or one given inline (``dataset``), and the run options."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    dataset: dict[str, Any] | None = Field(default=None, description="A dataset document (schema: Dataset)")
    options: RunOptions | None = None


class WhyNotRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    nip: str = Field(min_length=1, max_length=40)
    position_id: str = Field(min_length=1, max_length=200)
    options: RunOptions | None = None


class ReviewRequest(BaseModel):
    """Review decisions on a run, as a decisions file holds them (schema: review-decisions)."""

    model_config = ConfigDict(extra="forbid")

    decisions: list[ReviewDecision] = Field(min_length=1, max_length=1000)


class ScenarioRequest(BaseModel):
    """A scenario document (schema: scenario) and the run options, planned beside the baseline."""

    model_config = ConfigDict(extra="forbid")

    scenario: dict[str, Any] = Field(description="A scenario document (schema: scenario; YAML files as JSON)")
    options: RunOptions | None = None


class RuleFileText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[0-9A-Za-z._/-]+$",
                      description="File name; *.tests.yaml are test files")
    text: str


class RuleFilesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: list[RuleFileText] = Field(min_length=1)


class Notices(BaseModel):
    notices: dict[str, str] = Field(description="File name -> letter draft (Markdown), one per moved person")


# --------------------------------------------------------------------------- limits


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies larger than ``limit`` bytes (declared or streamed) with 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        too_large = False
        started = False

        async def counted() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    too_large = True
                    raise BodyTooLarge()
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return  # the app's answer to a cut body (e.g. "cannot parse") is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(BodyTooLarge):
            await self.app(scope, counted, sending)
        if too_large and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        document = ProblemDocument(type=problems.TYPE_PREFIX + "request.too_large", title="The request body is "
                                   "too large", status=413, detail=f"the limit is {self.limit} bytes",
                                   instance=scope.get("path"), code="request.too_large")
        body = document.model_dump_json(exclude_none=True).encode("utf-8")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class AccessLog:
    """One log line per request: method, path (never the query: it may hold a NIP), status, time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info("%s %s %d %.1f ms", scope["method"], scope["path"], status,
                     (time.perf_counter() - started) * 1000)


# --------------------------------------------------------------------------- the app

_PROBLEM = {"model": ProblemDocument, "content": {MEDIA_TYPE: {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {**_PROBLEM, "description": "No API key, or an unknown or revoked one"},
    403: {**_PROBLEM, "description": "The key's role does not allow this"},
    413: {**_PROBLEM, "description": "The request body is too large"},
    422: {**_PROBLEM, "description": "The input has problems (each with code, file, row, field, value)"},
    503: {**_PROBLEM, "description": "The request took longer than the configured limit"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {**_PROBLEM, "description": "Unknown, or outside the key's unit"}}


def _json(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialise once (pydantic's JSON, aliases as published): large results are not validated twice."""
    return Response(model.model_dump_json(by_alias=True), status_code=status, media_type="application/json",
                    headers=headers)


def _json_list(models: list[Any]) -> Response:
    from mutasi_rules.core.canonical import canonical_json

    return Response(canonical_json([m.model_dump(mode="json") for m in models]), media_type="application/json")


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _upload_body(name: str, schema: dict[str, Any], multipart_field: str, multipart_help: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema},
        "multipart/form-data": {"schema": {
            "type": "object", "required": [multipart_field],
            "properties": {multipart_field: {"type": "array" if multipart_field == "files" else "string",
                                             **({"items": {"type": "string", "format": "binary"}}
                                                if multipart_field == "files" else {"format": "binary"}),
                                             "description": multipart_help}}}},
    }, "description": name}}


def create_app(hosted: HostedService, *, web: bool = True, secure_cookies: bool = False) -> FastAPI:
    """The ASGI app over ``hosted`` (limits from its configuration); ``hosted`` is closed at shutdown.

    The API is under ``/v1``; with ``web``, the web application is at ``/`` (``secure_cookies``:
    its cookies go only over HTTPS, for a server behind a TLS proxy)."""
    limits = hosted.config.limits

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        hosted.close()

    app = FastAPI(
        lifespan=lifespan,
        title="mutasi-rules",
        version=__version__,
        description="Explained, rule-based transfer (mutasi ASN) recommendations for regional HR systems. "
                    "Send the API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'. Errors are RFC 9457 "
                    "problem documents carrying the library's problem codes.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.hosted = hosted
    problems.install(app)

    bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
    header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key")

    async def caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
                     key: Annotated[str | None, Security(header_key)]) -> Principal:
        # On the event loop: a remembered key costs one HMAC; only a key's first request pays scrypt (~30 ms).
        return hosted.authenticate(credentials.credentials if credentials else key)

    Caller = Annotated[Principal, Depends(caller)]

    async def limited(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking library work in a worker thread within the request time limit.

        A run that outlasts the limit is abandoned by the request, not stopped: it finishes and
        is recorded (``GET /v1/audit/runs`` lists it).
        """
        try:
            with anyio.fail_after(limits.request_timeout_seconds):
                return await anyio.to_thread.run_sync(functools.partial(work, *args, **kwargs),
                                                      abandon_on_cancel=True)
        except TimeoutError:
            raise ApiProblem(503, "request.timeout", "The request took too long",
                             f"the limit is {limits.request_timeout_seconds:g} s") from None

    async def read_body(request: Request) -> bytes:
        try:
            return await request.body()
        except BodyTooLarge:
            raise ApiProblem(413, "request.too_large", "The request body is too large",
                             f"the limit is {limits.max_body_bytes} bytes") from None

    async def multipart(request: Request, field: str, *, many: bool) -> list[tuple[str, bytes]]:
        try:
            form = await request.form(max_files=limits.max_rule_files if many else 1, max_fields=8)
        except BodyTooLarge:
            raise ApiProblem(413, "request.too_large", "The request body is too large",
                             f"the limit is {limits.max_body_bytes} bytes") from None
        except Exception as error:  # noqa: BLE001 - a malformed multipart body is the client's problem
            raise ApiProblem(400, "request.multipart", "The multipart body cannot be read",
                             type(error).__name__) from None
        uploads = [item for item in form.getlist(field) if isinstance(item, UploadFile)]
        if not uploads:
            raise ApiProblem(422, "request.no_file", f"No file in the form field {field!r}")
        return [(upload.filename or field, await upload.read()) for upload in uploads]

    def parse_body(model: type[B], data: bytes) -> B:
        """A hand-read JSON body, refused like FastAPI refuses a declared one (422, every error located)."""
        try:
            return model.model_validate_json(data)
        except ValidationError as error:
            from fastapi.exceptions import RequestValidationError

            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from None

    def utf8_text(data: bytes, filename: str, code: str, title: str) -> str:
        """An uploaded text file; 422 naming the file when it is not UTF-8."""
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiProblem(422, code, title, filename) from None

    def kind_of(request: Request) -> str:
        return request.headers.get("content-type", "").split(";")[0].strip().lower()

    # ------------------------------------------------------------------ about

    @app.get("/v1/health", tags=["about"], summary="Liveness: the service answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/version", tags=["about"], summary="Library version and document formats")
    async def version() -> dict[str, str]:
        return HostedService.version()

    # ------------------------------------------------------------------ datasets

    @app.post("/v1/datasets", tags=["datasets"], status_code=201, response_model=DatasetInfo,
              summary="Upload and check a dataset; get its id (SHA-256) and its problems",
              responses={**ERRORS, 400: _PROBLEM, 415: _PROBLEM},
              openapi_extra=_upload_body(
                  "A dataset document (JSON), or multipart with 'file': .json, .yaml, .xlsx or a .zip of CSV tables",
                  {"$ref": "#/components/schemas/Dataset"}, "file", "dataset file: .json .yaml .xlsx or .zip"))
    async def add_dataset(request: Request, principal: Caller) -> Response:
        kind = kind_of(request)
        if kind == "multipart/form-data":
            ((filename, data),) = await multipart(request, "file", many=False)
            info = await limited(hosted.add_dataset, principal, data, filename)
        elif kind in ("application/json", ""):
            data = await read_body(request)
            info = await limited(hosted.add_dataset, principal, data, "dataset.json", kind="json")
        else:
            raise ApiProblem(415, "request.media_type", "Send application/json or multipart/form-data")
        return _json(info, 201, headers={"Location": f"/v1/datasets/{info.id}"})

    @app.get("/v1/datasets", tags=["datasets"], response_model=list[DatasetInfo],
             summary="The stored datasets the key may open, by name (an agency key: those holding its unit, "
                     "counted within its subtree)", responses=ERRORS)
    async def list_datasets(principal: Caller) -> Response:
        return _json_list(await limited(hosted.datasets, principal))

    @app.get("/v1/datasets/{dataset_id}", tags=["datasets"], response_model=Dataset,
             summary="A stored dataset (an agency key sees its unit subtree)", responses={**ERRORS, **NOT_FOUND})
    async def get_dataset(dataset_id: DATASET_ID, principal: Caller) -> Response:
        return _json(await limited(hosted.dataset, principal, dataset_id))

    @app.post("/v1/workload", tags=["runs"], response_model=WorkloadReport,
              summary="Workload analysis (ABK) of a dataset, labelled by the rules",
              responses={**ERRORS, **NOT_FOUND})
    async def workload(body: DatasetRequest, principal: Caller) -> Response:
        return _json(await limited(hosted.workload, principal, dataset_id=body.dataset_id, dataset=body.dataset,
                                   options=body.options))

    @app.post("/v1/recommend", tags=["runs"], status_code=201, response_model=RunView,
              summary="Recommend transfers; the run is recorded in the decision log",
              responses={**ERRORS, **NOT_FOUND, 500: {**_PROBLEM, "description": "A plugin or the engine failed"}})
    async def recommend(body: DatasetRequest, principal: Caller) -> Response:
        view = await limited(hosted.recommend, principal, dataset_id=body.dataset_id, dataset=body.dataset,
                             options=body.options)
        return _json(view, 201, headers={"Location": f"/v1/runs/{view.run_id}"})

    @app.post("/v1/why-not", tags=["runs"], response_model=WhyNotReport,
              summary="Why a person is not moved to a position, with verified counterfactuals",
              responses={**ERRORS, **NOT_FOUND})
    async def why_not(body: WhyNotRequest, principal: Caller) -> Response:
        return _json(await limited(hosted.why_not, principal, dataset_id=body.dataset_id, nip=body.nip,
                                   position_id=body.position_id, options=body.options))

    # ------------------------------------------------------------------ recorded runs

    @app.get("/v1/runs/{run_id}", tags=["runs"], response_model=RunView,
             summary="A recorded run and its result (an agency key sees the moves touching its unit subtree)",
             responses={**ERRORS, **NOT_FOUND})
    async def get_run(run_id: RUN_ID, principal: Caller) -> Response:
        return _json(await limited(hosted.run, principal, run_id))

    @app.get("/v1/runs/{run_id}/explanation", tags=["runs"],
             summary="Why each move (or one person's) was recommended, as recorded",
             responses={**ERRORS, **NOT_FOUND, 200: {"content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/Explanation"}},
                 "text/markdown": {"schema": {"type": "string"}},
                 "text/plain": {"schema": {"type": "string"}}}}})
    async def explanation(run_id: RUN_ID, principal: Caller, lang: LANG = "id",
                          nip: Annotated[str | None, Query(max_length=40, description="Only this person")] = None,
                          format: Annotated[Literal["json", "md", "text"], Query()] = "json") -> Response:
        answer = await limited(hosted.explanation, principal, run_id, lang=lang, nip=nip, fmt=format)
        if isinstance(answer, str):
            media = "text/markdown" if format == "md" else "text/plain"
            return Response(answer, media_type=f"{media}; charset=utf-8")
        from mutasi_rules.core.canonical import canonical_json

        return Response(canonical_json(answer), media_type="application/json")

    @app.get("/v1/runs/{run_id}/notices", tags=["runs"], response_model=Notices,
             summary="Letter drafts to the people moved", responses={**ERRORS, **NOT_FOUND})
    async def notices(run_id: RUN_ID, principal: Caller, lang: LANG = "id") -> Response:
        return _json(Notices(notices=await limited(hosted.notices, principal, run_id, lang=lang)))

    @app.get("/v1/runs/{run_id}/report", tags=["runs"], summary="The report for the head of the region",
             responses={**ERRORS, **NOT_FOUND, 200: {"content": {"text/markdown": {"schema": {"type": "string"}},
                                                                 "text/html": {"schema": {"type": "string"}}}}})
    async def report(run_id: RUN_ID, principal: Caller, lang: LANG = "id",
                     format: Annotated[Literal["md", "html"], Query()] = "md") -> Response:
        text = await limited(hosted.report, principal, run_id, lang=lang, fmt=format)
        return Response(text, media_type=("text/html" if format == "html" else "text/markdown") + "; charset=utf-8")

    @app.get("/v1/runs/{run_id}/plan.xlsx", tags=["runs"], summary="The plan as an Excel workbook",
             responses={**ERRORS, **NOT_FOUND, 200: {"content": {XLSX: {"schema": {"type": "string",
                                                                                  "format": "binary"}}}}})
    async def plan_workbook(run_id: RUN_ID, principal: Caller, lang: LANG = "id") -> Response:
        data = await limited(hosted.plan_workbook, principal, run_id, lang=lang)
        return Response(data, media_type=XLSX, headers=_attachment(f"rencana-mutasi-{run_id}.xlsx"))

    @app.get("/v1/runs/{run_id}/notices.zip", tags=["runs"],
             summary="Letter drafts to the people moved, as Word documents in one zip",
             responses={**ERRORS, **NOT_FOUND, 200: {"content": {"application/zip": {"schema": {
                 "type": "string", "format": "binary"}}}}})
    async def notices_docx(run_id: RUN_ID, principal: Caller, lang: LANG = "id") -> Response:
        data = await limited(hosted.notices_docx, principal, run_id, lang=lang)
        return Response(data, media_type="application/zip", headers=_attachment(f"pemberitahuan-{run_id}.zip"))

    # ------------------------------------------------------------------ review

    @app.get("/v1/runs/{run_id}/reviews", tags=["review"], response_model=list[ReviewView],
             summary="The reviews recorded on a run, oldest first", responses={**ERRORS, **NOT_FOUND})
    async def reviews(run_id: RUN_ID, principal: Caller) -> Response:
        records = await limited(hosted.reviews, principal, run_id)
        return _json_list([ReviewView.of(record) for record in records])

    @app.post("/v1/runs/{run_id}/reviews", tags=["review"], status_code=201, response_model=ReviewView,
              summary="Record review decisions on a run: checked against its lineage, refused whole with every "
                      "reason (422) or recorded together",
              responses={**ERRORS, **NOT_FOUND})
    async def review(run_id: RUN_ID, body: ReviewRequest, principal: Caller) -> Response:
        record = await limited(hosted.review, principal, run_id, body.decisions, origin="request body")
        return _json(ReviewView.of(record), 201, headers={"Location": f"/v1/runs/{record.run_id}/reviews"})

    @app.post("/v1/runs/{run_id}/replan", tags=["review"], status_code=201, response_model=RunView,
              summary="A new recorded run honouring every review decision in the run's lineage",
              responses={**ERRORS, **NOT_FOUND, 500: {**_PROBLEM, "description": "A plugin or the engine failed"}})
    async def replan(run_id: RUN_ID, principal: Caller) -> Response:
        view = await limited(hosted.replan, principal, run_id)
        return _json(view, 201, headers={"Location": f"/v1/runs/{view.run_id}"})

    @app.get("/v1/runs/{run_id}/diff/{other_run_id}", tags=["review"], response_model=RunDiff,
             summary="What changed from this run to another (an agency key sees the changes touching its subtree)",
             responses={**ERRORS, **NOT_FOUND})
    async def diff(run_id: RUN_ID, other_run_id: RUN_ID, principal: Caller) -> Response:
        return _json(await limited(hosted.diff, principal, run_id, other_run_id))

    # ------------------------------------------------------------------ scenarios

    @app.post("/v1/datasets/{dataset_id}/scenario", tags=["runs"], response_model=ScenarioReport,
              summary="A surge scenario planned beside the baseline with the same rules, compared (not recorded)",
              responses={**ERRORS, **NOT_FOUND, 400: _PROBLEM, 415: _PROBLEM},
              openapi_extra=_upload_body(
                  "A scenario document and options as JSON, or multipart with 'file': a scenario file (.yaml)",
                  {"$ref": "#/components/schemas/ScenarioRequest"}, "file", "scenario file (.yaml or .json)"))
    async def scenario(dataset_id: DATASET_ID, request: Request, principal: Caller) -> Response:
        kind = kind_of(request)
        options = None
        if kind == "multipart/form-data":
            ((filename, data),) = await multipart(request, "file", many=False)
            text = utf8_text(data, filename, "scenario.encoding", "The scenario file is not UTF-8 text")
        elif kind in ("application/json", ""):
            body = parse_body(ScenarioRequest, await read_body(request))
            from mutasi_rules.core.canonical import canonical_json

            filename, text, options = "request body", canonical_json(body.scenario, indent=2), body.options
        else:
            raise ApiProblem(415, "request.media_type", "Send application/json or multipart/form-data")
        return _json(await limited(hosted.scenario, principal, dataset_id, text, filename, options))

    # ------------------------------------------------------------------ rules

    async def rule_files(request: Request) -> list[tuple[str, str]]:
        kind = kind_of(request)
        if kind == "multipart/form-data":
            return [(name, utf8_text(data, name, "rulefile.encoding", "A rule file is not UTF-8 text"))
                    for name, data in await multipart(request, "files", many=True)]
        if kind not in ("application/json", ""):
            raise ApiProblem(415, "request.media_type", "Send application/json or multipart/form-data")
        body = parse_body(RuleFilesRequest, await read_body(request))
        return [(f.name, f.text) for f in body.files]

    rules_body = _upload_body("Rule files (and *.tests.yaml test files) as JSON texts or multipart 'files'",
                              {"$ref": "#/components/schemas/RuleFilesRequest"}, "files", "rule and test files")

    @app.post("/v1/rules/check", tags=["rules"], response_model=RuleCheckReport,
              summary="Check rule files against the fact schema and each other",
              responses={**ERRORS, 400: _PROBLEM, 415: _PROBLEM}, openapi_extra=rules_body)
    async def rules_check(request: Request, principal: Caller) -> Response:
        return _json(await limited(hosted.check_rules, principal, await rule_files(request)))

    @app.post("/v1/rules/test", tags=["rules"], response_model=RuleTestSummary,
              summary="Run the test cases of *.tests.yaml files against the rule files sent with them",
              responses={**ERRORS, 400: _PROBLEM, 415: _PROBLEM}, openapi_extra=rules_body)
    async def rules_test(request: Request, principal: Caller) -> Response:
        return _json(await limited(hosted.test_rules, principal, await rule_files(request)))

    # ------------------------------------------------------------------ the decision log

    @app.get("/v1/audit/runs", tags=["audit"], response_model=list[RecordSummary],
             summary="The recorded runs, in sequence order", responses=ERRORS)
    async def audit_runs(principal: Caller) -> list[RecordSummary]:
        return await limited(hosted.runs, principal)

    @app.get("/v1/audit/verify", tags=["audit"], response_model=VerifyReport,
             summary="Check every record's hashes and the chain", responses=ERRORS)
    async def audit_verify(principal: Caller) -> VerifyReport:
        return await limited(hosted.verify, principal)

    @app.post("/v1/audit/replay/{run_id}", tags=["audit"], response_model=ReplayView,
              summary="Re-run a recorded decision from its stored inputs and compare byte for byte",
              responses={**ERRORS, **NOT_FOUND, 409: {**_PROBLEM, "description": "A recorded plugin is missing"}})
    async def audit_replay(run_id: RUN_ID, principal: Caller) -> Response:
        return _json(await limited(hosted.replay, principal, run_id))

    def openapi() -> dict[str, Any]:
        """The generated document, plus the schemas the hand-read request bodies refer to."""
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(title=app.title, version=app.version, description=app.description,
                               routes=app.routes)
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for model in (Dataset, RuleFilesRequest, ScenarioRequest, Explanation):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components.setdefault(model.__name__, schema)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(BodyTooLarge)
    async def on_too_large(request: Request, exc: BodyTooLarge) -> Response:
        return problems.problem_response(request, ApiProblem(413, "request.too_large", "The request body is too "
                                                             "large", f"the limit is {limits.max_body_bytes} bytes"))

    if web:
        from mutasi_rules.web import install as install_web  # the pages for people, on the same service and keys

        install_web(app, hosted, secure_cookies=secure_cookies)
    app.add_middleware(BodyLimit, limit=limits.max_body_bytes)
    app.add_middleware(AccessLog)
    return app


def app_from_environment() -> FastAPI:
    """The app of one worker process (``mutasi-rules serve --workers N``): the configuration file is
    named by ``$MUTASI_RULES_SERVICE_CONFIG``. Each worker prepares its own run contexts; datasets
    (on disk) and the decision log (SQLite, appends serialised by its write lock) are shared."""
    from mutasi_rules.hosting.access import ENV_CONFIG, read_config

    path = os.environ[ENV_CONFIG]
    return create_app(HostedService(read_config(path), config_path=path))


__all__ = ["app_from_environment", "create_app"]
