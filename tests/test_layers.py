"""The one-way dependency rule of DESIGN.md: `server` uses `agenda` and `recorder`; `agenda`
and `recorder` never import `server`, not even inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BELOW_THE_SERVER = ("agenda", "recorder")


def _is_server(module: str | None) -> bool:
    return module is not None and (module == "server" or module.startswith("server."))


def _dynamic_import(node: ast.Call) -> str | None:
    """The module named by `importlib.import_module("…")` or `__import__("…")`."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def server_imports(path: Path, shown_as: Path | None = None) -> list[str]:
    """Each import of `server` in the file, in line order, as "path:line: imports name"."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if _is_server(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module] if _is_server(node.module) else []
        elif isinstance(node, ast.Call):
            names = [name] if _is_server(name := _dynamic_import(node)) else []
        else:
            continue
        found += [(node.lineno, name) for name in names]
    return [f"{shown_as or path}:{line}: imports {name}" for line, name in sorted(found)]


def test_the_check_finds_imports_of_the_server_anywhere_in_a_file(tmp_path):
    source = tmp_path / "bad.py"
    source.write_text(
        "import os, server.models\n"
        "from serverless import x\n"
        "from . import server\n"
        "def later():\n"
        "    from server.db import make_engine\n"
        "    import importlib\n"
        "    return importlib.import_module('server.settings')\n"
        "class Hidden:\n"
        "    def method(self):\n"
        "        import server\n",
        encoding="utf-8",
    )
    assert server_imports(source) == [
        f"{source}:1: imports server.models",
        f"{source}:5: imports server.db",
        f"{source}:7: imports server.settings",
        f"{source}:10: imports server",
    ]


@pytest.mark.parametrize("package", BELOW_THE_SERVER)
def test_the_package_never_imports_the_server(package):
    sources = sorted((ROOT / package).rglob("*.py"))
    assert sources, f"no Python files under {package}/"
    found = [hit for path in sources for hit in server_imports(path, path.relative_to(ROOT))]
    assert not found, f"{package}/ must not import server/:\n" + "\n".join(found)
