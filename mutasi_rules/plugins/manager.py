"""Finding, registering and calling agency plugins.

Discovery follows pytest's ``pytest11``: installed distributions declare an entry point in
the group ``mutasi_rules``; plugins not installed are named explicitly (``--plugin
module.name`` or ``--plugin path/to/file.py``). Each plugin is called on its own and its
result checked against the hook's declared type, so every failure is a
:class:`PluginError` naming the plugin and the hook. By default a failure fails the run;
with ``skip_broken`` the plugin is unregistered, the problem recorded in
:attr:`PluginManager.skipped`, and the run continues without it.

Settings come from :class:`PluginSettings`; the environment variable
``MUTASI_RULES_DISABLE_PLUGINS`` (comma-separated plugin names) adds to ``disabled``.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import dataclasses
import datetime as dt
import difflib
import hashlib
import importlib
import importlib.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Literal, NamedTuple

import pluggy
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)

from mutasi_rules.core import limits
from mutasi_rules.data.facts import ExtensionAttribute, ExtValue, FieldType
from mutasi_rules.errors import Kind, MutasiRulesError
from mutasi_rules.plugins import hookspecs
from mutasi_rules.plugins.hookspecs import HOOK_NAMES, PROJECT
from mutasi_rules.plugins.types import (
    NoticeContact,
    PlanConstraint,
    RuleSetContribution,
    ScoreComponent,
    TrainingOffer,
    Veto,
)
from mutasi_rules.problems import InputError

ENTRY_POINT_GROUP = "mutasi_rules"
ENV_DISABLE = "MUTASI_RULES_DISABLE_PLUGINS"
UNVERSIONED = "unversioned"
ENTITIES = ("employee", "position", "unit", "candidate")

Status = Literal["enabled", "disabled", "broken"]


# --------------------------------------------------------------------------- settings and records


class PluginSettings(BaseModel):
    """Which plugins run, and their options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disabled: list[str] = Field(default_factory=list, description="Plugin names (or module names) not to load")
    only: list[str] | None = Field(default=None, description="If set, load only these plugins")
    skip_broken: bool = Field(default=False, description="Skip a failing plugin (recorded) instead of failing")
    explicit: list[str] = Field(default_factory=list, description="Extra plugins: module names or .py paths")
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-plugin options, keyed by plugin name"
    )
    entry_points: bool = Field(default=True, description="Load installed plugins (entry-point group mutasi_rules)")

    def options_for(self, name: str) -> dict[str, Any]:
        """The options given for plugin ``name`` (empty when none)."""
        return dict(self.options.get(name, {}))

    def with_environment(self, environ: Mapping[str, str]) -> PluginSettings:
        """Add the plugins listed in ``MUTASI_RULES_DISABLE_PLUGINS`` to ``disabled``."""
        extra = [n.strip() for n in environ.get(ENV_DISABLE, "").split(",") if n.strip()]
        if not extra:
            return self
        return self.model_copy(update={"disabled": [*self.disabled, *(n for n in extra if n not in self.disabled)]})


@dataclass
class PluginInfo:
    """One discovered plugin, loaded or not."""

    name: str
    version: str
    source: str  # "dist==version" for an entry point, else the module's file or name
    module: str
    status: Status = "enabled"
    hooks: list[str] = field(default_factory=list)
    reason: str = ""  # why disabled or broken
    plugin: object | None = field(default=None, repr=False)

    @property
    def origin(self) -> str:
        """Provenance written on everything the plugin contributes."""
        return f"plugin:{self.name}=={self.version}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "module": self.module,
            "status": self.status,
            "hooks": list(self.hooks),
            "reason": self.reason,
        }


class SkippedPlugin(NamedTuple):
    plugin: str
    hook: str
    reason: str


class PluginError(MutasiRulesError):
    """A plugin failed: it could not be loaded, raised, or returned something invalid (exit code 3)."""

    kind: ClassVar[Kind] = "plugin"
    code = "plugin.failed"

    def __init__(self, plugin: str, hook: str, reason: str) -> None:
        self.plugin = plugin
        self.hook = hook
        self.reason = reason
        super().__init__(f"plugin {plugin!r}, hook {hook}: {reason}")

    def details(self) -> dict[str, str]:
        return {"plugin": self.plugin, "hook": self.hook}


