"""Who may do what: API keys with roles, the service configuration file that holds them.

Used by the HTTP service (``mutasi-rules serve``), the key commands
(``mutasi-rules keys add|list|revoke``) and, later, the web application: none of them
checks access on its own.

A key is shown once, when it is made (``mrk_<key id>_<secret>``, 32 random bytes of secret);
the configuration file keeps only a salted scrypt hash of it. The key id in the key's text
finds the entry, so one request costs one scrypt computation, and a key already verified is
remembered in memory (by an HMAC under a per-process secret, never the key itself) so a busy
client does not pay it every time.

Roles (:class:`Role`) decide the actions (:class:`Action`) a key may take, see
:data:`ROLE_ACTIONS`. An ``agency`` key is bound to one unit and sees only that unit's
subtree: :mod:`mutasi_rules.hosting.unitscope` filters what it reads.

The configuration file is YAML; it and the dataset store hold personal data or what grants
access to it, so the file is written atomically with mode 0600 and its folder is created 0700.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
import stat
import threading
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mutasi_rules.core.atomic import write_text
from mutasi_rules.errors import MutasiRulesError
from mutasi_rules.plugins.manager import PluginSettings
from mutasi_rules.problems import InputError, Problem

KEY_PREFIX = "mrk"
#: The service configuration file when no --config is given (default: ./mutasi-rules-service.yaml).
ENV_CONFIG = "MUTASI_RULES_SERVICE_CONFIG"
#: scrypt cost: 2**14 x 8 x 1 takes ~20-40 ms and 16 MiB; strong enough for 256-bit random keys.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
DIRECTORY_MODE = 0o700


class Role(str, Enum):
    """What a key is for."""

    ANALYST = "analyst"  # upload datasets, run recommendations and why-not queries, read runs
    AUDITOR = "auditor"  # read runs and explanations, verify and replay the decision log; no writes
    AGENCY = "agency"  # read what touches one unit's subtree (its employees, positions and moves)
    ADMIN = "admin"  # everything; key management is done with `mutasi-rules keys`


class Action(str, Enum):
    """The actions the service authorises."""

    DATASET_WRITE = "dataset.write"
    DATASET_READ = "dataset.read"
    WORKLOAD = "workload"
    RECOMMEND = "recommend"
    WHY_NOT = "why_not"
    RUN_READ = "run.read"
    RULES_CHECK = "rules.check"
    AUDIT_READ = "audit.read"
    AUDIT_REPLAY = "audit.replay"
    REVIEW = "review"  # record review decisions on a run and re-plan around them


ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ANALYST: frozenset({Action.DATASET_WRITE, Action.DATASET_READ, Action.WORKLOAD, Action.RECOMMEND,
                             Action.WHY_NOT, Action.RUN_READ, Action.RULES_CHECK, Action.AUDIT_READ,
                             Action.REVIEW}),
    Role.AUDITOR: frozenset({Action.RUN_READ, Action.RULES_CHECK, Action.AUDIT_READ, Action.AUDIT_REPLAY}),
    Role.AGENCY: frozenset({Action.DATASET_READ, Action.WORKLOAD, Action.WHY_NOT, Action.RUN_READ}),
    Role.ADMIN: frozenset(Action),
}


class ApiKeyEntry(BaseModel):
    """One key as stored: never the key itself, only its salted hash."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[0-9a-f]{12}$", description="Public key id (also inside the key's text)")
    name: str = Field(min_length=1, description="Who or what holds the key, e.g. 'SIMPEG BKPSDM'")
    role: Role
    unit_id: str | None = Field(default=None, description="agency keys: the unit whose subtree the key sees")
    hash: str = Field(description="scrypt$N$r$p$salt$digest (base64)")
    created: str = Field(default="", description="When the key was made (UTC, ISO 8601)")
    revoked: str | None = Field(default=None, description="When the key was revoked; a revoked key is refused")

    @field_validator("unit_id")
    @classmethod
    def _unit_is_text(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("unit_id is empty")
        return value

    @property
    def active(self) -> bool:
        return self.revoked is None


class Limits(BaseModel):
    """Limits on what one request may ask of the service."""

    model_config = ConfigDict(extra="forbid")

    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="Largest request body")
    request_timeout_seconds: float = Field(default=300.0, gt=0, description="Longest a request may compute")
    max_archive_members: int = Field(default=64, ge=1, description="Most files in an uploaded zip")
    max_unpacked_bytes: int = Field(default=256 * 1024 * 1024, ge=1024, description="Largest unzipped upload")
    max_rule_files: int = Field(default=64, ge=1, description="Most rule files in one check or test request")


