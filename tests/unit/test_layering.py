"""The package's floors: no import cycle (imports inside functions count), the core never imports a concrete space or
strategy nor names one in a string, metrics read probes only through the need vocabulary (tfnas.probe), and the
spaces' probes import no metric."""
import ast
from pathlib import Path

import pytest

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


def _imports(path: Path, name: str, inside_functions: bool = False) -> set[str]:
    """Modules `name` imports at module level (and, with `inside_functions`, anywhere), `if TYPE_CHECKING:` left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With, ast.For, ast.While)

    def visit(body):
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)) or (inside_functions and isinstance(node, nested)):
                visit(node.body)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "orelse", []))
                visit(getattr(node, "finalbody", []))
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


def _graph(inside_functions: bool = False) -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        edges = set()
        for target in _imports(path, name, inside_functions):
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


@pytest.mark.parametrize("inside_functions", [False, True], ids=["module level", "inside functions too"])
def test_no_import_cycle(inside_functions):
    graph = _graph(inside_functions)
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
    assert not cycles, f"import cycles: {cycles}"


#: floor 3 (architecture.md): experiments and entry points may use concrete spaces
ENTRY_FLOOR = ("tfnas.experiments", "tfnas.commands", "tfnas.cli", "tfnas.__main__", "tfnas.report.__main__")


def _core(graph) -> list[str]:
    return [m for m in graph if not m.startswith(PLUGIN_PACKAGES + ENTRY_FLOOR)]


def test_core_never_imports_a_plugin():
    graph = _graph(inside_functions=True)
    leaks = sorted(f"{m} -> {t}" for m in _core(graph) for t in graph[m] if t.startswith(PLUGIN_PACKAGES))
    assert not leaks, f"core modules import plug-ins: {leaks}"


def test_core_names_no_concrete_space_in_a_string():
    """Module names written as strings (importlib, meta-path hooks) count too: plug-ins declare themselves (entry points)."""
    modules = _modules()
    named = []
    for name in _core(modules):
        for node in ast.walk(ast.parse(modules[name].read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "search_spaces.nas_bench_" in node.value:
                named.append(f"{name}: {node.value[:60]!r}")
    assert not named, f"core modules name concrete spaces: {named}"


#: what a metric module may import from tfnas: the need vocabulary, the metric base, shared arithmetic, errors
METRIC_IMPORTS = ("tfnas.probe", "tfnas.metrics.base", "tfnas.metrics.scores", "tfnas.errors")


def _metric_modules(modules) -> list[str]:
    return [m for m, path in modules.items() if m.startswith("tfnas.metrics.") and "@register" in path.read_text(encoding="utf-8")]


def test_metrics_read_probes_only_through_the_need_vocabulary():
    """A metric imports from tfnas only tfnas.probe (its Protocols and kinds, not the pass machinery), the metric base,
    the shared score arithmetic and the error type: never a space, a probe implementation or another metric."""
    graph, modules = _graph(inside_functions=True), _modules()
    metrics = _metric_modules(modules)
    assert len(metrics) >= 25  # every metric file registers with @register
    wrong = sorted(f"{m} -> {t}" for m in metrics for t in graph[m] if t not in METRIC_IMPORTS)
    assert not wrong, f"metrics importing beyond the probe vocabulary: {wrong}"


def test_probes_import_no_metric():
    """The probe layer and the spaces' probes serve needs; they never reach up into the metrics."""
    graph = _graph(inside_functions=True)
    probes = [m for m in graph if m.startswith("tfnas.probe") or m.rsplit(".", 1)[-1] in ("probe", "lm_probe")]
    assert {"tfnas.probe.lm_pass", "tfnas.search_spaces.nas_bench_nlp.probe", "tfnas.search_spaces.nas_bench_bert.lm_probe"} <= set(probes)
    wrong = sorted(f"{m} -> {t}" for m in probes for t in graph[m] if t.startswith("tfnas.metrics"))
    assert not wrong, f"probes importing metrics: {wrong}"


def test_the_graph_sees_real_imports():
    """Guards the two tests above against an empty or broken graph."""
    graph = _graph()
    assert "tfnas.search_spaces.nas_bench_nlp.space" in graph
    assert "tfnas.search_space" in graph["tfnas.search_spaces.nas_bench_nlp.space"]
    assert "tfnas.build" in graph["tfnas.app"]