class PluginNameError(PluginError):
    """A plugin named in the settings (disable, only, options, environment) matches no plugin found.

    A misspelt name must not be ignored: the run would go ahead with a plugin the user meant
    to turn off. A usage error (exit 2): the name given is the thing to change.
    """

    kind = "usage"
    code = "usage.plugin_name"

    def __init__(self, where: str, names: Sequence[str], known: Sequence[str]) -> None:
        hints = []
        for name in names:
            close = difflib.get_close_matches(name, known, n=1)
            hints.append(repr(name) + (f" (did you mean {close[0]!r}?)" if close else ""))
        listed = ", ".join(sorted(known)) or "none"
        Exception.__init__(self, f"{where} names no plugin that was found: {', '.join(hints)} "
                                 f"(known plugins: {listed})")
        self.plugin = names[0]
        self.hook = "load"
        self.reason = str(self)


class _HookTimeout(BaseException):
    """Raised inside a hook that overran its time limit (a BaseException: plugin code catching
    ``Exception`` cannot swallow it)."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block with :class:`_HookTimeout` after ``seconds`` (main thread, POSIX)."""

    def expired(signum: int, frame: Any) -> None:
        raise _HookTimeout

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


#: Runs hooks called outside the main thread, where no timer signal can interrupt them. A hook
#: that never returns keeps its worker (the plugin is admitted broken and not called again by
#: that manager); the pool is large so that a few such plugins cannot starve the others.
_HOOK_RUNNER = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="mutasi-rules-hook")


