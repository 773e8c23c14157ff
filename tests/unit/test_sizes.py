"""Rooms stay small: no module over 400 lines, no function over 80 (the package and its plug-in folders)."""
import ast

from test_layering import _modules

MODULE_LINES, FUNCTION_LINES = 400, 80


def test_no_module_or_function_outgrows_its_limit():
    too_long = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MODULE_LINES:
            too_long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name} (line {node.lineno}): {length} lines")
    assert not too_long, too_long


def test_the_size_check_sees_every_room():
    modules = _modules()
    assert {"tfnas.store.evaluations", "tfnas.search_spaces.nas_bench_nlp.space", "tfnas.strategies.evolution"} <= set(modules)
