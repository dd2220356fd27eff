"""Peers of the pipeline's pair decisions, on the same rules and data, in one run.

The pair universe is the pipeline's: every movable employee of a surplus position (not
blocked by an employee-scope rule) times every short position. A *pair decision* is which
candidate-scope rules fire for the pair (block, score, warn, require_training, classify):
what eligibility, the score and the explanation need. Each peer decides it, and its
answers are checked to equal the pipeline's (on the sampled pairs where a peer is sampled):

* ``screen`` (the path the pipeline uses, :mod:`mutasi_rules.planning.candidates`):
  :class:`mutasi_rules.rules.screen.PairScreen` evaluates every candidate rule over all
  pairs (columns included) and the firings of the pairs it lets through are gathered, then
  durable_rules evaluates the pairs that appear in the result (the moves and every listed
  alternative of a pipeline run on the same context), building their facts; both timed;
* ``previous_path``: the path before issue 19, for reference: the screen, then durable_rules
  on every pair the screen lets through (sampled beyond a limit, its time scaled);
* ``naive_durable``: every pair through the rule engine as one fact (building the fact
  with ``RunContext.candidate_scope`` included, as a pipeline without a screen must);
  measured on a random sample of pairs;
* ``zen_engine``: GoRules zen-engine, one compiled ZEN expression per candidate rule
  (``zen.compile_expression``, its fastest Python path), evaluated per pair on a context
  that holds the paths the rules read; the contexts are built before timing (their
  building time is reported separately), so this is zen's best case; sampled;
* ``vectorised_bound``: the bundled block rules written out by hand in numpy over
  prebuilt columns: a lower bound on the cost of a vectorised evaluation (block rules only).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from enum import Enum
from typing import Any

import numpy as np

from mutasi_rules.data.facts import candidate_facts, fact_schema
from mutasi_rules.data.models import Dataset, Employee, OrderedEnum
from mutasi_rules.planning.recommendation import RunContext, pair_subject, prepare
from mutasi_rules.rules.engine import compile_ruleset_json
from mutasi_rules.rules.language.ast import field_paths
from mutasi_rules.rules.rulesets import Effect
from mutasi_rules.rules.screen import PairScreen

from .zen_translate import KIND_PATH, UNIT_PATH, translate_rules

try:  # optional: pip install zen-engine (the "bench" extra)
    import zen  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    zen = None


class Universe:
    """The pipeline's candidate pairs and the block rules that decide them."""

    def __init__(self, dataset: Dataset) -> None:
        self.ctx: RunContext = prepare(dataset)
        ctx = self.ctx
        pool = sorted((e for e in dataset.employees if e.position_id in ctx.surplus), key=lambda e: e.nip)
        with ctx.engine() as engine:
            found = engine.evaluate("employee", [ctx.employee_scope(e.nip) for e in pool], [e.nip for e in pool])
        self.movable: list[Employee] = [
            e for e, fs in zip(pool, found, strict=True) if not any(f.effect is Effect.BLOCK for f in fs)
        ]
        self.targets: list[str] = sorted(ctx.shortages)
        own = {t: j for j, t in enumerate(self.targets)}
        self.pair = np.ones((len(self.movable), len(self.targets)), dtype=bool)
        for i, e in enumerate(self.movable):
            if e.position_id in own:
                self.pair[i, own[e.position_id]] = False
        self.pairs = int(self.pair.sum())
        definition = next(iter(compile_ruleset_json(ctx.rulesets, "candidate", ctx.as_of, ctx.extensions).values()))
        declared = {f"{loaded.id}/{rule.id}": rule for loaded in ctx.rulesets for rule in loaded.rules
                    if rule.scope == "candidate"}
        #: Every candidate rule the engine registers on as_of, and the block rules among them.
        self.rule_keys = sorted(k for k in definition if k in declared)
        self.block_keys = [k for k in self.rule_keys if declared[k].effect is Effect.BLOCK]

    def sample(self, size: int, seed: int = 0) -> list[tuple[int, int]]:
        rows, cols = np.nonzero(self.pair)
        chosen = sorted(random.Random(seed).sample(range(len(rows)), min(size, len(rows))))
        return [(int(rows[k]), int(cols[k])) for k in chosen]


