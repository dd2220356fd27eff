"""The architecture as a test: lower layers never import higher ones; only the engine imports durable.

Every module of the package has a layer below. Imports are read from the source with the
AST, including imports inside functions (lazy imports are still dependencies). A new module
must be given a layer here: the failure says which.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mutasi_rules"

#: Layer of each module (or package prefix, ending in "."), lowest first. A module may import
#: modules of its own layer or lower ones.
LAYERS: list[tuple[str, ...]] = [
    # 0 foundations: no project imports but each other
    ("__init__", "_moved", "_version", "problems", "errors", "core."),
    # 1 data: the domain model; reading, checking and generating datasets; the fact schema and the
    #   expression language over it (scenario files hold expressions too)
    ("data.", "rules.language."),
    # 2 rules as data: rule files, the expression language, the backend seam and compiled form
    ("rules.__init__", "rules.rulesets", "rules.backend", "rules.durable_compile",
     "rules.findings", "rules.decision_tables", "plugins.types", "plugins.hookspecs", "planning.__init__",
     "planning.plan"),
    # 3 evaluation: the engine adapter (the only durable importer) and what runs rules; the plugin manager;
    #   the workload analysis and candidate scoring the pipeline builds on
    ("rules.engine", "rules.screen", "rules.ruletests", "plugins.manager", "plugins.__init__", "plugin",
     "analysis.__init__", "analysis.workload", "planning.scoring"),
    # 4 the pipeline and its explanations; the recommendation pipeline's stages, in the order they
    #   pass data: options, results, context, candidates (rules), solving (plan), reporting, pipeline,
    #   and recommendation (the public names)
    ("planning.options", "planning.results", "planning.context", "planning.candidates", "planning.solving",
     "planning.reporting", "planning.pipeline", "planning.recommendation",
     "planning.", "analysis.trend", "explain.", "hosting.unitscope"),
    # 5 the record
    ("audit.",),
    # 6 the service layer: the one entry point of the front ends
    ("service", "schemas", "documents", "batch", "hosting."),
    # 7 front ends
    ("cli.", "http.", "web.", "__main__"),
]

#: Upward imports still to be removed, each with the work that removes it. Keep this short.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    return ".".join(rel.parts)


def _layer(module: str) -> int | None:
    for level, names in enumerate(LAYERS):
        for name in names:
            if module == name or (name.endswith(".") and module.startswith(name)) or module == name.rstrip("."):
                return level
    return None


def _typing_only(tree: ast.Module) -> set[int]:
    """ids of import nodes under ``if TYPE_CHECKING:``: annotations only, no dependency at run time."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            ids.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return ids


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module under mutasi_rules, or a third-party top-level name) of every run-time import."""
    module = _module_name(path)
    package_parts = module.split(".")[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _typing_only(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.lineno, node.module or ""))
                continue
            base = package_parts[: len(package_parts) - (node.level - 1)] if node.level > 1 else package_parts
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if node.module is None:  # from . import x, y: each name may be a module
                found += [(node.lineno, "mutasi_rules:" + ".".join([*base, alias.name]).lstrip("."))
                          for alias in node.names]
            else:
                found.append((node.lineno, "mutasi_rules:" + target))
    return found


def _project_target(name: str) -> str | None:
    if name.startswith("mutasi_rules:"):
        return name.split(":", 1)[1]
    if name == "mutasi_rules" or name.startswith("mutasi_rules."):
        return name.removeprefix("mutasi_rules").lstrip(".")
    return None


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_has_a_layer():
    missing = [_module_name(p) for p in SOURCES if _layer(_module_name(p)) is None]
    assert not missing, f"give these modules a layer in tests/test_layering.py: {missing}"


@pytest.mark.parametrize("path", SOURCES, ids=_module_name)
def test_no_module_imports_a_higher_layer(path):
    module = _module_name(path)
    own = _layer(module)
    if own is None:
        pytest.skip("no layer (reported by test_every_module_has_a_layer)")
    upward = []
    for line, name in _imports(path):
        target = _project_target(name)
        if not target:
            continue
        level = _layer(target)
        # "from . import x" where x is a name, not a module: resolve to its package.
        if level is None and "." in target:
            level = _layer(target.rsplit(".", 1)[0] + ".__init__") or _layer(target.rsplit(".", 1)[0])
        if level is None:
            level = _layer(target + ".__init__")
        if level is not None and level > own and (module, target) not in KNOWN_UPWARD:
            upward.append(f"{module}:{line} imports {target} (layer {level} > {own})")
    assert not upward, "\n".join(upward)


def test_only_the_engine_adapter_imports_durable():
    importers = sorted({_module_name(p) for p in SOURCES
                        for _, name in _imports(p) if name == "durable" or name.startswith("durable.")})
    assert importers == ["rules.engine"]


MODULES = {_module_name(p).removesuffix(".__init__") for p in SOURCES} | {""}


@pytest.mark.parametrize("path", SOURCES, ids=_module_name)
def test_the_package_imports_its_modules_by_their_current_paths(path):
    """Old paths (``mutasi_rules.recommendation``) still import for users, as aliases; the package itself
    never uses them."""
    stale = []
    for line, name in _imports(path):
        target = _project_target(name)
        if target is None:
            continue
        if target not in MODULES and target.rsplit(".", 1)[0] not in MODULES:
            stale.append(f"{_module_name(path)}:{line} imports {target}")
    assert not stale, "\n".join(stale)
