"""Every script ends through tfnas.experiments.script.run_script: bad input is one line and exit 2."""
import ast
import importlib.util
from pathlib import Path

import pytest

from tfnas.errors import ConfigError
from tfnas.experiments.script import run_script

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))


def test_a_tfnas_error_is_one_line_on_stderr_and_exit_2(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["scripts/some_script.py"])

    def main(argv):
        raise ConfigError("--budgets", "must be increasing")

    with pytest.raises(SystemExit) as exit_info:
        run_script(main, [])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == "some_script: error: --budgets: must be increasing\n"


def test_main_return_value_is_the_exit_status():
    for returned, status in [(None, 0), (0, 0), (3, 3), ({"tau": 0.1}, 0)]:
        with pytest.raises(SystemExit) as exit_info:
            run_script(lambda argv, r=returned: r, [])
        assert exit_info.value.code == status


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_every_script_takes_argv_and_ends_with_run_script(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
    assert mains and mains[0].args.args and mains[0].args.args[0].arg == "argv", f"{path.name}: main(argv=None)"
    guard = tree.body[-1]
    assert isinstance(guard, ast.If) and "__main__" in ast.unparse(guard.test)
    assert ast.unparse(guard.body[0]).strip() == "run_script(main)", f"{path.name} must end with run_script(main)"


def test_an_unknown_metric_in_bench_metrics_exits_2_naming_the_option(capsys):
    spec = importlib.util.spec_from_file_location("bench_metrics", ROOT / "scripts" / "bench_metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as exit_info:
        run_script(module.main, ["--metrics", "no_such_metric"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--metrics" in err and "no_such_metric" in err and "Traceback" not in err
