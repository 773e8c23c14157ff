"""tfnas compare on a compute axis: the JSON's schema with exactly one recommended row, budgets never exceeded, and
curves recorded by another tool for another set of labels."""
import csv
import json
import math
from pathlib import Path

import pytest

from tfnas.errors import ConfigError
from tfnas.experiments.compare_compute import KINDS, run_compute

ROOT = Path(__file__).resolve().parents[3]
PTB = ROOT / "results" / "validate_training" / "all_cells" / "validate_training.csv"
ROWS = "random,halving,hyperband,hidden_cov->halving,ensemble,multifidelity"  # one of each kind


@pytest.fixture(scope="module")
def compute(tmp_path_factory):
    out = tmp_path_factory.mktemp("compute")
    report = run_compute("rnn", out, [PTB], [1, 1.5, 3], seeds=1, scored=30, pipelines=ROWS, json_path=out / "rnn.json",
                         cache_dir=out)
    return out, report


def test_the_json_has_the_schema_and_exactly_one_recommended_row(compute):
    out, report = compute
    assert json.loads((out / "rnn.json").read_text()) == report
    assert list(report) == ["lower_is_better", "full_steps", "pool_size", "top5_threshold", "budgets", "rows"]
    assert report["lower_is_better"] is True and report["full_steps"] == 33200 and report["pool_size"] == 215
    assert report["budgets"] == [1, 1.5, 3]
    assert sum(r["recommended"] for r in report["rows"]) == 1
    assert next(r for r in report["rows"] if r["recommended"])["pipeline"] == "multifidelity"  # from conf/space/rnn.yaml
    for row in report["rows"]:
        assert list(row) == ["pipeline", "kind", "recommended", "by_budget"] and row["kind"] in KINDS
        assert list(row["by_budget"]) == ["1", "1.5", "3"]
        for value in row["by_budget"].values():
            assert list(value) == ["median", "p_top5", "mean_cost"] and 0 <= value["p_top5"] <= 1
    kinds = {r["pipeline"]: r["kind"] for r in report["rows"]}
    assert kinds["random"] == "random" and kinds["halving"] == kinds["hyperband"] == "multi_fidelity"
    assert kinds["hidden_cov->halving"] == "single_metric" and kinds["ensemble"] == "ensemble"
    assert (out / "rnn_compute.md").exists() and (out / "rnn_compute.png").stat().st_size > 10000


def test_no_pipeline_exceeds_its_budget(compute):
    out, report = compute
    detail = json.loads((out / "rnn_compute_detail.json").read_text())
    for row in detail["rows"]:
        for budget, value in row["by_budget"].items():
            assert value["max_cost"] <= float(budget) + 1e-9, (row["pipeline"], budget)
    random = next(r for r in report["rows"] if r["pipeline"] == "random")
    assert [random["by_budget"][b]["mean_cost"] for b in ("1", "1.5", "3")] == [1.0, 1.0, 3.0]  # whole full trainings only


def test_curves_and_labels_from_another_tool(tmp_path):
    """No report beside the curves, ids that are the labels' model_ids, steps of another full training."""
    with open(PTB, newline="") as handle:
        rows = list(csv.DictReader(handle))[:60]
    labels, curves = tmp_path / "labels.csv", tmp_path / "curves.csv"
    with open(labels, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model_id", "target"])
        writer.writerows([r["id"], 5 + i / 100] for i, r in enumerate(rows))  # another corpus's losses
    with open(curves, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "loss_1000", "status_1000", "loss_2000", "status_2000"])
        writer.writerows([r["id"], 6 + i / 50, "ok", 5.5 + i / 90, "ok"] for i, r in enumerate(rows))
    report = run_compute("rnn", tmp_path / "out", [curves], [1, 2], seeds=1, scored=30, full_steps=50000, labels=str(labels),
                         pipelines="random,multifidelity", cache_dir=tmp_path)
    assert report["pool_size"] == 60 and report["full_steps"] == 50000
    assert report["top5_threshold"] == pytest.approx(5.02)  # the 3rd best of 60 labels
    assert all(math.isfinite(r["by_budget"]["2"]["median"]) for r in report["rows"])


@pytest.mark.parametrize("argv, field", [(["--compute-budgets", "0.5,2"], "--compute-budgets"),
                                         (["--spaces", "rnn,bert", "--json", "x.json"], "--spaces"),
                                         (["--spaces", "rnn", "--training-curves", "no_such_curves.csv"], "--training-curves"),
                                         (["--spaces", "rnn", "--trainings", "1", "--json", "x.json"], "--json")])
def test_bad_flags_are_refused_before_anything_runs(argv, field, tmp_path):
    from tfnas.commands.compare import main

    flags = {"--training-curves": str(PTB), "--out": str(tmp_path / "out")}
    args = argv + [x for k, v in flags.items() if k not in argv for x in (k, v)]
    with pytest.raises(ConfigError) as err:
        main(args)
    assert err.value.field == field and not (tmp_path / "out").exists()