def _call_within(seconds: float, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``, or :class:`_HookTimeout` once it has run ``seconds``.

    In the main thread on POSIX a timer interrupts the hook itself. Elsewhere (the HTTP
    server's worker threads, Dask workers) the hook runs on :data:`_HOOK_RUNNER` while the
    caller waits at most ``seconds``: a hook that never returns is abandoned there, still
    running, and the caller goes on with the plugin admitted broken instead of hanging with it.
    """
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        with _time_limit(seconds):
            return function(*args)
    context = contextvars.copy_context()
    future = _HOOK_RUNNER.submit(context.run, function, *args)
    try:
        return future.result(timeout=seconds)
    except concurrent.futures.TimeoutError:
        raise _HookTimeout from None


class PluginConflictError(PluginError):
    """Two plugins contributed incompatible things; not skippable, since neither is at fault alone."""

    code = "plugin.conflict"

    def __init__(self, plugins: Sequence[str], hook: str, reason: str) -> None:
        self.plugins = tuple(plugins)
        Exception.__init__(self, f"plugins {', '.join(repr(p) for p in self.plugins)}, hook {hook}: {reason}")
        self.plugin = self.plugins[0]
        self.hook = hook
        self.reason = reason


# --------------------------------------------------------------------------- validation helpers

_RULESET_RESULT = TypeAdapter(list[RuleSetContribution] | None)
_ATTRIBUTE = TypeAdapter(ExtensionAttribute)
_ENRICH_RESULT = TypeAdapter(dict[str, Any] | None)
_SCORE_RESULT = TypeAdapter(list[ScoreComponent] | None)
_VETO_RESULT = TypeAdapter(Veto | None)
_TRAINING_RESULT = TypeAdapter(list[TrainingOffer] | None)
_CONSTRAINT_RESULT = TypeAdapter(list[PlanConstraint] | None)
_CONTACT_RESULT = TypeAdapter(NoticeContact | None)

_VALUE_TYPES: dict[FieldType, Any] = {
    FieldType.NUMBER: StrictInt | StrictFloat,
    FieldType.STRING: StrictStr,
    FieldType.BOOL: StrictBool,
    FieldType.DATE: dt.date,
    FieldType.LIST: list[StrictStr],
}


def _value_adapter(attr: ExtensionAttribute) -> TypeAdapter[Any]:
    kind = _VALUE_TYPES[attr.type]
    return TypeAdapter(kind | None if attr.nullable else kind, config=ConfigDict(strict=True))


def _brief(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "result"
        parts.append(f"{where}: {err['msg']} (got {err.get('input')!r:.80})")
    more = f"; and {exc.error_count() - 5} more" if exc.error_count() > 5 else ""
    return "; ".join(parts) + more


class _Pluggy(pluggy.PluginManager):
    """pluggy's manager, also taking unmarked ``mutasi_rules_*`` functions as hook implementations.

    pytest does the same for ``pytest_*``: a plugin author who forgets ``@hookimpl`` would
    otherwise be silently ignored.
    """

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> pluggy.HookimplOpts | None:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(f"{PROJECT}_"):
            method = getattr(plugin, name, None)
            if callable(method) and not isinstance(method, type):
                # What a bare @hookimpl gives (pluggy's defaults).
                return pluggy.HookimplOpts(wrapper=False, hookwrapper=False, optionalhook=False, tryfirst=False,
                                           trylast=False, specname=None)
        return opts


# --------------------------------------------------------------------------- the manager


class PluginManager:
    """The plugins of one run: discovery, registration and checked hook calls."""

    def __init__(self, settings: PluginSettings | None = None, *, environ: Mapping[str, str] | None = None,
                 hook_seconds: float | None = None) -> None:
        env = os.environ if environ is None else environ
        self.settings = (settings or PluginSettings()).with_environment(env)
        self._env_disabled = [n.strip() for n in env.get(ENV_DISABLE, "").split(",") if n.strip()]
        #: Time limit of one hook call (default: ``MUTASI_RULES_LIMIT_PLUGIN_HOOK_SECONDS``, 60).
        self.hook_seconds = float(hook_seconds if hook_seconds is not None
                                  else limits.Limits.from_environment(env).plugin_hook_seconds)
        self.pm = _Pluggy(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.skipped: list[SkippedPlugin] = []
        self._attributes: dict[tuple[str, str], ExtensionAttribute] | None = None
        self._attribute_owners: dict[tuple[str, str], list[str]] = {}
        self._value_adapters: dict[tuple[str, str], TypeAdapter[Any]] = {}

    # ----------------------------------------------------------------- discovery

    def load(self, *, check_names: bool = True) -> PluginManager:
        """Register installed plugins (sorted by name), then the explicit ones in order.

        ``check_names``: raise :class:`PluginNameError` when a name in ``disabled``, ``only``,
        ``options`` or ``MUTASI_RULES_DISABLE_PLUGINS`` matches no plugin found.
        """
        if self.settings.entry_points:
            for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
                self._load_entry_point(ep)
        for spec in self.settings.explicit:
            self.load_explicit(spec)
        if check_names:
            self.check_names()
        return self

    def known_names(self) -> set[str]:
        """Every name a plugin found may be called by: its name, module and distribution."""
        names: set[str] = set()
        for info in self.infos.values():
            names |= {info.name, info.module}
            if "==" in info.source:
                names.add(info.source.split("==")[0])
        return names

    def check_names(self) -> None:
        """Refuse names in the settings that match no plugin found (see :class:`PluginNameError`)."""
        known = self.known_names()
        shown = sorted(i.name for i in self.infos.values())
        env = [n for n in self._env_disabled if n not in known]
        if env:
            raise PluginNameError(ENV_DISABLE, env, shown)
        checks = (("disabled plugins (--disable-plugin)", self.settings.disabled),
                  ("only plugins (--only-plugin)", self.settings.only or []),
                  ("plugin options (--plugin-option)", sorted(self.settings.options)))
        for where, names in checks:
            unknown = [n for n in names if n not in known]
            if unknown:
                raise PluginNameError(where, unknown, shown)

    def _excluded(self, *names: str) -> str:
        """Why a plugin known by ``names`` is not to be loaded ('' when it is)."""
        for name in names:
            if name in self.settings.disabled:
                return f"disabled by settings ({name})"
        if self.settings.only is not None and not any(n in self.settings.only for n in names):
            return "not in 'only'"
        return ""

    def _load_entry_point(self, ep: EntryPoint) -> None:
        dist = ep.dist
        version = dist.version if dist is not None else UNVERSIONED
        source = f"{dist.name}=={version}" if dist is not None else f"entry point {ep.value}"
        module = ep.value.split(":")[0]
        names = (ep.name, module) + ((dist.name,) if dist is not None else ())
        info = PluginInfo(name=ep.name, version=version, source=source, module=module)
        if self._record_if_excluded(info, names):
            return
        try:
            plugin = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import-time failure of third-party code
            self._admit_broken(info, "load", f"entry point {ep.value!r} failed to load: {type(exc).__name__}: {exc}")
            return
        self._register(plugin, info)

    def load_explicit(self, spec: str) -> PluginInfo | None:
        """Register a plugin named by module (``pkg.mod``) or by file path (``path/to/file.py``)."""
        path = Path(spec)
        is_path = spec.endswith(".py") or os.sep in spec or "/" in spec
        name = path.stem if is_path else spec
        info = PluginInfo(name=name, version=UNVERSIONED, source=str(path.resolve()) if is_path else spec, module=spec)
        if self._record_if_excluded(info, (name, spec)):
            return info
        try:
            module = self._import_file(path) if is_path else importlib.import_module(spec)
        except Exception as exc:  # noqa: BLE001 - any import-time failure of third-party code
            self._admit_broken(info, "load", f"cannot import {spec!r}: {type(exc).__name__}: {exc}")
            return info
        info.module = module.__name__
        info.version = str(getattr(module, "__version__", UNVERSIONED))
        info.source = str(getattr(module, "__file__", None) or spec)
        self._register(module, info)
        return info

    @staticmethod
    def _import_file(path: Path) -> ModuleType:
        if not path.is_file():
            raise FileNotFoundError(f"no such plugin file: {path}")
        resolved = path.resolve()
        # A module name unique per file, so two local plugins called plugin.py do not collide.
        digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]
        mod_name = f"_mutasi_rules_local_{path.stem}_{digest}"
        if mod_name in sys.modules:
            return sys.modules[mod_name]
        spec = importlib.util.spec_from_file_location(mod_name, resolved)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module  # dataclasses and pydantic look the module up while it runs
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[mod_name]
            raise
        return module

    def _record_if_excluded(self, info: PluginInfo, names: Sequence[str]) -> bool:
        reason = self._excluded(*names)
        if reason:
            info.status, info.reason = "disabled", reason
            self.infos.setdefault(info.name, info)
        return bool(reason)

    def register(
        self, plugin: object, name: str, *, version: str | None = None, source: str | None = None
    ) -> PluginInfo:
        """Register an in-process plugin object (embedding, tests). Settings still apply."""
        version = version or str(getattr(plugin, "__version__", UNVERSIONED))
        module = getattr(plugin, "__name__", type(plugin).__module__)
        info = PluginInfo(name=name, version=version, source=source or module, module=module)
        if not self._record_if_excluded(info, (name, module)):
            self._register(plugin, info)
        return info

    def _register(self, plugin: object, info: PluginInfo) -> None:
        existing = self.infos.get(info.name)
        if existing is not None and existing.status == "enabled":
            raise PluginConflictError(
                [info.name], "load", f"two plugins are named {info.name!r}: {existing.source} and {info.source}"
            )
        problem = self._unknown_hooks(plugin)
        if problem:
            self._admit_broken(info, "load", problem)
            return
        try:
            self.pm.register(plugin, name=info.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self._admit_broken(info, "load", str(exc))
            return
        callers = self.pm.get_hookcallers(plugin) or []
        wrappers = sorted(
            c.name for c in callers for i in c.get_hookimpls() if i.plugin is plugin and (i.hookwrapper or i.wrapper)
        )
        if wrappers:
            self.pm.unregister(plugin)
            self._admit_broken(
                info, wrappers[0], "hook wrappers are not supported (each plugin's result is checked on its own)"
            )
            return
        info.plugin = plugin
        info.hooks = sorted(c.name for c in callers)
        info.status, info.reason = "enabled", ""
        self.infos[info.name] = info
        self._attributes = None

    @staticmethod
    def _unknown_hooks(plugin: object) -> str:
        unknown = [n for n in dir(plugin) if n.startswith(f"{PROJECT}_") and n not in HOOK_NAMES]
        unknown = [n for n in unknown if callable(getattr(plugin, n, None))]
        if not unknown:
            return ""
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, HOOK_NAMES, n=1)
            hints.append(f"{name}" + (f" (did you mean {close[0]}?)" if close else ""))
        return "unknown hook(s): " + ", ".join(hints)

    # ----------------------------------------------------------------- failures

    def _admit_broken(self, info: PluginInfo, hook: str, reason: str) -> None:
        """Record a failing plugin; raise unless ``skip_broken``."""
        if info.plugin is not None and self.pm.is_registered(info.plugin):
            self.pm.unregister(info.plugin)
        info.status, info.reason, info.plugin = "broken", f"{hook}: {reason}", None
        self.infos[info.name] = info
        self._attributes = None
        if not self.settings.skip_broken:
            raise PluginError(info.name, hook, reason)
        self.skipped.append(SkippedPlugin(info.name, hook, reason))

    # ----------------------------------------------------------------- introspection

    def list_plugins(self) -> list[PluginInfo]:
        """Every discovered plugin, enabled, disabled or broken, sorted by name."""
        return [self.infos[n] for n in sorted(self.infos)]

    @property
    def enabled(self) -> list[PluginInfo]:
        return [i for i in self.list_plugins() if i.status == "enabled"]

    def get(self, name: str) -> PluginInfo:
        return self.infos[name]

    def call_order(self, hook: str) -> list[str]:
        """Names of the plugins implementing ``hook``, in the order they are called."""
        return [impl.plugin_name for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls())]

    # ----------------------------------------------------------------- checked calls

    def _results(self, hook: str, kwargs: Mapping[str, Any],
                 adapter: TypeAdapter[Any]) -> Iterator[tuple[PluginInfo, Any]]:
        """Call each implementation of ``hook`` in pluggy's order; yield its validated result.

        ``None`` results are skipped. A plugin that raises or returns the wrong type is
        admitted broken (raises, or is skipped).
        """
        for impl in list(reversed(getattr(self.pm.hook, hook).get_hookimpls())):
            info = self.infos[impl.plugin_name]
            if info.status != "enabled":
                continue  # unregistered earlier in this call
            started = time.perf_counter()
            try:
                raw = _call_within(self.hook_seconds, impl.function, *[kwargs[a] for a in impl.argnames])
            except _HookTimeout:
                self._admit_broken(info, hook, self._overran())
                continue
            except KeyboardInterrupt:
                raise  # the user pressed Ctrl-C
            except BaseException as exc:  # noqa: BLE001 - third-party code: whatever it raised, SystemExit included
                self._admit_broken(info, hook, f"raised {type(exc).__name__}: {str(exc)[:500]}")
                continue
            if time.perf_counter() - started > self.hook_seconds:  # returned, but only just after the limit
                self._admit_broken(info, hook, self._overran())
                continue
            try:
                value = adapter.validate_python(raw)
            except ValidationError as exc:
                self._admit_broken(info, hook, f"returned an invalid {type(raw).__name__}: {_brief(exc)}")
                continue
            if value is not None:
                yield info, value

    def _overran(self) -> str:
        return (f"did not answer within the time limit of {self.hook_seconds:g} s (raise it with "
                f"{limits.ENV_PREFIX}PLUGIN_HOOK_SECONDS if the plugin is genuinely slow)")

    # -- rules and facts

    def fact_attributes(self) -> list[ExtensionAttribute]:
        """Every declared ext attribute (``source`` = declaring plugins), sorted by entity and name."""
        return [self._declared()[key] for key in sorted(self._declared())]

    def _declared(self) -> dict[tuple[str, str], ExtensionAttribute]:
        if self._attributes is not None:
            return self._attributes
        hook = "mutasi_rules_fact_attributes"
        declared: dict[tuple[str, str], ExtensionAttribute] = {}
        owners: dict[tuple[str, str], list[str]] = {}
        for info, items in self._results(hook, {}, TypeAdapter(list[Any])):
            checked = self._check_attributes(info, hook, items)
            if checked is None:
                continue
            for attr in checked:
                key = (attr.entity, attr.name)
                previous = declared.get(key)
                if previous is not None and (previous.type, previous.nullable) != (attr.type, attr.nullable):
                    raise PluginConflictError(
                        [*owners[key], info.name],
                        hook,
                        f"attribute {attr.entity}.ext.{attr.name} declared as {previous.type.value}"
                        f"{'?' if previous.nullable else ''} by {', '.join(owners[key])} and as "
                        f"{attr.type.value}{'?' if attr.nullable else ''} by {info.name}",
                    )
                owners.setdefault(key, []).append(info.name)
                declared[key] = dataclasses.replace(previous or attr, source=", ".join(owners[key]))
        self._attributes = declared
        self._attribute_owners = owners
        self._value_adapters = {key: _value_adapter(attr) for key, attr in declared.items()}
        return declared

    def _check_attributes(self, info: PluginInfo, hook: str, items: list[Any]) -> list[ExtensionAttribute] | None:
        checked: list[ExtensionAttribute] = []
        for index, item in enumerate(items):
            if not isinstance(item, ExtensionAttribute):
                self._admit_broken(info, hook, f"item {index} is a {type(item).__name__}, not facts.ExtensionAttribute")
                return None
            try:  # stdlib dataclass instances are not re-validated by pydantic: validate their fields
                _ATTRIBUTE.validate_python(dataclasses.asdict(item))
            except ValidationError as exc:
                self._admit_broken(info, hook, f"item {index} ({item.name!r}): {_brief(exc)}")
                return None
            if not item.name.isidentifier() or item.name.startswith("_") or item.name != item.name.lower():
                reason = f"attribute name {item.name!r} must be a lower-case identifier not starting with '_'"
                self._admit_broken(info, hook, reason)
                return None
            if item.type not in _VALUE_TYPES:
                self._admit_broken(
                    info, hook,
                    f"attribute {item.entity}.ext.{item.name}: type {item.type.value} is not allowed for ext"
                )
                return None
            checked.append(item)
        return checked

    def enrich(
        self, entity: str, subject: str, record: Any, facts: Any, dataset: Any, as_of: dt.date
    ) -> dict[str, ExtValue]:
        """The merged ext attributes all plugins compute for one entity (keys sorted)."""
        hook = "mutasi_rules_enrich_facts"
        if entity not in ENTITIES:
            raise ValueError(f"entity must be one of {ENTITIES}, not {entity!r}")
        declared = self._declared()
        merged: dict[str, ExtValue] = {}
        setter: dict[str, str] = {}
        kwargs = {
            "entity": entity, "subject": subject, "record": record, "facts": facts, "dataset": dataset, "as_of": as_of
        }
        for info, values in self._results(hook, kwargs, _ENRICH_RESULT):
            accepted: dict[str, ExtValue] = {}
            problem = ""
            for name, value in values.items():
                key = (entity, name)
                if key not in declared:
                    problem = f"set undeclared attribute {entity}.ext.{name} for {subject}"
                    break
                try:
                    accepted[name] = self._value_adapters[key].validate_python(value)
                except ValidationError:
                    attr = declared[key]
                    problem = (
                        f"{entity}.ext.{name} for {subject} must be {attr.type.value}"
                        f"{' or null' if attr.nullable else ''}, got {type(value).__name__} {value!r:.80}"
                    )
                    break
            if problem:
                self._admit_broken(info, hook, problem)
                continue
            clashes = sorted(set(accepted) & set(merged))
            if clashes:
                first = setter[clashes[0]]
                raise PluginConflictError(
                    [first, info.name],
                    hook,
                    f"both set {entity}.ext.{clashes[0]} for {subject} "
                    f"({merged[clashes[0]]!r:.40} and {accepted[clashes[0]]!r:.40})",
                )
            merged.update(accepted)
            setter.update(dict.fromkeys(accepted, info.name))
        return dict(sorted(merged.items()))

    def enrich_model(self, entity: str, subject: str, record: Any, facts: Any, dataset: Any, as_of: dt.date) -> Any:
        """``facts`` (a frozen fact model with an ``ext`` field) with its ``ext`` filled in."""
        ext = self.enrich(entity, subject, record, facts, dataset, as_of)
        return facts.model_copy(update={"ext": {**facts.ext, **ext}}) if ext else facts

    def rulesets(self, national: Sequence[Any] = ()) -> list[Any]:
        """Load every plugin's rule sets (``rulesets.LoadedRuleSet``), in call order.

        ``national`` are the non-plugin rule sets the plugin rules run with; the loader's
        cross-file checks (duplicates, ``replaces`` naming an overridable rule of a loaded
        rule set) run over all of them, and a problem in a plugin's rule set is that
        plugin's error. Two plugins replacing the same rule is a conflict.
        """
        from mutasi_rules.rules import rulesets as loader

        hook = "mutasi_rules_rulesets"
        extensions = self.fact_attributes()
        collected: list[tuple[PluginInfo, Any]] = []
        for info, contributions in self._results(hook, {"settings": self.settings}, _RULESET_RESULT):
            mine: list[Any] = []
            for contribution in contributions:
                try:
                    if contribution.path is not None:
                        loaded = loader.load_ruleset_file(contribution.path, extensions=extensions, origin=info.origin)
                    else:
                        assert contribution.text is not None
                        loaded = loader.load_ruleset_text(contribution.text, info.origin, extensions)
                except InputError as exc:
                    self._admit_broken(info, hook, f"contributed an invalid rule set {contribution.label()}: {exc}")
                    mine = []
                    break
                if not loaded.ruleset.applies_to.units:
                    self._admit_broken(
                        info,
                        hook,
                        f"rule set {loaded.id!r} ({contribution.label()}) must declare applies_to.units: "
                        "an agency rule set applies to its own units, never city-wide",
                    )
                    mine = []
                    break
                mine.append(loaded)
            collected.extend((info, loaded) for loaded in mine)
        self._check_replacements(collected, hook)
        by_origin = {info.origin: info for info, _ in collected}
        problems: dict[str, list[str]] = {}
        for problem in loader.check_rulesets([*national, *(loaded for _, loaded in collected)]).errors:
            if problem.file in by_origin:
                problems.setdefault(problem.file, []).append(str(problem))
        for origin, texts in problems.items():
            self._admit_broken(by_origin[origin], hook, "rule set problems: " + "; ".join(texts))
        return [loaded for info, loaded in collected if info.status == "enabled"]

    @staticmethod
    def _check_replacements(collected: Sequence[tuple[PluginInfo, Any]], hook: str) -> None:
        by_target: dict[str, list[tuple[str, str]]] = {}
        for info, loaded in collected:
            for rule in loaded.rules:
                if rule.replaces:
                    by_target.setdefault(rule.replaces, []).append((info.name, f"{loaded.id}/{rule.id}"))
        for target in sorted(by_target):
            plugins = sorted({name for name, _ in by_target[target]})
            if len(plugins) > 1:
                rules = ", ".join(f"{rule} ({name})" for name, rule in by_target[target])
                raise PluginConflictError(plugins, hook, f"more than one plugin replaces {target}: {rules}")

    # -- candidates

    def score_candidate(self, candidate: Any, dataset: Any, as_of: dt.date) -> list[ScoreComponent]:
        """Every plugin's score components for one candidate, in call order, ``source`` set."""
        kwargs = {"candidate": candidate, "dataset": dataset, "as_of": as_of}
        return [
            c.model_copy(update={"source": info.origin})
            for info, items in self._results("mutasi_rules_score_candidate", kwargs, _SCORE_RESULT)
            for c in items
        ]

    def veto_candidate(self, candidate: Any, dataset: Any, as_of: dt.date) -> list[Veto]:
        """Every plugin's veto of one candidate (empty: no objection)."""
        kwargs = {"candidate": candidate, "dataset": dataset, "as_of": as_of}
        return [
            veto.model_copy(update={"source": info.origin})
            for info, veto in self._results("mutasi_rules_veto_candidate", kwargs, _VETO_RESULT)
        ]

    # -- plan

    def training_catalogue(self) -> list[TrainingOffer]:
        """All offered trainings, merged by name (case-insensitive), sorted by name."""
        hook = "mutasi_rules_training_catalogue"
        offers: dict[str, TrainingOffer] = {}
        owner: dict[str, str] = {}
        for info, items in self._results(hook, {}, _TRAINING_RESULT):
            for offer in items:
                key = offer.name.casefold()
                previous = offers.get(key)
                if previous is None:
                    offers[key] = offer.model_copy(update={"sources": (info.origin,)})
                    owner[key] = info.name
                elif ((previous.name, previous.hours, previous.provider) == (offer.name, offer.hours, offer.provider)
                      and _agree(previous.capacity, offer.capacity) and _agree(previous.duration_days,
                                                                                offer.duration_days)):
                    # One plugin may state the batch size or duration the other leaves open.
                    merged = previous.model_copy(update={
                        "capacity": previous.capacity or offer.capacity,
                        "duration_days": previous.duration_days or offer.duration_days,
                    })
                    if info.origin not in previous.sources:
                        merged = merged.model_copy(update={"sources": (*previous.sources, info.origin)})
                    offers[key] = merged
                else:
                    raise PluginConflictError(
                        [owner[key], info.name],
                        hook,
                        f"training {offer.name!r} offered differently: {previous.hours:g} h by {previous.provider} "
                        f"vs {offer.hours:g} h by {offer.provider}" + "".join(
                            f", {label} {getattr(previous, field)} vs {getattr(offer, field)}"
                            for field, label in (("capacity", "capacity"), ("duration_days", "days"))
                            if getattr(previous, field) != getattr(offer, field))
                        + " (names and hours must agree to merge, and capacity and days where both are stated)",
                    )
        return [offers[k] for k in sorted(offers)]

    def plan_constraints(self, dataset: Any, as_of: dt.date) -> list[PlanConstraint]:
        kwargs = {"dataset": dataset, "as_of": as_of, "settings": self.settings}
        return [
            c.model_copy(update={"source": info.origin})
            for info, items in self._results("mutasi_rules_plan_constraints", kwargs, _CONSTRAINT_RESULT)
            for c in items
        ]

    def notice_contact(self, unit_id: str, dataset: Any) -> NoticeContact | None:
        """``firstresult``: the first plugin (call order) that answers for ``unit_id``."""
        kwargs = {"unit_id": unit_id, "dataset": dataset}
        for info, contact in self._results("mutasi_rules_notice_contact", kwargs, _CONTACT_RESULT):
            return contact.model_copy(update={"source": info.origin})
        return None

    # -- audit

    def decision_made(self, decision: Any) -> None:
        """Hand a finished run to every audit sink; results are ignored."""
        for _ in self._results("mutasi_rules_decision_made", {"decision": decision}, TypeAdapter(Any)):
            pass


def load_plugins(
    settings: PluginSettings | None = None, *, environ: Mapping[str, str] | None = None, check_names: bool = True
) -> PluginManager:
    """A :class:`PluginManager` with installed and explicit plugins registered (see :meth:`PluginManager.load`)."""
    return PluginManager(settings, environ=environ).load(check_names=check_names)


def _agree(a: int | None, b: int | None) -> bool:
    """Two catalogue figures agree when equal or when one of them is not stated."""
    return a is None or b is None or a == b


__all__ = [
    "ENTRY_POINT_GROUP",
    "ENV_DISABLE",
    "PluginConflictError",
    "PluginError",
    "PluginInfo",
    "PluginManager",
    "PluginNameError",
    "PluginSettings",
    "SkippedPlugin",
    "load_plugins",
]
