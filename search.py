"""The clone's entry point: `python search.py space=rnn strategy=evolution metric=hidden_cov` is `tfnas search ...`,
run from this clone's code whether tfnas is installed or not (and whichever copy is).

Python puts this folder first on `sys.path`, so `import tfnas` finds the clone's `tfnas/`. An install also maps
`search_spaces/`, `strategies/` and `conf/` into that one name (`MAPPED` in setup.py); `use_clone()` maps them
here the same way, read from setup.py itself, so the two never disagree.
"""
import ast
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def folder_mapping() -> dict[str, str]:
    """setup.py's `MAPPED` (dotted name -> folder of the clone), read without running setup.py."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "MAPPED" for t in node.targets):
            return ast.literal_eval(node.value)
    raise RuntimeError(f"{ROOT / 'setup.py'} has no MAPPED folder mapping")


def use_clone() -> None:
    """Import `tfnas` and its mapped packages from this clone, before anything imports them from elsewhere."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import tfnas

    if Path(tfnas.__file__).resolve().parent != ROOT / "tfnas":
        raise RuntimeError(f"tfnas was imported from {tfnas.__file__} before search.py could use the clone's")
    for name, folder in folder_mapping().items():
        spec = importlib.util.spec_from_file_location(
            name, ROOT / folder / "__init__.py", submodule_search_locations=[str(ROOT / folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        setattr(tfnas, name.rsplit(".", 1)[1], module)


if __name__ == "__main__":
    use_clone()
    from tfnas.cli import main

    main(["search", *sys.argv[1:]])
