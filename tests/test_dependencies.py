"""Every module the code imports comes from a dependency that pyproject.toml names itself (not
one that arrives with another), and the lock files pin each of them: after changing the
dependencies, run `make lock`."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
RUN_TIME = ("server", "agenda", "recorder", "web")
OWN = {*RUN_TIME, "tests", "bench"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported(folder: str) -> dict[str, Path]:
    """Top-level modules imported anywhere under `folder` (at any depth, in functions too),
    each with a file that imports it; the standard library and our own packages left out."""
    siblings = {path.stem for path in (ROOT / folder).glob("*.py")}  # bench's scripts
    found: dict[str, Path] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in OWN | siblings:
                    found.setdefault(top, path.relative_to(ROOT))
    return found


def requirements(*groups: str) -> list[Requirement]:
    """pyproject.toml's requirements: "run" is `dependencies`, the others are extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lists = {"run": project["dependencies"], **project["optional-dependencies"]}
    return [Requirement(line) for group in groups for line in lists[group]]


def declared(*groups: str) -> set[str]:
    return {canonical(requirement.name) for requirement in requirements(*groups)}


def undeclared(folders: tuple[str, ...], allowed: set[str]) -> list[str]:
    providers = importlib.metadata.packages_distributions()
    missing = []
    for folder in folders:
        for module, path in imported(folder).items():
            dists = {canonical(dist) for dist in providers.get(module, [])}
            if not dists:
                missing.append(f"{path}: imports {module}, which no installed distribution has")
            elif not dists & allowed:
                missing.append(f"{path}: imports {module} from {sorted(dists)}, not declared")
    return missing


def pins(lock: str) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) for the lines of a lock file that apply here."""
    text = (ROOT / lock).read_text(encoding="utf-8").replace("\\\n", " ")
    found = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, *hashes = line.split("--hash=")
        pinned = Requirement(requirement.strip())
        if pinned.marker is None or pinned.marker.evaluate():
            (version,) = [spec.version for spec in pinned.specifier if spec.operator == "=="]
            found[canonical(pinned.name)] = (version, len(hashes))
    return found


def test_run_time_imports_are_declared_dependencies() -> None:
    assert undeclared(RUN_TIME, declared("run")) == []


def test_tests_and_benchmarks_import_declared_dependencies_or_test_extras() -> None:
    assert undeclared(("tests", "bench"), declared("run", "test")) == []


def test_the_check_sees_an_import_that_only_arrives_with_another_dependency() -> None:
    # httpcore comes with httpx: a run-time import of it would not be declared.
    assert undeclared(("bench",), declared("run")) != []
    assert "httpcore" in imported("bench") and "httpcore" not in declared("run")


def test_websockets_are_only_a_test_dependency() -> None:
    assert "websockets" not in imported("server") and "websockets" not in declared("run")
    assert "websockets" in declared("test")


def test_the_locks_pin_every_declared_dependency_with_hashes() -> None:
    for lock, groups in (
        ("requirements.lock", ("run",)),
        ("requirements-test.lock", ("run", "test")),
    ):
        pinned = pins(lock)
        for wanted in requirements(*groups):
            if wanted.marker is not None and not wanted.marker.evaluate():
                continue
            name = canonical(wanted.name)
            assert name in pinned, f"{lock} lacks {name}: run `make lock`"
            version, hashes = pinned[name]
            assert SpecifierSet(str(wanted.specifier)).contains(version, prereleases=True), (
                f"{lock} pins {name}=={version}, pyproject.toml asks {wanted.specifier}: "
                "run `make lock`"
            )
        assert all(hashes > 0 for _, hashes in pinned.values()), f"{lock}: a pin without hashes"


def test_the_image_gets_the_versions_the_tests_ran_with() -> None:
    run, test = pins("requirements.lock"), pins("requirements-test.lock")
    assert {name: test.get(name) for name in run} == run
