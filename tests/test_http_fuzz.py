"""Property-based fuzzing of the HTTP API from its own OpenAPI document (schemathesis).

For every operation and every media type it declares, schemathesis generates requests
(valid and invalid bodies, paths and query strings) and checks each answer: never a 5xx,
the status code is one the document declares, the content type and the body match the
declared schema. Bounded: ``FUZZ_EXAMPLES`` cases per operation (``MUTASI_RULES_FUZZ_EXAMPLES``
raises it for a longer local run). The number of generated cases is printed at the end.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("schemathesis")
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from mutasi_rules.data.loading import load_dataset
from mutasi_rules.hosting.access import Role, ServiceConfig, add_key
from mutasi_rules.hosting.hosted import HostedService
from mutasi_rules.http import create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FUZZ_EXAMPLES = int(os.environ.get("MUTASI_RULES_FUZZ_EXAMPLES", "10"))
SMALL = Path(__file__).resolve().parent / "data" / "good" / "small.yaml"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
GENERATED: list[str] = []


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory):
    config = ServiceConfig(data_dir=str(tmp_path_factory.mktemp("fuzz")), use_plugins=False)
    config, key = add_key(config, "fuzzer", Role.ADMIN)
    hosted = HostedService(config)
    app = create_app(hosted)
    # Something to find: a stored dataset and a recorded run.
    small = load_dataset(SMALL)
    stored = hosted.store.put(small)
    hosted.service.recommend(small, hosted.options(None))
    app.state.fuzz_headers = {"Authorization": f"Bearer {key}"}
    app.state.fuzz_dataset = stored.id
    yield app
    hosted.close()


def test_no_answer_is_a_server_error_or_off_schema(fuzzed, capsys: pytest.CaptureFixture[str]) -> None:
    # schemathesis' own pytest integration does not run on this pytest; its strategies are used directly.
    api_schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed)
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 16
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case) -> None:
            GENERATED.append(f"{case.method} {case.path}")
            case.call_and_validate(headers=fuzzed.state.fuzz_headers, checks=CHECKS)

        try:
            call()
        except Exception as failure:  # noqa: BLE001 - every operation is tried; failures reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    with capsys.disabled():
        print(f"\nschemathesis: {len(GENERATED)} generated requests over {len(operations)} operations")  # noqa: T201
    assert not failures, "\n\n".join(failures)
    assert len(GENERATED) >= len(operations) * 5
