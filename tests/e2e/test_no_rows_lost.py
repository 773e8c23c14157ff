"""Runs never lose rows: a start whose study lacks rows of results.csv refuses (or, with
search.overwrite=true, moves the old file aside), and reports say when results.csv was cut."""
import csv
import shutil

import pytest

from apprun import search
from tfnas.errors import ConfigError
from tfnas.cli import main as tfnas
from tfnas.results import read_results


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    search(run_dir, "search.budget=3")
    return run_dir


def copy(finished, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(finished, run_dir)
    return run_dir


def rows(path):
    path = path / "results.csv" if path.is_dir() else path
    with open(path, newline="") as handle:
        return [r["hash"] for r in csv.DictReader(handle)]


def empty_db(run_dir):
    (run_dir / "study.db").write_bytes(b"")
    return []


def deleted_db(run_dir):
    (run_dir / "study.db").unlink()
    return []


WAYS_IN = {
    "empty study.db": (empty_db, []),
    "deleted study.db": (deleted_db, []),
    "storage=memory": (lambda d: None, ["search.storage=memory"]),
    "new study_name": (lambda d: None, ["search.study_name=other"]),
}


@pytest.mark.parametrize("way", sorted(WAYS_IN))
def test_a_start_that_would_drop_rows_refuses_naming_the_file_and_the_way_out(finished, tmp_path, way):
    run_dir = copy(finished, tmp_path)
    before = (run_dir / "results.csv").read_bytes()
    damage, overrides = WAYS_IN[way]
    damage(run_dir)
    with pytest.raises(ConfigError) as err:
        search(run_dir, "search.budget=4", *overrides)
    message = str(err.value)
    assert message.startswith("search.overwrite:") and str(run_dir / "results.csv") in message
    assert "3 scored architecture(s)" in message and "search.overwrite=true" in message and "hydra.run.dir" in message
    assert (run_dir / "results.csv").read_bytes() == before  # nothing lost


def test_overwrite_moves_the_old_file_aside_with_a_timestamp(finished, tmp_path):
    run_dir = copy(finished, tmp_path)
    old = rows(run_dir)
    summary = search(run_dir, "search.budget=2", "search.storage=memory", "search.overwrite=true")
    (aside,) = run_dir.glob("results.*.csv")
    assert rows(aside) == old and len(rows(run_dir)) == 2 and summary["evaluated"] == 2


def test_resuming_on_the_same_study_keeps_every_row(finished, tmp_path):
    run_dir = copy(finished, tmp_path)
    search(run_dir, "search.budget=4")
    assert set(rows(finished)) < set(rows(run_dir)) and len(rows(run_dir)) == 4


def test_a_report_from_a_results_file_cut_mid_row_warns_and_keeps_the_whole_rows(finished, tmp_path, capsys):
    run_dir = copy(finished, tmp_path)
    text = (run_dir / "results.csv").read_text()
    (run_dir / "results.csv").write_text(text[: len(text) - 40])  # the last row cut mid-write
    assert report_cli([str(run_dir)]) == 0
    assert len(read_results(run_dir)) == 2
    report = (run_dir / "report.md").read_text()
    assert "**Warning:** results.csv holds 2 row(s) but the run scored 3" in report


def test_a_report_from_a_results_file_cut_at_a_line_boundary_warns(finished, tmp_path):
    run_dir = copy(finished, tmp_path)
    lines = (run_dir / "results.csv").read_text().splitlines(keepends=True)
    (run_dir / "results.csv").write_text("".join(lines[:2]))
    assert report_cli([str(run_dir)]) == 0
    assert "results.csv holds 1 row(s) but the run scored 3" in (run_dir / "report.md").read_text()


def test_a_broken_row_inside_the_file_is_one_error_line(finished, tmp_path, capsys):
    run_dir = copy(finished, tmp_path)
    lines = (run_dir / "results.csv").read_text().splitlines(keepends=True)
    lines[1] = "garbage,row\n"
    (run_dir / "results.csv").write_text("".join(lines))
    assert report_cli([str(run_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tfnas report: error:") and "line 2" in err and len(err.splitlines()) == 1


def report_cli(argv) -> int:
    """`tfnas report ARGV` in this process; its exit status."""
    try:
        tfnas(["report", *argv])
    except SystemExit as stop:
        return stop.code
    return 0
