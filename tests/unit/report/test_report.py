"""Reports from run directories: report.md, plots, benchmark tau, rebuild and multi-run comparison."""
import json
import math

import pytest

from tfnas.report import write_report
from tfnas.commands.report import main as report_main
from tfnas.results import BEST_FILE, SUMMARY_FILE, Record, ResultsWriter, read_results, write_json

PNG = b"\x89PNG\r\n\x1a\n"
TINY_SPACE = {
    "_target_": "tfnas.search_spaces.nas_bench_nlp.NasBenchNLPSpace",
    "model": {"emsize": 16, "nhid": 24, "nlayers": 3},
    "batch_size": 8,
    "seq_len": 12,
}


def make_run(run_dir, space, strategy="random", seed=0, n=6, undefined_at=(2,), offset=0):
    """A finished run of `n` labelled NAS-Bench-NLP recipes whose score is minus their test loss
    (a perfect metric: tau = -1 against the loss), with undefined scores at `undefined_at`."""
    bench = space.benchmark()
    pool = bench.pool()[offset : offset + n]
    run_dir.mkdir(parents=True)
    records = []
    with ResultsWriter(run_dir, ["hidden_cov"]) as writer:
        for i, (arch_id, arch) in enumerate(pool):
            loss = bench.query_id(arch_id)["test_loss"]
            bad = i in undefined_at
            score = -math.inf if bad else -loss
            record = Record(i, space.hash(arch), score, bad, 0.1, {"hidden_cov": score}, space.to_json(arch))
            writer.write(record)
            records.append(record)
    top = sorted(records, key=lambda r: r.score, reverse=True)[:3]
    best = [{"rank": k + 1, "hash": r.hash, "score": r.score, "undefined": r.undefined, "arch": r.arch,
             "trained": {"valid_loss": 5.0 + k}, **{f"field_{j}": j for j in range(8)}} for k, r in enumerate(top)]
    write_json(run_dir / BEST_FILE, best)
    write_json(run_dir / SUMMARY_FILE, {
        "space": "rnn", "strategy": strategy, "metric": "hidden_cov", "higher_is_better": True, "seed": seed,
        "device": "cpu", "budget": n, "evaluated": n, "undefined": len(undefined_at), "duplicates_proposed": 0,
        "stopped_early": None, "best": best[0], "seconds_total": 0.6, "seconds_per_arch_median": 0.1,
        "config": {"seed": seed, "space": TINY_SPACE},
    })
    return run_dir


def test_report_has_plots_tau_and_counts_undefined(tmp_path, tiny_rnn_space):
    run_dir = make_run(tmp_path / "run", tiny_rnn_space, n=12)
    path = write_report(run_dir)  # rebuilds the space from summary.json's config
    text = path.read_text()
    assert path.name == "report.md"
    for png in ("best_so_far.png", "score_histogram.png", "metric_vs_benchmark.png"):
        assert (run_dir / "plots" / png).read_bytes()[:8] == PNG
        assert f"plots/{png}" in text
    assert "**1 undefined**" in text and "Undefined at evaluation index: 2." in text
    summary = json.loads((run_dir / SUMMARY_FILE).read_text())
    bench = summary["report"]["benchmark"]
    assert bench["matched"] == 12 and bench["excluded_undefined"] == 1 and bench["kendall_n"] == 11
    assert bench["kendall_tau"] == pytest.approx(-1.0)
    assert bench["kendall_ci95"] == pytest.approx([-1.0, -1.0])  # a perfect metric stays perfect on every resample
    assert "Kendall τ(hidden_cov, test_loss) = -1.000 [95% CI -1.000, -1.000] (n = 11)" in text
    # the metric's best pick is the lowest-loss defined architecture
    rows = read_results(run_dir)
    defined_losses = [-r["score"] for r in rows if not r["undefined"]]
    assert bench["best_found_target"] == pytest.approx(min(defined_losses))
    assert summary["report"]["undefined_indexes"] == [2]
    # the table shows at most 10 columns; best.csv has every column, trained results included
    header = text.split("## Best architectures")[1].strip().splitlines()[0]
    assert "test_loss (benchmark)" in header and header.count("|") - 1 <= 10
    csv_header = (run_dir / "best.csv").read_text().splitlines()[0].split(",")
    assert "trained/valid_loss" in csv_header and len(csv_header) > 10
    assert "`best.csv`" in text