def run_screen(u: Universe, watch: list[tuple[int, int]] = ()) -> tuple[dict[str, Any], Any, dict[Any, Any]]:
    """Every candidate rule over all pairs, as the pipeline's candidate stage runs the screen.

    Returns the timing, the blocked matrix and, for each ``watch`` pair, the rules the screen
    finds firing (the screen's decision, compared with the peers').
    """
    start = time.perf_counter()
    screen = PairScreen(u.ctx, [e.nip for e in u.movable], u.targets)
    blocked = np.zeros(u.pair.shape, dtype=bool)
    kept = firings = 0
    for a, b, chunk, fired in screen.evaluations():
        blocked[:, a:b] = chunk
        # The pipeline keeps the firings of the pairs the screen lets through (CandidateRules.candidates).
        rows, cols = np.nonzero(u.pair[:, a:b] & ~chunk)
        gathered = {key: where[rows, cols] for key, where in fired.items()}
        kept += len(rows)
        firings += sum(int(where.sum()) for where in gathered.values())
    seconds = time.perf_counter() - start
    blocked &= u.pair
    # Not timed: every rule's firing at the watched pairs, for the comparison with the peers.
    by_column: dict[int, list[int]] = {}
    for i, j in watch:
        by_column.setdefault(j, []).append(i)
    decided: dict[tuple[int, int], frozenset[str]] = {}
    for a, b in ((a, min(a + screen.chunk_size(), len(u.targets)))
                 for a in range(0, len(u.targets), screen.chunk_size())):
        if not any(j in by_column for j in range(a, b)):
            continue
        fires = screen.fires(a, b)
        for j in range(a, b):
            for i in by_column.get(j, ()):
                decided[(i, j)] = frozenset(key for key, where in fires.items() if where[i, j - a])
    return {"pairs": u.pairs, "rules": len(screen.rules) + len(screen.other_rules),
            "inexact_rules": sorted(screen.inexact), "seconds": round(seconds, 4),
            "pairs_per_second": round(u.pairs / seconds), "screened_in": kept, "screened_in_firings": firings,
            "blocked_share": round(float(blocked.sum()) / max(1, u.pairs), 4)}, blocked, decided


def result_pairs(u: Universe) -> list[tuple[int, int]]:
    """The pairs durable_rules evaluates on the pipeline's path: those that appear in the result of a
    pipeline run on the same context (the moves and every alternative a shortage report lists)."""
    from mutasi_rules.planning.pipeline import _Run

    result = _Run(u.ctx, None).run()
    row = {e.nip: i for i, e in enumerate(u.movable)}
    col = {t: j for j, t in enumerate(u.targets)}
    pairs = {(m.nip, m.to.position_id) for m in result.moves}
    pairs |= {(a.nip, s.position.position_id) for s in result.shortages for a in s.alternatives}
    return sorted((row[n], col[t]) for n, t in pairs if n in row and t in col)


def run_result_engine(u: Universe, pairs: list[tuple[int, int]]) -> dict[str, Any]:
    """durable_rules on the pairs in the result, their facts built, as the pipeline does after the plan."""
    ctx = u.ctx
    with ctx.engine() as engine:
        start = time.perf_counter()
        facts = [ctx.candidate_scope(u.movable[i].nip, u.targets[j]) for i, j in pairs]
        engine.evaluate("candidate", facts, [pair_subject(u.movable[i].nip, u.targets[j]) for i, j in pairs])
        seconds = time.perf_counter() - start
    return {"result_pairs": len(pairs), "engine_seconds": round(seconds, 4)}


def run_screen_and_engine(u: Universe, blocked: Any, limit: int) -> dict[str, Any]:
    """The path before issue 19: the screen over all pairs, then the engine over every survivor.

    Survivors beyond ``limit`` are sampled (their engine time scaled) to bound the run time.
    """
    ctx = u.ctx
    rows, cols = np.nonzero(u.pair & ~blocked)
    survivors = list(zip(rows.tolist(), cols.tolist(), strict=True))
    sampled = survivors if len(survivors) <= limit else random.Random(3).sample(survivors, limit)
    with ctx.engine() as engine:
        start = time.perf_counter()
        facts = [ctx.candidate_scope(u.movable[i].nip, u.targets[j]) for i, j in sampled]
        engine.evaluate("candidate", facts, [pair_subject(u.movable[i].nip, u.targets[j]) for i, j in sampled])
        seconds = time.perf_counter() - start
    engine_seconds = seconds * len(survivors) / max(1, len(sampled))
    return {"survivors": len(survivors), "sampled_survivors": len(sampled), "engine_seconds": round(engine_seconds, 4)}


def run_naive_durable(u: Universe, sample: list[tuple[int, int]]) -> tuple[dict[str, Any], dict[tuple[int, int], bool]]:
    ctx = u.ctx
    with ctx.engine() as engine:
        start = time.perf_counter()
        facts = [ctx.candidate_scope(u.movable[i].nip, u.targets[j]) for i, j in sample]
        found = engine.evaluate("candidate", facts, [pair_subject(u.movable[i].nip, u.targets[j]) for i, j in sample])
        seconds = time.perf_counter() - start
    decided = {p: frozenset(f.rule_key for f in fs) for p, fs in zip(sample, found, strict=True)}
    return {"sampled_pairs": len(sample), "seconds": round(seconds, 4),
            "pairs_per_second": round(len(sample) / seconds)}, decided


