"""The architecture holds: pyproject.toml's import-linter contracts (the engine imports no Qt, GUI or CLI; the GUI
and the CLI stay apart; the engine's layers) and no import cycles anywhere in gan_studio."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
LINT = ("import sys\nfrom importlinter.cli import lint_imports\n"
        "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))\n")


def test_import_contracts_are_kept():
    r = subprocess.run([sys.executable, "-c", LINT, str(ROOT / "pyproject.toml")], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"lint-imports failed:\n{r.stdout}\n{r.stderr}"


def _cycles(graph) -> list[list[str]]:
    """The import cycles: strongly connected components of more than one module (Tarjan, iterative)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            for j in range(i, len(edges[v])):
                w = edges[v][j]
                if w not in index:
                    work += [(v, j + 1), (w, 0)]
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[v])
    return out


def _describe(graph, cycle: list[str]) -> str:
    members = set(cycle)
    lines = [" <-> ".join(cycle)]
    for m in cycle:
        for w in sorted(graph.find_modules_directly_imported_by(m) & members):
            at = ", ".join(f"l.{d['line_number']}" for d in graph.get_import_details(importer=m, imported=w))
            lines.append(f"    {m} -> {w} ({at})")
    return "\n".join(lines)


def test_cycle_finder_finds_a_cycle():
    g = grimp.ImportGraph()
    for m in ("p.a", "p.b", "p.c", "p.d"):
        g.add_module(m)
    g.add_import(importer="p.a", imported="p.b")
    g.add_import(importer="p.b", imported="p.c")
    g.add_import(importer="p.c", imported="p.a")
    g.add_import(importer="p.c", imported="p.d")
    assert _cycles(g) == [["p.a", "p.b", "p.c"]]


def test_no_import_cycles():
    graph = grimp.build_graph("gan_studio", cache_dir=None)
    cycles = _cycles(graph)
    assert not cycles, "import cycles in gan_studio:\n" + "\n".join(_describe(graph, c) for c in cycles)


def test_house_size_limits():
    """No module over 400 lines and no function over 60 (ARCHITECTURE.md's limits), so that every file stays
    readable in one sitting."""
    import ast
    over = []
    for path in sorted((ROOT / "gan_studio").rglob("*.py")):
        src = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if src.count("\n") > 400:
            over.append(f"{rel}: {src.count(chr(10))} lines")
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    over.append(f"{rel}:{node.lineno} {node.name}() is {length} lines")
    assert not over, "over the house limits:\n" + "\n".join(over)