def test_tau_is_not_shown_for_few_labelled_architectures(tmp_path, tiny_rnn_space):
    run_dir = make_run(tmp_path / "run", tiny_rnn_space, n=6)
    text = write_report(run_dir).read_text()
    bench = json.loads((run_dir / SUMMARY_FILE).read_text())["report"]["benchmark"]
    assert bench["kendall_tau"] is None and bench["kendall_ci95"] is None and bench["kendall_n"] == 5
    assert "Kendall τ not shown: n = 5 labelled architectures with defined scores (needs ≥ 10)" in text


def test_training_curves_plot(tmp_path, tiny_rnn_space):
    run_dir = make_run(tmp_path / "run", tiny_rnn_space, n=4, undefined_at=())
    best = json.loads((run_dir / BEST_FILE).read_text())
    lines = ["hash,search_rank,step,seconds,name,value"]
    for entry in best[:2]:
        lines += [f"{entry['hash']},{entry['rank']},{step},0.1,train_loss,{9 - step / 10}" for step in range(1, 11)]
        lines.append(f"{entry['hash']},{entry['rank']},10,1.0,eval_loss,8.5")
    (run_dir / "training_curves.csv").write_text("\n".join(lines) + "\n")
    text = write_report(run_dir).read_text()
    assert (run_dir / "plots" / "training_curves.png").read_bytes()[:8] == PNG
    assert "## Training curves" in text and "plots/training_curves.png" in text


def test_wide_metrics_get_a_symlog_axis_and_readable_bins():
    import numpy as np

    from tfnas.report.plots import _symlog_edges, wide

    heavy = [-238.0, -410.0, -903.0, -1.5e3, -4e3, -9e3, -2.4e4, -6e4, -1.1e5, -3e5, -5e5, -8e5, -1.2e6, -1.9e6, -2.2e6]
    threshold = wide(heavy)
    assert threshold is not None
    counts, _ = np.histogram(heavy, bins=_symlog_edges(np.asarray(heavy), threshold, 5))
    assert counts.max() <= 5  # on a linear axis 13 of these 15 share one bin
    assert wide([4.5, 4.9, 5.3, 6.3]) is None


def test_comparison_plot_has_median_band_and_one_legend(tmp_path):
    import numpy as np

    from tfnas.report.plots import plot_comparison

    curves = {"m": {f"s{i}": [np.cumsum(np.ones(8)) * (i + k) for k in range(3)] for i in range(12)}}
    fig = plot_comparison(tmp_path / "c.png", curves, {"m": True})
    (ax,) = fig.axes
    assert len(fig.legends) == 1 and ax.get_legend() is None
    handles = fig.legends[0].legend_handles
    assert len(handles) == 12 and "median, IQR band; 3 seeds" in handles[0].get_label()
    assert len({(h.get_color(), h.get_marker(), h.get_linestyle()) for h in handles}) == 12
    assert len(ax.collections) >= 12  # one interquartile band per group


def test_training_curves_draw_every_candidate_mark_divergence_and_leave_out_bookkeeping(tmp_path):
    from PIL import Image

    from tfnas.report.plots import DPI, plot_training_curves

    curves = {
        "aaa": {"train_loss": [(1, 9.0), (10, 8.5), (20, 8.1)], "bptt": [(1, 75.0), (10, 71.0)], "eval_loss": [(20, 8.2)]},
        "bbb": {"train_loss": [(1, 9.1), (10, 8.7)], "bptt": [(1, 75.0)]},  # diverged at step 12
        "ccc": {},  # diverged at step 3, before its first logged value
    }
    labels = {"aaa": "#1 aaa", "bbb": "#2 bbb", "ccc": "#3 ccc"}
    fig = plot_training_curves(tmp_path / "c.png", curves, labels, {"bbb": 12, "ccc": 3})
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["train loss", "eval loss"]  # no panel for the BPTT window length
    assert fig.get_suptitle() and len(fig.legends) == 1
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "#2 bbb (diverged at step 12)" in texts and "#3 ccc (diverged at step 3)" in texts and "#1 aaa" in texts
    handles = fig.legends[0].legend_handles[:3]
    assert len({(h.get_color(), h.get_linestyle()) for h in handles}) == 3  # distinct line styles
    marks = [c.get_offsets()[0][0] for c in fig.axes[0].collections]
    assert sorted(marks) == [3, 12]  # both divergences drawn where they happened
    assert Image.open(tmp_path / "c.png").info["dpi"][0] >= DPI - 1