def _encode(value: Any) -> Any:
    """A fact value in the engine's encoding (what ZEN compares)."""
    if isinstance(value, OrderedEnum):
        return value.ordinal
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _nested(paths: list[str], read: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in paths:
        parts = path.split(".")
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = _encode(read(path))
    return out


def run_zen(u: Universe, sample: list[tuple[int, int]]) -> tuple[dict[str, Any], dict[tuple[int, int], bool] | None]:
    if zen is None:
        return {"installed": False, "note": "zen-engine is not installed (pip install zen-engine); not measured",
                "pairs_per_second": None}, None
    ctx = u.ctx
    schema = fact_schema("candidate", ctx.extensions)
    expressions = translate_rules(ctx.rulesets, u.rule_keys, schema)
    compiled = [zen.compile_expression(text) for text in expressions.values()]
    paths = sorted({p for loaded in ctx.rulesets for rule in loaded.rules
                    if f"{loaded.id}/{rule.id}" in u.rule_keys
                    for p in field_paths(loaded.expressions[rule.id])} | {UNIT_PATH, KIND_PATH})
    build_start = time.perf_counter()
    contexts = []
    for i, j in sample:
        e, t = u.movable[i], u.targets[j]
        source = e.position_id
        cf = candidate_facts(e, ctx.employee_facts(e.nip), ctx.position_facts(t), ctx.position_facts(source),
                             ctx.unit_facts(ctx.index.positions[source].unit_id),
                             ctx.unit_facts(ctx.index.positions[t].unit_id), ctx.index.positions[t], ctx.as_of)
        fact = {"as_of": ctx.as_of, "context": ctx.context, "candidate": cf}

        def read(path: str, fact: dict[str, Any] = fact) -> Any:
            current: Any = fact
            for part in path.split("."):
                current = current.get(part) if isinstance(current, dict) else getattr(current, part, None)
                if current is None:
                    return None
            return current

        contexts.append(_nested(paths, read))
    build = time.perf_counter() - build_start
    start = time.perf_counter()
    decided_list = [frozenset(key for key, expr in zip(expressions, compiled, strict=True) if expr.evaluate(c))
                    for c in contexts]
    seconds = time.perf_counter() - start
    return {"installed": True, "version": _zen_version(),
            "sampled_pairs": len(sample), "seconds": round(seconds, 4),
            "pairs_per_second": round(len(sample) / seconds),
            "context_build_seconds": round(build, 4),
            "pairs_per_second_with_contexts": round(len(sample) / (seconds + build)),
            "expressions": expressions}, dict(zip(sample, decided_list, strict=True))


def _zen_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("zen-engine")
    except PackageNotFoundError:
        return None


def run_vectorised_bound(u: Universe) -> tuple[dict[str, Any], Any]:
    """The bundled block rules by hand in numpy (applicability written out), over prebuilt columns."""
    ctx = u.ctx
    emp = [ctx.employee_facts(e.nip) for e in u.movable]
    src = [ctx.position_facts(e.position_id) for e in u.movable]
    tgt = [ctx.position_facts(t) for t in u.targets]
    tpos = [ctx.index.positions[t] for t in u.targets]

    def ordinals(values: list[Any]) -> Any:
        return np.array([v.ordinal if v is not None else np.nan for v in values], dtype=np.float64)

    rank, edu = ordinals([f.rank for f in emp])[:, None], ordinals([f.education_level for f in emp])[:, None]
    min_rank, max_rank = ordinals([p.min_rank for p in tgt])[None, :], ordinals([p.max_rank for p in tgt])[None, :]
    min_edu = ordinals([p.min_education for p in tgt])[None, :]
    fields = [{f.casefold() for f in p.requirements.education_fields} for p in tpos]
    own_field = [e.education.field.casefold() if e.education.field else None for e in u.movable]
    competency_names = sorted({c.name for p in tpos for c in p.requirements.competencies})
    held = np.zeros((len(emp), len(competency_names)), dtype=np.int64)
    col = {n: k for k, n in enumerate(competency_names)}
    for i, e in enumerate(u.movable):
        for c in e.competencies:
            if c.name in col:
                held[i, col[c.name]] = c.level.ordinal
    need = np.zeros((len(competency_names), len(tgt)), dtype=np.int64)
    for j, p in enumerate(tpos):
        for c in p.requirements.competencies:
            need[col[c.name], j] = c.min_level.ordinal
    cert_names = sorted({c for p in tpos for c in p.requirements.certificates} | {"STR", "Sertifikat Pendidik"})
    ccol = {n: k for k, n in enumerate(cert_names)}
    has_cert = np.zeros((len(emp), len(cert_names)), dtype=bool)
    expired_str = np.array(["STR" in f.expired_certificates for f in emp])[:, None]
    for i, f in enumerate(emp):
        for c in f.certificates:
            if c in ccol:
                has_cert[i, ccol[c]] = True
    req_cert = np.zeros((len(cert_names), len(tgt)), dtype=bool)
    for j, p in enumerate(tpos):
        for c in p.requirements.certificates:
            req_cert[ccol[c], j] = True
    fungsional = np.array([p.kind.value == "fungsional" for p in tgt])[None, :]
    in_dinkes = np.array(["dinkes" in p.unit_path for p in tgt])[None, :]
    in_disdik = np.array(["disdikbud" in p.unit_path for p in tgt])[None, :]
    guru_t = np.array([p.ext.get("guru") is True for p in tgt])[None, :]
    guru_s_false = np.array([p.ext.get("guru") is False for p in src])[:, None]
    str_req = req_cert[ccol["STR"]][None, :]
    str_held = has_cert[:, ccol["STR"]][:, None]
    pendidik = has_cert[:, ccol["Sertifikat Pendidik"]][:, None]
    start = time.perf_counter()
    with np.errstate(invalid="ignore"):
        blocked = (rank < min_rank) | (rank > max_rank) | (edu < min_edu)
    vocab = {f: k for k, f in enumerate(sorted({f for fs in fields for f in fs}))}
    accepts = np.zeros((len(vocab) + 1, len(tgt)), dtype=bool)
    for j, fs in enumerate(fields):
        accepts[:, j] = not fs
        for f in fs:
            accepts[vocab[f], j] = True
    codes = np.array([vocab.get(f, len(vocab)) if f is not None else len(vocab) for f in own_field])
    blocked |= ~accepts[codes]
    missing = np.zeros(blocked.shape, dtype=bool)
    for k in range(len(competency_names)):
        cols = np.flatnonzero(need[k])
        if len(cols):
            missing[:, cols] |= held[:, k][:, None] < need[k, cols][None, :]
    blocked |= missing
    lacking_cert = (req_cert.T.astype(np.float32) @ (~has_cert).T.astype(np.float32)).T > 0
    blocked |= fungsional & lacking_cert
    blocked |= in_dinkes & str_req & ~str_held & expired_str
    blocked |= in_dinkes & str_req & ~str_held & ~expired_str
    blocked |= in_disdik & guru_t & guru_s_false & ~pendidik
    seconds = time.perf_counter() - start
    blocked &= u.pair
    return {"pairs": u.pairs, "seconds": round(seconds, 4), "pairs_per_second": round(u.pairs / max(seconds, 1e-9)),
            "note": "bundled rules hand-written; column building not timed"}, blocked


def measure_peers(dataset: Dataset, *, sample: int = 3000, zen_sample: int = 20000) -> dict[str, Any]:
    """Every peer on one dataset, with the agreement of their decisions with the pipeline's path."""
    u = Universe(dataset)
    naive_sample, zen_sample_pairs = u.sample(sample, seed=1), u.sample(zen_sample, seed=2)
    screen, screened, screen_decided = run_screen(u, [*naive_sample, *zen_sample_pairs])
    shown = result_pairs(u)
    screen.update(run_result_engine(u, shown))
    total = screen["seconds"] + screen["engine_seconds"]
    screen["decisions_per_second"] = round(u.pairs / total) if total > 0 else None
    previous = run_screen_and_engine(u, screened, limit=max(sample, 5000))
    previous_total = screen["seconds"] + previous["engine_seconds"]
    previous["decisions_per_second"] = round(u.pairs / previous_total) if previous_total > 0 else None
    naive, naive_decided = run_naive_durable(u, naive_sample)
    naive["agrees_with_screen"] = all(screen_decided[p] == v for p, v in naive_decided.items())
    zen_result, zen_decided = run_zen(u, zen_sample_pairs)
    if zen_decided is not None:
        zen_result["agrees_with_screen"] = all(screen_decided[p] == v for p, v in zen_decided.items())
    bound, bound_blocked = run_vectorised_bound(u)
    # The hand-written bound encodes the bundled block rules only; compare only when those are all that is loaded.
    bound["agrees_with_screen"] = bool((bound_blocked == screened).all())
    rate = screen["decisions_per_second"] or 0
    ratios = {"vs_naive_durable": round(rate / naive["pairs_per_second"], 1) if naive["pairs_per_second"] else None,
              "vs_zen_engine": (round(rate / zen_result["pairs_per_second"], 1)
                                if zen_result.get("pairs_per_second") else None)}
    return {"pairs": u.pairs, "rules": u.rule_keys, "block_rules": u.block_keys, "screen": screen,
            "previous_path": previous, "naive_durable": naive, "zen_engine": zen_result,
            "vectorised_bound": bound, "ratios": ratios}