class ServiceConfig(BaseModel):
    """The service's configuration file (``mutasi-rules serve --config FILE``)."""

    model_config = ConfigDict(extra="forbid")

    data_dir: str | None = Field(default=None, description="Dataset store and default decision log; "
                                                            "default: 'mutasi-rules-data' beside the config file")
    audit_db: str | None = Field(default=None, description="Decision log; default: DATA_DIR/audit.sqlite")
    rules: list[str] = Field(default_factory=list, description="Rule files or folders; empty: the default rules")
    use_plugins: bool = True
    plugins: PluginSettings = Field(default_factory=PluginSettings)
    cache_size: int = Field(default=4, ge=0, description="Prepared run contexts kept in memory")
    limits: Limits = Field(default_factory=Limits)
    keys: list[ApiKeyEntry] = Field(default_factory=list)


class Principal(BaseModel):
    """An authenticated caller: which key, which role, and for agency keys which unit."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    name: str
    role: Role
    unit_id: str | None = None

    def may(self, action: Action) -> bool:
        return action in ROLE_ACTIONS[self.role]


class AccessDenied(MutasiRulesError):
    """A known key whose role does not allow the action (HTTP 403)."""

    kind = "usage"
    code = "auth.forbidden"


class NotAuthenticated(MutasiRulesError):
    """No key, an unknown or revoked key, or a key that does not match its hash (HTTP 401)."""

    kind = "usage"
    code = "auth.required"


# --------------------------------------------------------------------------- hashing


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_key(key: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$digest`` of ``key`` with a fresh 16-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(key.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def key_matches(key: str, stored: str) -> bool:
    """Whether ``key`` hashes to ``stored`` (constant-time compare; a malformed hash never matches)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(key.encode("utf-8"), salt=base64.b64decode(salt, validate=True), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def new_key() -> tuple[str, str]:
    """A fresh (key id, key text)."""
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(key: str) -> str | None:
    """The key id inside a key's text, or None when the text is not a key."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


# --------------------------------------------------------------------------- the file


def default_data_dir(config_path: str | os.PathLike[str]) -> Path:
    return Path(config_path).resolve().parent / "mutasi-rules-data"


def private_directory(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) if missing, owner-only (0700); tighten an existing one."""
    folder = Path(path)
    folder.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        folder.chmod(DIRECTORY_MODE)
    return folder


def _config_problem(path: Path, message: str, **where: Any) -> InputError:
    return InputError(f"service configuration {path}", [Problem(code="config.invalid", message=message,
                                                                file=str(path), **where)])


def read_config(path: str | os.PathLike[str], *, missing_ok: bool = False) -> ServiceConfig:
    """Read the configuration file; an absent file is an empty configuration when ``missing_ok``.

    Raises :class:`InputError` naming the file, the field and the bad value.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return ServiceConfig()
        raise _config_problem(file, "the configuration file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _config_problem(file, f"cannot read: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _config_problem(file, f"not YAML: {getattr(exc, 'problem', exc)}",
                              line=mark.line + 1 if mark else None) from exc
    try:
        return ServiceConfig.model_validate(data or {})
    except ValidationError as exc:
        raise InputError(f"service configuration {file}", [
            Problem(code="config.invalid", message=error["msg"], file=str(file),
                    field=".".join(str(part) for part in error["loc"]) or None,
                    value=error.get("input") if not isinstance(error.get("input"), (dict, list)) else None)
            for error in exc.errors()
        ]) from exc


def write_config(path: str | os.PathLike[str], config: ServiceConfig) -> None:
    """Write the configuration atomically, owner-only (0600), in a folder made owner-only if new."""
    file = Path(path)
    file.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    text = "# mutasi-rules service configuration: API keys are stored as scrypt hashes; keep this file 0600.\n"
    text += yaml.safe_dump(config.model_dump(mode="json", exclude_defaults=True), sort_keys=False,
                           allow_unicode=True)
    write_text(file, text)  # atomic outputs are owner-only (0600)


def add_key(config: ServiceConfig, name: str, role: Role, *, unit_id: str | None = None,
            created: dt.datetime | None = None) -> tuple[ServiceConfig, str]:
    """A new configuration with one more key, and the key's text (shown once, never stored)."""
    if role is Role.AGENCY and not unit_id:
        raise ValueError("an agency key needs the unit it is bound to (--unit)")
    if role is not Role.AGENCY and unit_id:
        raise ValueError("only agency keys are bound to a unit")
    key_id, key = new_key()
    while any(entry.id == key_id for entry in config.keys):
        key_id, key = new_key()
    entry = ApiKeyEntry(id=key_id, name=name, role=role, unit_id=unit_id, hash=hash_key(key),
                        created=_utc(created) if created else "")
    return config.model_copy(update={"keys": [*config.keys, entry]}), key


def revoke_key(config: ServiceConfig, key_id: str, *, when: dt.datetime | None = None) -> ServiceConfig:
    """A new configuration in which ``key_id`` is revoked (kept, for the record); KeyError if unknown."""
    if not any(entry.id == key_id for entry in config.keys):
        raise KeyError(key_id)
    stamp = _utc(when) if when else "revoked"
    keys = [entry.model_copy(update={"revoked": entry.revoked or stamp}) if entry.id == key_id else entry
            for entry in config.keys]
    return config.model_copy(update={"keys": keys})


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- checking keys


class KeyStore:
    """Authenticates keys against the configuration file, re-reading it when it changes.

    A revoked key stops working at the next request after ``mutasi-rules keys revoke``
    wrote the file: every call looks at the file's modification time and size (one stat).
    """

    def __init__(self, path: str | os.PathLike[str] | None, config: ServiceConfig | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._pepper = secrets.token_bytes(32)
        self._verified: dict[bytes, str] = {}
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, ApiKeyEntry] = {}
        if config is not None:
            self._use(config)
            self._stamp = self._file_stamp()
        else:
            self.refresh()

    def _file_stamp(self) -> tuple[int, int] | None:
        if self._path is None:
            return None
        try:
            info = self._path.stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    def _use(self, config: ServiceConfig) -> None:
        self._entries = {entry.id: entry for entry in config.keys}
        self._verified.clear()

    def refresh(self) -> None:
        """Re-read the file if it changed since last read (a broken file keeps the keys last read)."""
        stamp = self._file_stamp()
        with self._lock:
            if stamp == self._stamp or self._path is None:
                return
            try:
                config = read_config(self._path, missing_ok=True)
            except InputError:
                return
            self._use(config)
            self._stamp = stamp

    def authenticate(self, key: str | None) -> Principal:
        """The caller behind ``key``; raises :class:`NotAuthenticated`."""
        if not key:
            raise NotAuthenticated("no API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
        self.refresh()
        key_id = key_id_of(key)
        entry = self._entries.get(key_id) if key_id else None
        if entry is None or not entry.active:
            raise NotAuthenticated("unknown or revoked API key")
        token = hmac.new(self._pepper, key.encode("utf-8"), hashlib.sha256).digest()
        with self._lock:
            known = self._verified.get(token) == entry.id
        if not known:
            if not key_matches(key, entry.hash):
                raise NotAuthenticated("unknown or revoked API key")
            with self._lock:
                if len(self._verified) > 10_000:
                    self._verified.clear()
                self._verified[token] = entry.id
        return Principal(key_id=entry.id, name=entry.name, role=entry.role, unit_id=entry.unit_id)


def authorize(principal: Principal, action: Action) -> None:
    """Raise :class:`AccessDenied` unless the principal's role allows ``action``."""
    if not principal.may(action):
        raise AccessDenied(f"role {principal.role.value} may not {action.value}")


__all__ = [
    "ENV_CONFIG",
    "ROLE_ACTIONS",
    "AccessDenied",
    "Action",
    "ApiKeyEntry",
    "KeyStore",
    "Limits",
    "NotAuthenticated",
    "Principal",
    "Role",
    "ServiceConfig",
    "add_key",
    "authorize",
    "default_data_dir",
    "hash_key",
    "key_id_of",
    "key_matches",
    "new_key",
    "private_directory",
    "read_config",
    "revoke_key",
    "write_config",
]
