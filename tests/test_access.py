"""API keys, roles, the service configuration file, ``mutasi-rules keys``, agency scopes and the OpenAPI file."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutasi_rules.cli import main
from mutasi_rules.data.loading import load_dataset
from mutasi_rules.hosting.access import (
    ROLE_ACTIONS,
    Action,
    KeyStore,
    NotAuthenticated,
    Role,
    ServiceConfig,
    add_key,
    hash_key,
    key_id_of,
    key_matches,
    read_config,
    revoke_key,
    write_config,
)
from mutasi_rules.hosting.unitscope import OutOfScope, UnitScope, subtree
from mutasi_rules.planning.recommendation import RecommendOptions, recommend
from mutasi_rules.problems import InputError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pontianak"


# --------------------------------------------------------------------------- keys


def test_a_key_is_stored_only_as_a_salted_scrypt_hash(tmp_path: Path) -> None:
    config, key = add_key(ServiceConfig(), "SIMPEG", Role.ANALYST)
    entry = config.keys[0]
    assert key_id_of(key) == entry.id and key.startswith("mrk_")
    assert entry.hash.startswith("scrypt$") and key not in entry.hash and key.split("_")[2] not in entry.hash
    assert key_matches(key, entry.hash) and not key_matches(key + "x", entry.hash)
    assert hash_key(key) != entry.hash  # a fresh salt each time
    assert not key_matches(key, "scrypt$broken") and not key_matches(key, "md5$x$y$z$a$b")
    path = tmp_path / "conf" / "service.yaml"
    write_config(path, config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key not in path.read_text()
    assert read_config(path) == config


def test_agency_keys_need_a_unit_and_only_they_have_one() -> None:
    with pytest.raises(ValueError, match="unit"):
        add_key(ServiceConfig(), "x", Role.AGENCY)
    with pytest.raises(ValueError, match="only agency"):
        add_key(ServiceConfig(), "x", Role.ANALYST, unit_id="dinkes")


def test_the_key_store_authenticates_refuses_and_follows_revocation(tmp_path: Path) -> None:
    path = tmp_path / "service.yaml"
    config, key = add_key(ServiceConfig(), "agency", Role.AGENCY, unit_id="dinkes")
    write_config(path, config)
    store = KeyStore(path)
    principal = store.authenticate(key)
    assert (principal.role, principal.unit_id) == (Role.AGENCY, "dinkes")
    assert store.authenticate(key) == principal  # the remembered verification
    for bad in (None, "", "Bearer x", key[:-1] + ("A" if key[-1] != "A" else "B")):
        with pytest.raises(NotAuthenticated):
            store.authenticate(bad)
    write_config(path, revoke_key(config, principal.key_id))
    with pytest.raises(NotAuthenticated):
        store.authenticate(key)


def test_roles_allow_what_the_issue_says() -> None:
    assert ROLE_ACTIONS[Role.ADMIN] == frozenset(Action)
    assert Action.RECOMMEND not in ROLE_ACTIONS[Role.AUDITOR] and Action.DATASET_WRITE not in ROLE_ACTIONS[Role.AUDITOR]
    assert Action.AUDIT_REPLAY in ROLE_ACTIONS[Role.AUDITOR]
    assert ROLE_ACTIONS[Role.AGENCY] == {Action.DATASET_READ, Action.WORKLOAD, Action.WHY_NOT, Action.RUN_READ}


def test_a_bad_configuration_file_names_the_field_and_value(tmp_path: Path) -> None:
    path = tmp_path / "service.yaml"
    path.write_text("limits:\n  max_body_bytes: 5\nkeys:\n  - id: nothex\n    name: x\n    role: boss\n    hash: x\n")
    with pytest.raises(InputError) as raised:
        read_config(path)
    fields = {p.field for p in raised.value.problems}
    assert {"limits.max_body_bytes", "keys.0.id", "keys.0.role"} <= fields
    assert all(p.file == str(path) for p in raised.value.problems)


def test_keys_commands_add_list_and_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "service.yaml"
    assert main(["keys", "add", "--name", "BKPSDM", "--role", "agency", "--unit", "bkpsdm", "--config", str(path),
                 "--format", "json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["role"] == "agency" and added["unit_id"] == "bkpsdm" and key_id_of(added["key"]) == added["id"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert main(["keys", "add", "--name", "x", "--role", "agency", "--config", str(path)]) == 2
    assert main(["keys", "list", "--config", str(path), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [k["id"] for k in listed] == [added["id"]] and "key" not in listed[0] and "hash" not in listed[0]
    assert main(["keys", "revoke", added["id"], "--config", str(path)]) == 0
    assert read_config(path).keys[0].revoked
    assert main(["keys", "revoke", "000000000000", "--config", str(path)]) == 1  # an unknown key: input
    capsys.readouterr()
    assert main(["serve", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "keys add" in capsys.readouterr().err


# --------------------------------------------------------------------------- agency scope


@pytest.fixture(scope="module")
def pontianak():
    dataset = load_dataset(EXAMPLE)
    return dataset, recommend(dataset, RecommendOptions(use_plugins=False))


def test_a_subtree_never_follows_a_parent_cycle() -> None:
    parents = {"a": None, "b": "a", "c": "b", "x": "y", "y": "x"}
    assert subtree("a", parents) == {"a", "b", "c"}
    assert subtree("x", parents) == {"x", "y"}
    assert subtree("nowhere", parents) == frozenset()


def test_a_unit_outside_the_dataset_has_no_scope(pontianak) -> None:
    with pytest.raises(OutOfScope):
        UnitScope.of(pontianak[0], "NOWHERE")


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_an_agency_sees_exactly_what_touches_its_subtree(pontianak, data: st.DataObject) -> None:
    dataset, result = pontianak
    unit = data.draw(st.sampled_from(sorted(u.id for u in dataset.units)))
    scope = UnitScope.of(dataset, unit)
    view = scope.dataset(dataset)
    parents = {u.id: u.parent_id for u in dataset.units}

    def inside(unit_id: str | None) -> bool:
        while unit_id is not None:
            if unit_id == unit:
                return True
            unit_id = parents.get(unit_id)
        return False

    assert {e.nip for e in view.employees} == {e.nip for e in dataset.employees if inside(e.unit_id)}
    assert {p.id for p in view.positions} == {p.id for p in dataset.positions if inside(p.unit_id)}
    assert all(u.parent_id is None or u.parent_id in scope.units for u in view.units)
    cut = scope.result(result)
    assert cut.moves == [m for m in result.moves if inside(m.from_.unit_id) or inside(m.to.unit_id)]
    units = {p.id: p.unit_id for p in dataset.positions}
    for shortage in cut.shortages:
        assert inside(shortage.position.unit_id)
        assert all(inside(units[a.from_position_id]) for a in shortage.alternatives)
    assert all(inside(units[x.position_id]) for x in cut.excluded)


def test_the_published_openapi_document_is_current() -> None:
    pytest.importorskip("fastapi")
    from mutasi_rules.http.openapi import openapi_text

    published = ROOT / "docs" / "openapi.json"
    assert published.read_text(encoding="utf-8") == openapi_text(), "run: make schemas"
