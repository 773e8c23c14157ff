"""The package as users install it: a built wheel, installed outside the clone, runs a search, every subcommand's
--help and a small reproduction from an empty directory; the clone's search.py runs the clone's code beside it."""
import json
import os
import site
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tfnas.commands import COMMANDS

pytestmark = pytest.mark.xdist_group("wheel")  # one worker runs them all: they share a module fixture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the source without build outputs: setuptools reuses a stale build/lib, which would
    put modules that no longer exist into the wheel."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "tfnas"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        "build", "dist", "*.egg-info", ".git", ".venv", "__pycache__", "outputs", "multirun", "site", ".cache", "results", "runs"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (path,) = out.glob("tfnas-*.whl")
    return path


def test_the_wheel_has_one_top_level_name_the_configs_and_the_command(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"tfnas"}
    assert "tfnas/conf/config.yaml" in names and "tfnas/conf/metric/hidden_cov.yaml" in names
    assert "tfnas/search_spaces/nas_bench_nlp/space.py" in names and "tfnas/strategies/evolution.py" in names
    assert "tfnas/search_spaces/nas_bench_nlp/data/ptb/test.txt" in names  # each space ships its data
    assert "tfnas/search_spaces/nas_bench_bert/data/tokenizer/vocab.txt" in names
    assert "tfnas/search_spaces/nas_bench_nlp/data/PROVENANCE.md" in names
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "tfnas = tfnas.cli:main" in zipfile.ZipFile(wheel).read(info).decode()


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own (its dependencies come from this Python's site-packages)."""
    site_dir = tmp_path_factory.mktemp("installed") / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site_dir), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return site_dir


def outside(site_dir: Path, tmp_path: Path) -> tuple[Path, dict]:
    """An empty working directory and an environment that imports tfnas from the installed wheel only."""
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty, {**os.environ, "PYTHONPATH": str(site_dir), "OMP_NUM_THREADS": "1"}


def test_the_installed_wheel_runs_a_search_from_an_empty_directory(installed, tmp_path):
    empty, env = outside(installed, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "tfnas", "search.budget=3", "space.model.emsize=16", "space.model.nhid=24",
         "space.batch_size=8", "space.seq_len=12", "hydra.run.dir=run"],
        cwd=empty, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"run_dir={empty / 'run'}" in proc.stdout and str(installed) not in proc.stdout.split("report:")[0]
    rows = (empty / "run" / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 3
    # the code that ran is the installed copy, not the clone
    check = subprocess.run([sys.executable, "-c", "import tfnas.search_spaces as s; print(s.__file__)"],
                           cwd=empty, env=env, capture_output=True, text=True)
    assert check.stdout.strip().startswith(str(installed))


# One interpreter asks every subcommand for its --help (the imports are shared, so this costs one start).
EVERY_HELP = r"""
import contextlib, io, json, sys
import tfnas
from tfnas.cli import main
from tfnas.commands import COMMANDS
texts = {}
for name in COMMANDS:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            main([name, "--help"])
        code = 0
    except SystemExit as exit:
        code = exit.code or 0
    texts[name] = {"code": code, "text": out.getvalue()}
print(json.dumps({"tfnas": tfnas.__file__, "help": texts}))
"""


def test_every_subcommand_help_works_from_the_wheel(installed, tmp_path):
    empty, env = outside(installed, tmp_path)
    proc = subprocess.run([sys.executable, "-c", EVERY_HELP], cwd=empty, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["tfnas"].startswith(str(installed))
    assert set(report["help"]) == set(COMMANDS)
    for name, result in report["help"].items():
        assert result["code"] == 0, (name, result)
        assert "usage" in result["text"].lower() or "Config groups" in result["text"], (name, result["text"][:500])
    assert "space=rnn" in report["help"]["search"]["text"]  # the metric lines, listed by space


def test_the_top_level_help_imports_no_torch(installed, tmp_path):
    empty, env = outside(installed, tmp_path)
    code = ("import contextlib, io, sys\nfrom tfnas.cli import main\nout = io.StringIO()\n"
            "try:\n    with contextlib.redirect_stdout(out): main(['--help'])\nexcept SystemExit: pass\n"
            "print('reproduce' in out.getvalue(), 'torch' in sys.modules, 'transformers' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=empty, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["True", "False", "False"]


def test_the_installed_command_reproduces_three_rnn_cells(installed, tmp_path):
    empty, env = outside(installed, tmp_path)
    tiny = json.dumps({"model": {"emsize": 16, "nhid": 24}, "batch_size": 8, "seq_len": 12})
    proc = subprocess.run([str(installed / "bin" / "tfnas"), "reproduce", "rnn", "--limit", "3", "--metrics",
                           "hidden_cov,params", "--out", "table.csv", "--space", tiny],
                          cwd=empty, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = (empty / "table.csv").read_text().splitlines()
    assert len(rows) == 1 + 3 and "hidden_cov" in rows[0]
    assert "hidden_cov" in (empty / "table.md").read_text()


def test_the_clones_search_py_runs_the_clones_code_beside_an_installed_wheel(installed, tmp_path):
    """`python search.py` in a clone with a regular (not editable) install: `tfnas.conf` and the spaces come from
    the clone. `-S` leaves out site's .pth files, so no editable install's finder can supply them."""
    empty, env = outside(installed, tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(installed), *site.getsitepackages()])
    where = ("import runpy, sys; runpy.run_path(sys.argv[1])['use_clone']()\n"
             "import tfnas, tfnas.conf, tfnas.search_spaces.nas_bench_nlp.space as s, tfnas.strategies.evolution as e\n"
             "print(tfnas.__file__, tfnas.conf.__file__, s.__file__, e.__file__)")
    proc = subprocess.run([sys.executable, "-S", "-c", where, str(ROOT / "search.py")], cwd=empty, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert all(path.startswith(str(ROOT)) for path in proc.stdout.split()), proc.stdout
    search = subprocess.run(
        [sys.executable, "-S", str(ROOT / "search.py"), "search.budget=2", "space.model.emsize=16",
         "space.model.nhid=24", "space.batch_size=8", "space.seq_len=12", "hydra.run.dir=run"],
        cwd=empty, env=env, capture_output=True, text=True, timeout=300)
    assert search.returncode == 0, search.stderr[-3000:]
    assert len((empty / "run" / "results.csv").read_text().splitlines()) == 1 + 2


def test_the_installed_wheel_runs_the_compute_axis_comparison_with_its_shipped_tables(wheel, installed, tmp_path):
    """tfnas compare reads the metric tables and the learning curves the space ships through importlib.resources, and
    caches under the working directory."""
    names = zipfile.ZipFile(wheel).namelist()
    assert "tfnas/search_spaces/nas_bench_nlp/data/metric_tables/all_metrics.csv" in names
    assert "tfnas/search_spaces/nas_bench_bert/data/metric_tables/bert_metrics_fast.csv" in names
    assert "tfnas/search_spaces/nas_bench_nlp/data/curves/ptb_short_training.csv" in names
    empty, env = outside(installed, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "tfnas", "compare", "--seeds", "2", "--budget", "10", "--compute-budgets", "1,2",
         "--pipelines", "random,multifidelity", "--out", "out", "--json", "rnn.json"],
        cwd=empty, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (empty / "rnn.json").exists() and (empty / "out" / "rnn_compute.png").exists()
    assert not any(p.name.endswith("_computed.json") for p in installed.rglob("*"))  # nothing cached inside the package
