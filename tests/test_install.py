"""The package works as a new user gets it: built, installed without ``-e``, run from elsewhere.

Builds the sdist of mutasi-rules, the wheel from that sdist (so the sdist is proven
complete) and the wheels of both example plugins; installs them into a fresh virtual
environment (no system or checkout site-packages; dependencies come from the package
index and pip's cache) and runs the whole job from a temporary folder outside the
checkout. Built and installed once per test session (the ``installed`` fixture).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ("dinkes_pontianak", "disdikbud_pontianak")
NATIONAL_RULES = sorted(p.name for p in (ROOT / "rules" / "national").glob("*.yaml"))
EXAMPLE_TABLES = sorted(p.name for p in (ROOT / "examples" / "pontianak").glob("*.csv"))

pytestmark = pytest.mark.install


@dataclass
class Installed:
    dist: Path  # the built sdists and wheels
    venv: Path
    work: Path  # the current directory of every command: outside the checkout
    env: dict[str, str]

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *argv: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(list(argv), cwd=self.work, env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=300, check=False)
        if check and done.returncode != 0:
            pytest.fail(f"{' '.join(argv)} exited {done.returncode}\nstdout:\n{done.stdout[-3000:]}\n"
                        f"stderr:\n{done.stderr[-3000:]}")
        return done

    def cli(self, *argv: str, **kwargs) -> subprocess.CompletedProcess[str]:
        return self.run(self.bin("mutasi-rules"), *argv, **kwargs)


def _build(*argv: str, cwd: Path = ROOT) -> None:
    # --no-isolation: the build back end comes from the running environment (the dev extra),
    # so nothing is downloaded and the build takes seconds.
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    warnings = [line for line in (done.stdout + done.stderr).splitlines()
                if "absent from the `packages` configuration" in line or "Package would be ignored" in line]
    assert not warnings, warnings


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    dist = base / "dist"
    # Each: the sdist, then the wheel built from the unpacked sdist in a temporary folder (so the
    # sdist is proven complete, and no stale build/ folder of the checkout can leak into a wheel).
    for project in (ROOT, *(ROOT / "plugins" / plugin for plugin in PLUGINS)):
        _build("--outdir", str(dist), str(project))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    wheels = sorted(str(p) for p in dist.glob("*.whl"))
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                           "--quiet", "--disable-pip-version-check", *wheels],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    work = base / "elsewhere"
    work.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "MUTASI_RULES_AUDIT_DB", "MUTASI_RULES_DISABLE_PLUGINS", "VIRTUAL_ENV")}
    env.update(HOME=str(base / "home"), XDG_DATA_HOME=str(base / "home" / "data"), COLUMNS="160",
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return Installed(dist, venv, work, env)


def test_the_sdist_holds_rules_examples_docs_and_licence_as_real_files(installed):
    (sdist,) = installed.dist.glob("mutasi_rules-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1]: m for m in archive.getmembers() if "/" in m.name}
    for name in ["LICENSE", "CHANGELOG.md", "README.md", "docs/architecture.md", "docs/schemas/result.schema.json",
                 "examples/embedding/hr_service.py", *(f"rules/national/{n}" for n in NATIONAL_RULES),
                 *(f"examples/pontianak/{n}" for n in EXAMPLE_TABLES),
                 *(f"mutasi_rules/bundled/rules/national/{n}" for n in NATIONAL_RULES),
                 *(f"mutasi_rules/bundled/examples/pontianak/{n}" for n in EXAMPLE_TABLES)]:
        assert name in members, name
        assert members[name].isfile(), f"{name} is not a regular file in the sdist"
    license_text = archive_text(sdist, "LICENSE")
    assert "Apache License" in license_text and "Version 2.0" in license_text


def archive_text(sdist: Path, name: str) -> str:
    with tarfile.open(sdist) as archive:
        member = next(m for m in archive.getmembers() if m.name.split("/", 1)[-1] == name)
        return archive.extractfile(member).read().decode("utf-8")


def test_the_wheels_hold_the_rule_files_byte_for_byte(installed):
    (wheel,) = installed.dist.glob("mutasi_rules-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in NATIONAL_RULES:
            assert archive.read(f"mutasi_rules/bundled/rules/national/{name}") == \
                (ROOT / "rules" / "national" / name).read_bytes()
        for name in EXAMPLE_TABLES:
            assert archive.read(f"mutasi_rules/bundled/examples/pontianak/{name}") == \
                (ROOT / "examples" / "pontianak" / name).read_bytes()
        for scenario in (ROOT / "examples" / "pontianak" / "scenarios").glob("*.yaml"):
            assert archive.read(f"mutasi_rules/bundled/examples/pontianak/scenarios/{scenario.name}") == \
                scenario.read_bytes()
        assert any(n.endswith("licenses/LICENSE") for n in archive.namelist())
    for plugin in PLUGINS:
        (plugin_wheel,) = installed.dist.glob(f"mutasi_rules_{plugin}-*.whl")
        with zipfile.ZipFile(plugin_wheel) as archive:
            assert any(n.startswith(f"mutasi_rules_{plugin}/rules/") and n.endswith(".yaml")
                       for n in archive.namelist()), plugin


def test_the_installed_package_is_not_the_checkout(installed):
    done = installed.run(installed.bin("python"), "-c", "import mutasi_rules, sys; print(mutasi_rules.__file__)")
    location = Path(done.stdout.strip())
    assert installed.venv in location.parents and ROOT not in location.parents
    assert installed.cli("--version").stdout.startswith("mutasi-rules ")


def test_demo_runs_the_bundled_example_from_any_folder(installed):
    done = installed.cli("demo", "--out-dir", "out", "--lang", "en")
    assert "dataset valid" in done.stdout
    plan = json.loads((installed.work / "out" / "plan.json").read_text(encoding="utf-8"))
    assert plan["moves"], "the example plan moves somebody"
    origins = {r["origin"] for r in plan["run"]["rulesets"]}
    assert "rules/national/transfer-norms.yaml" in origins
    assert {p["name"] for p in plan["run"]["plugins"]} == {"mutasi-rules-dinkes-pontianak",
                                                          "mutasi-rules-disdikbud-pontianak"}
    log = installed.work / "out" / "audit.sqlite"
    assert stat.S_IMODE(log.stat().st_mode) & 0o077 == 0, "the decision log is readable by others"


def test_recommend_records_in_the_users_private_data_folder(installed):
    installed.cli("generate", "--employees", "300", "--seed", "3", "--out", "data")
    done = installed.cli("recommend", "data", "--format", "json", "--max-moves", "5")
    result = json.loads(done.stdout)
    assert result["format"] == "mutasi-rules.recommendation/1"
    log = Path(installed.env["XDG_DATA_HOME"]) / "mutasi-rules" / "mutasi-rules-audit.sqlite"
    assert log.is_file(), done.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    assert not (installed.work / "mutasi-rules-audit.sqlite").exists()
    listed = json.loads(installed.cli("audit", "list", "--format", "json").stdout)
    assert len(listed) >= 1


def test_rules_check_and_plugins_list(installed):
    bundled = installed.run(installed.bin("python"), "-c",
                            "from mutasi_rules.rules.rulesets import default_rules_dir; print(default_rules_dir())")
    report = json.loads(installed.cli("rules", "check", bundled.stdout.strip(), "--format", "json").stdout)
    assert report["ok"] and len(report["rulesets"]) == 5
    plugins = json.loads(installed.cli("plugins", "list", "--format", "json").stdout)["plugins"]
    assert {p["name"]: p["status"] for p in plugins} == {"mutasi-rules-dinkes-pontianak": "enabled",
                                                        "mutasi-rules-disdikbud-pontianak": "enabled"}


def test_the_embedding_examples_run_against_the_installed_package(installed):
    for script in (ROOT / "examples" / "embedding").glob("*.py"):
        shutil.copy(script, installed.work / script.name)
    done = installed.run(installed.bin("python"), "hr_service.py")
    assert "training first: Pelatihan Vaksinator" in done.stdout
    dataset = installed.run(installed.bin("python"), "-c",
                            "from mutasi_rules import bundled_example_dir, load_dataset; "
                            "print(load_dataset(bundled_example_dir()).model_dump_json())").stdout
    result = json.loads(installed.run(installed.bin("python"), "recommend_json.py", stdin=dataset).stdout)
    assert result["run"]["dataset"].startswith("Kota Pontianak")
