"""The code keeps the shape the README's Development section promises.

Read from the source files (ast), not by importing them: an import inside a
function counts as an import here, because a cycle hidden behind a lazy
import is still a cycle a reader has to untangle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "flashdeck"
MAX_LINES = 300


def modules() -> dict[str, Path]:
    """Each module by name; the notetype package counts as one (its __init__, which is what others import)."""
    return {p.stem: p for p in sorted(PACKAGE.glob("*.py"))} | {"notetype": PACKAGE / "notetype" / "__init__.py"}


def imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in `path`, at module level or inside a function."""
    return [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, (ast.Import, ast.ImportFrom))]


def imported(path: Path, names: set[str]) -> set[str]:
    """The flashdeck modules `path` imports anywhere in it."""
    out = set()
    levels = 2 if path.parent.name == "notetype" else 1  # (the dots of a relative import of the flashdeck package)
    for node in imports(path):
        if isinstance(node, ast.ImportFrom) and (node.level == levels or (node.module or "").startswith("flashdeck")):
            base = (node.module or "").removeprefix("flashdeck").lstrip(".")
            if base:
                out.add(base.split(".")[0])
            else:  # from . import a, b
                out.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("flashdeck."))
    return out & names - {"notetype" if path.parent.name == "notetype" else path.stem}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph`, as the modules along it, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_module_imports_itself_back_even_inside_a_function():
    names = set(modules())
    graph = {m: imported(p, names) for m, p in modules().items()}
    assert graph["api"], "the import graph came out empty: the reader of imports is broken"
    found = cycle(graph)
    assert found is None, "import cycle: " + " -> ".join(found)


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_only_package_py_imports_genanki():
    def top(n: ast.Import | ast.ImportFrom) -> set[str]:
        return {a.name.split(".")[0] for a in n.names} if isinstance(n, ast.Import) else {(n.module or "").split(".")[0]}

    users = [m for m, p in modules().items() if any("genanki" in top(n) for n in imports(p))]
    assert users == ["package"]


def test_every_module_is_on_the_readme_module_map():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("One line a module", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"\b([a-z_]+)\.py\b", block)) | set(re.findall(r"^([a-z_]+)/", block, re.M))
    missing = set(modules()) - named - {"__init__", "__main__", "version"}
    assert not missing, f"modules not on the README's module map: {sorted(missing)}"
    gone = named - set(modules())
    assert not gone, f"the README's module map names modules that do not exist: {sorted(gone)}"


def test_no_module_is_longer_than_the_readme_allows():
    long = {m: n for m, p in modules().items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules where they have a seam (at most {MAX_LINES} lines each): {long}"