# -- the study has one writer ---------------------------------------------------------------------------------------
STORE = "tfnas.store"
ADAPTER = "tfnas.store._optuna_adapter"
#: methods that change a trial or a study (a strategy's own `tell` is told apart by its receiver, below)
STUDY_WRITES = {"set_user_attr", "set_system_attr", "set_trial_state_values", "set_trial_user_attr", "set_trial_system_attr",
                "set_trial_param", "set_trial_intermediate_value", "record_heartbeat", "enqueue_trial", "add_trial",
                "add_trials", "set_metric_names", "create_new_trial"}
#: Optuna's private attributes (a module's own `self._x` is its business)
OPTUNA_PRIVATE = {"_storage", "_study_id", "_trial_id", "_get_stale_trial_ids", "_contains", "_cached_frozen_trial",
                  "_pop_waiting_trial_id", "_log_number_offset", "_heartbeat"}
#: files of other branches that still write the study; remove an entry when its file writes through the store
TRANSITIONAL_WRITERS: dict[str, str] = {}
#: modules that ask/tell a study of their own in Optuna's InMemoryStorage, never the search's storage
SCRATCH_STUDIES = {"tfnas.training.rungs": "consults the pruner on an in-memory study rebuilt on every start"}


def _study_access(path: Path) -> list[tuple[str, str]]:
    """Each write to a study or trial ("write") and each use of Optuna's private names ("private") in a module,
    as (kind, 'line: what')."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver, method = ast.unparse(node.func.value), node.func.attr
            study_tell = method == "tell" and ("study" in receiver or any(k.arg == "state" for k in node.keywords))
            through_store = receiver.split(".")[-1].endswith("store")  # the store's own front: EvaluationStore methods
            if (method in STUDY_WRITES or study_tell) and not through_store:
                found.append(("write", f"{node.lineno}: {receiver}.{method}(...)"))
        if isinstance(node, ast.Attribute) and node.attr in OPTUNA_PRIVATE:
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(("private", f"{node.lineno}: .{node.attr}"))
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "optuna":
            if any(a.name.startswith("_") for a in node.names) or any(p.startswith("_") for p in node.module.split(".")):
                found.append(("private", f"{node.lineno}: from {node.module} import {', '.join(a.name for a in node.names)}"))
        if isinstance(node, ast.Import):
            found += [("private", f"{node.lineno}: import {a.name}") for a in node.names
                      if a.name.split(".")[0] == "optuna" and any(p.startswith("_") for p in a.name.split("."))]
    return found


def _study_access_by_module(kind: str) -> dict[str, list[str]]:
    out = {}
    for name, path in _modules().items():
        hits = [what for k, what in _study_access(path) if k == kind]
        if hits:
            out[name] = hits
    return out


def test_only_the_store_writes_the_study_and_only_its_adapter_touches_optuna_internals():
    private = _study_access_by_module("private")
    writes = _study_access_by_module("write")
    outside_adapter = {m: h for m, h in private.items() if m != ADAPTER and m not in TRANSITIONAL_WRITERS}
    assert not outside_adapter, f"Optuna's private names outside {ADAPTER}: {outside_adapter}"
    outside_store = {m: h for m, h in writes.items()
                     if not (m == STORE or m.startswith(STORE + ".")) and m not in TRANSITIONAL_WRITERS
                     and m not in SCRATCH_STUDIES}
    assert not outside_store, f"study writes outside {STORE}: {outside_store}"
    for name in SCRATCH_STUDIES:  # their studies are in memory, and they open no storage
        text = _modules()[name].read_text(encoding="utf-8")
        assert "InMemoryStorage()" in text and "storage=store" not in text and "open_storage" not in text, name
    settled = sorted(m for m in TRANSITIONAL_WRITERS if m in _modules() and m not in writes and m not in private)
    assert not settled, f"write through the store now, remove them from TRANSITIONAL_WRITERS: {settled}"
    assert ADAPTER in private  # the check sees the adapter's own private names


def test_the_study_access_check_sees_writes_and_private_names(tmp_path):
    """Guards the test above: each kind of access is caught, a strategy's own tell is not."""
    source = tmp_path / "m.py"
    source.write_text(
        "from optuna.storages._heartbeat import BaseHeartbeat\n"
        "def f(study, trial, strategy, candidate):\n"
        "    trial.set_user_attr('kind', 'x')\n"
        "    study.tell(trial, state=None)\n"
        "    strategy.tell(candidate, 1.0)\n"
        "    store.set_metric_names(['m'])\n"
        "    return study._storage, trial._trial_id, self._storage\n"
    )
    hits = sorted(_study_access(source), key=lambda h: int(h[1].split(":")[0]))
    assert [(k, w.split(":")[0]) for k, w in hits] == [
        ("private", "1"), ("write", "3"), ("write", "4"), ("private", "7"), ("private", "7")], hits
