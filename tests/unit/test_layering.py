"""The package's floors: no module-level import cycle, and the core never imports a concrete space or strategy."""
import ast
from pathlib import Path

import tfnas

PACKAGE = Path(tfnas.__file__).resolve().parent
PLUGIN_PACKAGES = ("tfnas.search_spaces", "tfnas.strategies")


def _modules() -> dict[str, Path]:
    """Module name -> file of the installed package, plug-in folders mapped into the namespace."""

    roots = {"tfnas": PACKAGE}
    for name in PLUGIN_PACKAGES:
        roots[name] = Path(__import__(name, fromlist=["_"]).__file__).resolve().parent
    modules = {}
    for prefix, root in roots.items():
        for path in root.rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join([prefix, *parts])
            if prefix == "tfnas" and any(name.startswith(p) for p in PLUGIN_PACKAGES):
                continue
            modules[name] = path
    return modules


def _module_level_imports(path: Path, name: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()

    def visit(body):
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(node.orelse)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                found.add(module)
                found.update(f"{module}.{a.name}" for a in node.names)

    visit(tree.body)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        edges = set()
        for target in _module_level_imports(path, name):
            # `from pkg import mod` and `import pkg.mod` both mean the innermost existing module
            while target and target not in modules:
                target = target.rsplit(".", 1)[0] if "." in target else ""
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def _is_parent_chain(cycle: list[str]) -> bool:
    """A package importing its own submodule which imports the package is how Python packages work."""
    return all(a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(cycle, cycle[1:]))


def test_no_module_level_import_cycle():
    graph = _graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def strongconnect(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 and not _is_parent_chain(sorted(component)):
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            strongconnect(v)
    assert not cycles, f"module-level import cycles: {cycles}"


#: floor 3 (architecture.md): experiments and entry points may use concrete spaces
ENTRY_FLOOR = ("tfnas.experiments", "tfnas.commands", "tfnas.cli", "tfnas.__main__", "tfnas.report.__main__")


def test_core_never_imports_a_plugin():
    graph = _graph()
    core = [m for m in graph if not m.startswith(PLUGIN_PACKAGES + ENTRY_FLOOR)]
    leaks = sorted(f"{m} -> {t}" for m in core for t in graph[m] if t.startswith(PLUGIN_PACKAGES))
    assert not leaks, f"core modules import plug-ins at module level: {leaks}"


def test_the_graph_sees_real_imports():
    """Guards the two tests above against an empty or broken graph."""
    graph = _graph()
    assert "tfnas.search_spaces.nas_bench_nlp.space" in graph
    assert "tfnas.search_space" in graph["tfnas.search_spaces.nas_bench_nlp.space"]
    assert "tfnas.build" in graph["tfnas.app"]
