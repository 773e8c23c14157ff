"""The package as users install it: a built wheel, installed outside the clone, runs a search from an empty directory."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("wheel")  # one worker runs them all: they share a module fixture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
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
    assert "tfnas/resources/ptb/test.txt" in names
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "tfnas = tfnas.cli:main" in zipfile.ZipFile(wheel).read(info).decode()


def test_the_installed_wheel_runs_a_search_from_an_empty_directory(wheel, tmp_path):
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "tfnas", "search.budget=3", "space.model.emsize=16", "space.model.nhid=24",
         "space.batch_size=8", "space.seq_len=12", "hydra.run.dir=run"],
        cwd=empty, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"run_dir={empty / 'run'}" in proc.stdout and str(site) not in proc.stdout.split("report:")[0]
    rows = (empty / "run" / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 3
    # the code that ran is the installed copy, not the clone
    check = subprocess.run([sys.executable, "-c", "import tfnas.search_spaces as s; print(s.__file__)"],
                           cwd=empty, env=env, capture_output=True, text=True)
    assert check.stdout.strip().startswith(str(site))


def test_the_installed_wheel_runs_the_compute_axis_comparison_with_its_shipped_tables(wheel, tmp_path):
    """tfnas compare reads the metric tables through importlib.resources and caches under the working directory."""
    names = zipfile.ZipFile(wheel).namelist()
    assert "tfnas/search_spaces/nas_bench_nlp/data/metric_tables/all_metrics.csv" in names
    assert "tfnas/search_spaces/nas_bench_bert/data/metric_tables/bert_metrics_fast.csv" in names
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]
    empty = tmp_path / "empty"
    empty.mkdir()
    curves = ROOT / "results" / "validate_training" / "all_cells" / "validate_training.csv"
    env = {**os.environ, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "tfnas", "compare", "--spaces", "rnn", "--training-curves", str(curves), "--seeds", "1",
         "--budget", "20", "--compute-budgets", "1,2", "--pipelines", "random,multifidelity", "--out", "out", "--json", "rnn.json"],
        cwd=empty, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (empty / "rnn.json").exists() and (empty / "out" / "rnn_compute.png").exists()
    assert not any(p.name.endswith("_computed.json") for p in site.rglob("*"))  # nothing cached inside the package