def test_wide_positive_values_get_a_log_axis_that_says_so():
    from matplotlib.figure import Figure

    from tfnas.report.plots import scale_axis

    ax = Figure().add_subplot()
    assert scale_axis(ax, [1.0, 30.0, 2e4, 5e9], "x", "hidden_saliency")
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "hidden_saliency (log axis)"
    ax = Figure().add_subplot()
    assert scale_axis(ax, [-238.0, -4e3, -2.2e6], "y", "hidden_cov")
    assert ax.get_yscale() == "symlog" and ax.get_ylabel() == "hidden_cov (symlog axis)"


def test_report_rebuild_from_command_line(tmp_path, tiny_rnn_space, capsys):
    run_dir = make_run(tmp_path / "run", tiny_rnn_space, undefined_at=())
    assert report_main([str(run_dir)]) == 0
    assert "report.md" in capsys.readouterr().out
    (run_dir / "report.md").unlink()
    assert report_main([str(run_dir)]) == 0
    assert "**0 undefined**" in (run_dir / "report.md").read_text()


def test_compare_sweep_dir_tables_strategy_metric_seed(tmp_path, tiny_rnn_space, capsys):
    sweep = tmp_path / "sweep"
    for job, (strategy, seed) in enumerate([("random", 0), ("random", 1), ("evolution", 0), ("evolution", 1)]):
        make_run(sweep / str(job), tiny_rnn_space, strategy=strategy, seed=seed, n=4, undefined_at=(), offset=job)
    make_run(sweep / "10", tiny_rnn_space, strategy="random", seed=2, n=4, undefined_at=(1,))
    assert report_main([str(sweep)]) == 0
    out = capsys.readouterr().out
    comparison = (sweep / "comparison.md").read_text()
    assert "| strategy | metric | seed 0 | seed 1 | seed 2 |" in comparison
    assert "Kendall τ (metric vs benchmark result; 95% bootstrap CI; only with n ≥ 10)" in comparison
    assert (sweep / "plots" / "comparison_best_so_far.png").read_bytes()[:8] == PNG
    runs_table = comparison.split("## Runs")[1].split("##")[0]
    # job folders in numeric order (10 after 1), each run once
    assert [line.split("|")[1].strip() for line in runs_table.strip().splitlines()[2:]] == ["0", "1", "2", "3", "10"]
    evolution_row = next(line for line in comparison.split("## best score")[1].splitlines() if line.startswith("| evolution"))
    assert evolution_row.count("—") == 1  # evolution has no seed-2 run
    assert "comparison of 5 runs" in out
    # each run got its report on the way (the comparison reads it from summary.json)
    assert (sweep / "10" / "report.md").exists()


def test_report_command_rejects_a_directory_without_runs(tmp_path):
    with pytest.raises(SystemExit):
        report_main([str(tmp_path)])


def test_a_run_without_its_report_gets_it_from_the_report_command(tmp_path, capsys):
    """search.report=false (big sweeps) skips report.md and the plots; `python -m tfnas.report RUN` writes them."""
    from apprun import search

    run_dir = tmp_path / "run"
    search(run_dir, "search.budget=2", "search.report=false")
    assert f"report: skipped (python -m tfnas.report {run_dir} writes it)" in capsys.readouterr().out
    assert not (run_dir / "report.md").exists() and not (run_dir / "plots").exists()
    assert report_main([str(run_dir)]) == 0
    assert (run_dir / "report.md").exists() and (run_dir / "plots" / "best_so_far.png").stat().st_size > 0
