"""Installs reproduce: every package the code imports is declared in pyproject.toml, and
requirements.lock pins every declared dependency at a version its floor allows (`make lock`
after any change to the dependencies; `make install` installs exactly the lock)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"skilltree", "tests", "benchmarks", "scripts"}
_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)


@cache
def project() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared(*, dev: bool) -> dict[str, Requirement]:
    """The project's requirements by canonical name: runtime ones, and the dev extra's too."""
    specs = list(project()["project"]["dependencies"])
    if dev:
        specs += project()["project"]["optional-dependencies"]["dev"]
    return {canonicalize_name(r.name): r for r in map(Requirement, specs)}


def imported(folder: str) -> dict[str, str]:
    """Every top-level module imported (absolutely) under `folder`, with one file importing it."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], str(path.relative_to(ROOT)))
    return found


def undeclared(folder: str, *, dev: bool) -> list[str]:
    """Modules imported under `folder` that are neither stdlib, first-party nor provided by a
    declared distribution."""
    providers = metadata.packages_distributions()
    allowed = set(declared(dev=dev))
    return [
        f"{module} (imported by {where}; installed by {providers.get(module, 'nothing')})"
        for module, where in imported(folder).items()
        if module not in sys.stdlib_module_names
        and module not in FIRST_PARTY
        and not allowed & {canonicalize_name(d) for d in providers.get(module, [])}
    ]


def test_every_package_the_engine_imports_is_a_runtime_dependency() -> None:
    assert undeclared("src", dev=False) == []


@pytest.mark.parametrize("folder", ["tests", "benchmarks"])
def test_every_package_the_tests_and_benchmarks_import_is_declared(folder: str) -> None:
    assert undeclared(folder, dev=True) == []


def locked() -> dict[str, list[tuple[str, Marker | None]]]:
    """requirements.lock's pins by canonical name: (version, marker) for each (a universal lock
    may pin two versions of one package under exclusive markers)."""
    pins: dict[str, list[tuple[str, Marker | None]]] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line[:1].isalnum():
            pin = _PIN.match(line)
            assert pin, f"not a hashed pin: {line!r}"
            marker = Marker(pin["marker"]) if pin["marker"] else None
            pins.setdefault(canonicalize_name(pin["name"]), []).append((pin["version"], marker))
    return pins


def test_the_lock_pins_every_dependency_within_its_declared_range() -> None:
    pins = locked()
    build = {
        canonicalize_name(r.name): r
        for r in map(Requirement, project()["build-system"]["requires"])
    }
    wrong = [
        f"{requirement} locked at {pins.get(name)}"
        for name, requirement in (declared(dev=True) | build).items()
        if not pins.get(name)
        or any(version not in requirement.specifier for version, _ in pins[name])
    ]
    assert wrong == [], "pyproject.toml and requirements.lock disagree: run `make lock`"


def test_every_pin_of_the_lock_carries_hashes() -> None:
    lines = [line for line in (ROOT / "requirements.lock").read_text().splitlines() if line]
    pins = re.split(r"\n(?=[A-Za-z0-9])", "\n".join(line for line in lines if line[0] != "#"))
    assert len(pins) == sum(map(len, locked().values()))
    assert [pin.splitlines()[0] for pin in pins if "--hash=sha256:" not in pin] == []


def test_the_environment_holds_the_locked_versions() -> None:
    """What `make install` installed is the lock (a stale .venv fails here: run make install)."""
    wrong = []
    for name, choices in locked().items():
        for version, marker in choices:
            if marker is None or marker.evaluate():
                try:
                    installed = metadata.version(name)
                except metadata.PackageNotFoundError:
                    installed = "nothing"
                if installed != version:
                    wrong.append(f"{name}: {installed} installed, {version} locked")
    assert wrong == []
