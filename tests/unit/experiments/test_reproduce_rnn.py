"""Report generation of `tfnas reproduce rnn` on a few architectures at tiny size (streaming, rerun skip)."""
import csv
import importlib
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TINY = json.dumps({"model": {"emsize": 16, "nhid": 24, "nlayers": 3}, "batch_size": 8, "seq_len": 12})


def load_script(name):
    return importlib.import_module(f"tfnas.commands.{name}")


def test_report_figures_and_rerun_skip(tmp_path, capsys):
    script = load_script("reproduce_rnn")
    out = tmp_path / "scores.csv"
    args = ["--metrics", "hidden_cov,jacobian_cosine,activation_distance,hidden_saliency", "--out", str(out),
            "--limit", "3", "--workers", "1", "--space", TINY, "--figures", str(tmp_path / "fig")]
    assert script.main(args) == 0
    printed = capsys.readouterr().out
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:5] == ["model_id", "hidden_cov", "jacobian_cosine", "activation_distance", "hidden_saliency"]
    assert len(rows) == 3
    assert "| hidden_cov | 3 |" in printed and "Undefined values" in printed
    assert "rank_average" in printed  # the combined metric is reported beside the single ones
    assert (tmp_path / "fig" / "hidden_cov.png").stat().st_size > 1000
    assert (tmp_path / "scores.md").read_text().startswith("# RNN table")
    # a rerun with one more architecture scores only the new one
    assert script.main(args[:5] + ["4"] + args[6:]) == 0
    with open(out, newline="") as handle:
        again = list(csv.DictReader(handle))
    assert len(again) == 4 and [r["seconds"] for r in again[:3]] == [r["seconds"] for r in rows]


def test_rerun_with_other_metrics_is_refused(tmp_path):
    from tfnas.errors import ConfigError

    script = load_script("reproduce_rnn")
    out = tmp_path / "scores.csv"
    base = ["--out", str(out), "--limit", "1", "--workers", "1", "--space", TINY, "--rank-average", ""]
    script.main(["--metrics", "hidden_cov"] + base)
    with pytest.raises(ConfigError, match="--out"):
        script.main(["--metrics", "params"] + base)


def test_unknown_metric_names_the_choices():
    from tfnas.errors import ConfigError
    from tfnas.experiments.rnn_table import metric_names

    with pytest.raises(ConfigError, match="hidden_cov"):
        metric_names("hiden_cov")
    assert "noise_jacobian_large" in metric_names("all") and "rank_average" not in metric_names("all")
    assert "grasp" in metric_names("zoo", "bert") and not {"grasp_full", "grasp_full_norm"} & set(metric_names("all", "bert"))


def test_ablation_reports_variation_per_metric(tmp_path, capsys):
    script = load_script("ablate")
    out = tmp_path / "ablation.csv"
    assert script.main(["--metrics", "hidden_cov,params", "--archs", "3", "--repeats", "3", "--out", str(out),
                        "--space", TINY, "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 3 * 2
    assert "| params | 0 | inf | 0 | inf | 0 |" in printed  # parameter count moves with neither batch nor seed
    cv, ratio, undefined = script.variation({"a": [1.0, 3.0], "b": [10.0, 10.0]})
    assert ratio == pytest.approx(statistics_between())
    assert undefined == 0


def statistics_between():
    # means 2 and 10 -> between variance 16; within variances 1 and 0 -> mean 0.5
    return 16 / 0.5
