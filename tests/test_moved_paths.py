"""Modules moved into stage subpackages; the documented old import paths keep working."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from mutasi_rules._moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_path_is_the_new_module_with_a_deprecation_warning(old):
    new = importlib.import_module(f"mutasi_rules.{MOVED[old]}")
    sys.modules.pop(f"mutasi_rules.{old}", None)
    with pytest.warns(DeprecationWarning, match=f"mutasi_rules.{old} has moved to mutasi_rules.{MOVED[old]}"):
        aliased = importlib.import_module(f"mutasi_rules.{old}")
    assert aliased is new
    assert aliased.__spec__.name == f"mutasi_rules.{MOVED[old]}"  # the real module keeps its own identity


def test_old_paths_work_in_a_fresh_interpreter_as_the_docs_of_0_1_wrote_them():
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from mutasi_rules.recommendation import recommend, RecommendOptions\n"
        "from mutasi_rules.loading import load_dataset\n"
        "from mutasi_rules.engine import RuleEngine\n"
        "from mutasi_rules.language.parser import parse\n"
        "from mutasi_rules.audit import AuditLog\n"
        "from mutasi_rules.explain import render_markdown\n"
        "import mutasi_rules.planning.recommendation as new\n"
        "assert recommend is new.recommend\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_package_names_its_stages():
    import mutasi_rules

    for stage in ("core", "data", "rules", "analysis", "planning", "explain", "audit", "hosting", "plugins"):
        module = importlib.import_module(f"mutasi_rules.{stage}")
        assert module.__doc__, f"mutasi_rules.{stage} says what the stage is"
    assert mutasi_rules.__version__
