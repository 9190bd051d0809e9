"""The house's shape, checked: no import cycles between modules, no commits outside the unit of work.

The layer contracts themselves (core imports no area, models import no views/services, only search imports
whoosh, only the payment gateways import a provider's SDK) are import-linter contracts in pyproject.toml,
run by ``make test`` before pytest. ``python tests/test_architecture.py`` prints the figures of the
closing notes (cycles, commits in views, imports inside functions, largest files).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "marketplace"


def _graph():
    return grimp.build_graph("marketplace", exclude_type_checking_imports=True, cache_dir=None)


def module_cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), imports inside functions included.

    One edge kind is left out: a module importing its own package (``from marketplace.orders import bp``),
    which the package's ``__init__`` answers by importing its views at the bottom: the blueprint idiom."""
    graph = _graph()
    edges = {m: sorted(t for t in graph.find_modules_directly_imported_by(m)
                       if t in graph.modules and not m.startswith(t + "."))
             for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []

    def visit(root: str) -> None:  # iterative Tarjan
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        result.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(result)


def area_edges() -> set[tuple[str, str]]:
    """(area, area) pairs where a module of the first imports a module of the second (back-edges included)."""
    graph = _graph()
    pairs = set()
    for module in graph.modules:
        parts = module.split(".")
        if len(parts) < 2:
            continue
        for target in graph.find_modules_directly_imported_by(module):
            tparts = target.split(".")
            if tparts[0] == "marketplace" and len(tparts) > 1 and tparts[1] != parts[1]:
                pairs.add((parts[1], tparts[1]))
    return pairs


def _python_files():
    return sorted(PACKAGE.rglob("*.py"))


def commits_outside_uow() -> list[str]:
    found = []
    for path in _python_files():
        if path.name == "uow.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bdb\.session\.(commit|rollback)\(", line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def imports_inside_functions() -> list[str]:
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        found.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    return found


def test_no_design_cycles_between_modules():
    assert module_cycles() == []


def test_views_and_services_never_commit_or_roll_back():
    """Only the unit of work commits (``uow.commit_early(reason)`` is the named opt-out)."""
    offenders = [f for f in commits_outside_uow() if "/views.py" in f or "/services.py" in f or "/cli.py" in f]
    assert offenders == []


def test_no_string_imports():
    offenders = []
    for path in _python_files():
        text = path.read_text(encoding="utf-8")
        if "__import__(" in text or "import_module(" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


if __name__ == "__main__":  # the closing note's figures
    import sys

    sys.path.insert(0, str(ROOT))
    print("design cycles:", len(module_cycles()))
    for c in module_cycles():
        print("   ", " <-> ".join(c))
    edges = area_edges()
    mutual = sorted({tuple(sorted(p)) for p in edges if (p[1], p[0]) in edges})
    print("areas importing each other:", len(mutual), ", ".join(f"{a}<->{b}" for a, b in mutual))
    print("core importing areas:", sorted(b for a, b in edges if a == "core" and b not in ("extensions", "errors")))
    commits = commits_outside_uow()
    print("commit()/rollback() outside core/uow.py:", len(commits))
    for line in commits:
        print("   ", line)
    inner = imports_inside_functions()
    print("imports inside functions:", len(inner))
    sizes = sorted(((len(p.read_text(encoding="utf-8").splitlines()), str(p.relative_to(ROOT)))
                    for p in _python_files()), reverse=True)[:5]
    print("largest files:", ", ".join(f"{name} {n}" for n, name in sizes))
