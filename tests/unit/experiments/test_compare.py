"""The equal-cost comparison on the shipped NAS-Bench-NLP tables (no metric is recomputed)."""
import csv
import math
from importlib.resources import files
from pathlib import Path

import pytest

from tfnas.experiments.compare import Pipeline, compare_space
from tfnas.experiments.compare_report import markdown, whole_pool_picks
from tfnas.experiments.compare_setup import setup_space

ROOT = Path(__file__).resolve().parents[3]
ALL_METRICS = files("tfnas.search_spaces.nas_bench_nlp") / "data" / "metric_tables" / "all_metrics.csv"

KS = (1, 3)


@pytest.fixture(scope="module")
def rnn(tmp_path_factory):
    return setup_space("rnn", None, False, tmp_path_factory.mktemp("cache"))


def test_a_metrics_whole_pool_pick_is_the_target_of_its_favourites(rnn):
    rows = {r["label"]: r["top_k"] for r in whole_pool_picks(rnn, KS)}
    with ALL_METRICS.open(newline="") as handle:
        saliency = {row["model_id"]: float(row["hidden_saliency"]) for row in csv.DictReader(handle)}
    ids = {h: str(i) for h, i in zip(rnn.pool.hashes, rnn.pool.ids)}
    sound = [h for h, a in zip(rnn.pool.hashes, rnn.pool.archs) if rnn.pool.degenerate(a) is None]  # the space's guard
    favourite = min(sound, key=lambda h: saliency[ids[h]])  # hidden saliency: lower is better
    assert rows["hidden_saliency"]["1"] == rnn.truth[favourite]
    for top_k in rows.values():  # more trainings never give a worse best (PTB loss: lower is better)
        assert top_k["3"] <= top_k["1"] and math.isfinite(top_k["3"])
    assert any(label.startswith("equal-weight rank average") for label in rows)


def test_each_whole_pool_row_says_where_the_pools_best_falls(rnn):
    rows = {r["label"]: r for r in whole_pool_picks(rnn, KS)}
    with ALL_METRICS.open(newline="") as handle:
        saliency = {row["model_id"]: float(row["hidden_saliency"]) for row in csv.DictReader(handle)}
    ids = {h: str(i) for h, i in zip(rnn.pool.hashes, rnn.pool.ids)}
    best = min(rnn.pool.hashes, key=rnn.truth.get)
    assert rnn.pool.degenerate(rnn.pool.archs[rnn.pool.hashes.index(best)]) is None
    sound = [h for h, a in zip(rnn.pool.hashes, rnn.pool.archs) if rnn.pool.degenerate(a) is None]
    by_hand = 1 + sum(saliency[ids[h]] < saliency[ids[best]] for h in sound)  # no ties among these values
    assert rows["hidden_saliency"]["best_rank"] == by_hand
    oracle = next(r for label, r in rows.items() if label.startswith("least-squares fit"))
    assert 1 <= oracle["best_rank"] <= len(rnn.pool)
    assert "rank of the pool's best" in markdown(rnn, {"rows": [], "random_trainings": {str(k): {"median": 0, "q1": 0, "q3": 0}
                                                                                        for k in KS},
                                                       "whole_pool": list(rows.values())}, 1, 10, KS, [])


def test_the_oracle_ranks_by_the_least_squares_fit_and_puts_flagged_candidates_last():
    import numpy as np

    from tfnas.experiments.compare_report import oracle_order

    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 3))
    target = features @ np.array([2.0, -1.0, 0.0]) + 5.0  # an exact linear target: the fit recovers its order
    healthy = np.ones(40, dtype=bool)
    healthy[int(np.argmax(target))] = False
    order = oracle_order(features, target, healthy)
    assert order[:-1] == [int(i) for i in np.argsort(-target) if healthy[i]]
    assert order[-1] == int(np.argmax(target))  # the best target, but flagged: last


def test_a_single_metric_search_trains_its_best_scored_and_the_report_says_so(rnn):
    result = compare_space(rnn, [Pipeline("random", "hidden_saliency")], seeds=2, budget=20, ks=KS, checkpoints=[10, 20],
                           log=lambda *a: None)
    (row,) = result["rows"]
    assert row["top_k"]["3"]["median"] <= row["top_k"]["1"]["median"]
    assert row["by_evals"]["20"]["1"]["median"] == row["top_k"]["1"]["median"]  # the full budget is the last checkpoint
    text = markdown(rnn, result, 2, 20, KS, [10, 20])
    assert "random / hidden_saliency" in text and "whole pool of 215" in text


def test_an_ensemble_override_does_not_break_the_whole_pool_table(tmp_path):
    """--override predictor.calibrate_from=3 is an ensemble option; the diagnostic must still compose."""
    setup = setup_space("rnn", None, False, tmp_path, extra=["predictor.calibrate_from=3"])
    assert len(whole_pool_picks(setup, KS)) == 11  # nine metrics, their rank average and the least-squares oracle



BUDGETS = (25, 50, 100, 200)


def _curves_csv(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id"] + [f"{c}_{b}" for b in BUDGETS for c in ("loss", "status")])
        writer.writeheader()
        writer.writerows(rows)


def _row(cell_id, loss, status="ok"):
    row = {"id": cell_id}
    for b in BUDGETS:
        row[f"loss_{b}"], row[f"status_{b}"] = loss, status
    return row


def test_the_halving_row_trains_in_the_stages_order(rnn, tmp_path):
    """Curves that make the metric's 8th-best candidate the clear winner: train=halving (replayed) sends it to the
    benchmark first, and a cell whose training diverged ranks after every candidate that reached a rung."""
    from tfnas.errors import ConfigError
    from tfnas.experiments.compare import halving_replay, run_pipeline

    path = tmp_path / "curves.csv"
    ids = dict(zip(rnn.pool.hashes, rnn.pool.ids))
    _curves_csv(path, [_row(ids[h], 7.0) for h in rnn.pool.hashes])
    with pytest.raises(ConfigError, match="--space rnn --min-steps 50 --max-steps 400 --eta 2.*--halving-steps 25,200"):
        halving_replay(rnn, [path], None, None)  # train=halving's own rungs (50..400) are not all recorded
    assert halving_replay(rnn, [path], 8, (50, 200)).stage.plan().rungs == (50, 100, 200)  # a sub-range: its rungs only
    ranked = run_pipeline(rnn, Pipeline("random", "hidden_saliency"), 0, 30, 30)["trained"]
    values = {h: rnn.cache.values[h]["hidden_saliency"] for h in ranked}
    aside = {h for h, a in zip(rnn.pool.hashes, rnn.pool.archs) if rnn.pool.degenerate(a) is not None}
    assert ranked == sorted(ranked, key=lambda h: (h in aside, values[h]))  # lower saliency is better; the guard's last
    eighth, first = ranked[7], ranked[0]
    rows = [_row(ids[h], 5.0 if h == eighth else 7.0 + 0.001 * i) for i, h in enumerate(rnn.pool.hashes)]
    rows[rnn.pool.hashes.index(first)] = _row(ids[first], "inf", "failed")  # diverged at once
    _curves_csv(path, rows)
    rnn.curves = halving_replay(rnn, [path], 8, (25, 200))
    try:
        trained = run_pipeline(rnn, Pipeline("random", "hidden_saliency", halving=True), 0, 30, 10)["trained"]
        result = compare_space(rnn, [Pipeline("random", "hidden_saliency", halving=True)], seeds=1, budget=30, ks=(1,),
                               checkpoints=[30], log=lambda *a: None)
    finally:
        rnn.curves = None
    assert trained[0] == eighth and trained[7] == first  # the winner first; the diverged cell last of the eight
    assert sorted(trained[:8]) == sorted(ranked[:8]) and trained[8:] == ranked[8:10]  # beyond the entrants: the metric's order
    (row,) = result["rows"]
    assert row["train"] == "halving" and row["label"] == "random / hidden_saliency -> halving"
    assert row["top_k"]["1"]["median"] == row["by_evals"]["30"]["1"]["median"] == rnn.truth[eighth]


def test_the_whole_pool_rank_average_skips_cells_the_guard_flags(rnn, monkeypatch):
    """The ensemble never trains a cell hidden_health flags; its whole-pool row must not either."""
    assert any(not math.isfinite(v["hidden_health"]) for v in rnn.cache.values.values())  # the shipped guard table is read
    label = next(r["label"] for r in whole_pool_picks(rnn, KS) if r["label"].startswith("equal-weight"))
    before = next(r["top_k"] for r in whole_pool_picks(rnn, KS) if r["label"] == label)
    favourite = next(h for h in rnn.pool.hashes if rnn.truth[h] == before["1"] and math.isfinite(rnn.cache.values[h]["hidden_health"]))
    monkeypatch.setitem(rnn.cache.values, favourite, {**rnn.cache.values[favourite], "hidden_health": -math.inf})
    after = next(r["top_k"] for r in whole_pool_picks(rnn, KS) if r["label"] == label)
    assert after["1"] != before["1"]  # the flagged favourite is no longer the first pick


def test_halving_rows_follow_the_metrics_asked_for_and_an_unknown_one_is_refused(rnn, tmp_path):
    from tfnas.errors import ConfigError
    from tfnas.experiments.compare import compare, default_pipelines

    halving = [p for p in default_pipelines(rnn, halving=True) if p.halving]
    assert [(p.strategy, p.metric) for p in halving] == [("random", "hidden_cov")]  # the space's default metric
    halving = [p for p in default_pipelines(rnn, halving=True, halving_metrics=["hidden_saliency", "params"]) if p.halving]
    assert [p.metric for p in halving] == ["hidden_saliency", "params"]
    with pytest.raises(ConfigError) as err:
        compare(["rnn"], 1, 10, [1], tmp_path / "out", halving_metrics=["hidden_salience"])
    assert err.value.field == "--halving-metric" and not (tmp_path / "out").exists()  # refused before anything is written


def test_shortlisted_architectures_without_a_curve_are_listed_with_the_command_and_no_report_is_written(rnn, tmp_path):
    """Only the architectures the halving shortlists reach need curves; the comparison lists every one that lacks
    its curve (ready for validate_training.py --ids), and a second file recorded alike completes the first."""
    from tfnas.errors import ConfigError
    from tfnas.experiments.compare import compare, run_pipeline

    ids = dict(zip(rnn.pool.hashes, rnn.pool.ids))
    ranked = run_pipeline(rnn, Pipeline("random", "hidden_cov"), 0, 30, 30)["trained"]  # seed 0's 30 candidates, best first
    favourite = ranked[0]  # in every shortlist of the comparison below
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    _curves_csv(first, [_row(ids[h], 7.0) for h in rnn.pool.hashes if h != favourite])
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as err:
        compare(["rnn"], 1, 30, [1], out, pipelines="halving", training_curves=[first], halving_steps=(25, 200), cache_dir=tmp_path)
    assert err.value.field == "--training-curves" and f"--ids $(cat {out / 'rnn_missing_curves.txt'})" in str(err.value)
    assert (out / "rnn_missing_curves.txt").read_text().strip() == str(ids[favourite])
    assert not (out / "rnn.md").exists()  # no report from a comparison that could not replay every shortlist
    _curves_csv(second, [_row(ids[favourite], 5.0)])
    first.with_suffix(".json").write_text('{"seed": 0, "options": {"batch_size": 10}}')
    second.with_suffix(".json").write_text('{"seed": 1, "options": {"batch_size": 10}}')
    with pytest.raises(ConfigError, match="pool only curves trained with the same seed"):
        compare(["rnn"], 1, 30, [1], out, pipelines="halving", training_curves=[first, second], halving_steps=(25, 200),
                cache_dir=tmp_path)
    second.with_suffix(".json").write_text('{"seed": 0, "options": {"batch_size": 10}}')
    results = compare(["rnn"], 1, 30, [1], out, pipelines="halving", training_curves=[first, second], halving_steps=(25, 200),
                      cache_dir=tmp_path)
    assert list(results) == ["rnn"] and (out / "rnn.md").exists() and "-> halving" in (out / "rnn.md").read_text()


def test_each_curves_file_applies_to_the_space_whose_benchmark_it_records(rnn, tmp_path):
    from tfnas.experiments.compare_compute import curves_for

    nlp = ROOT / "results" / "validate_training" / "all_cells" / "validate_training.csv"
    bert = ROOT / "results" / "validate_training" / "bert" / "validate_training.csv"
    bare = tmp_path / "bare.csv"  # no benchmark column: every space
    _curves_csv(bare, [_row("1", 7.0)])
    assert curves_for(rnn, [nlp, bert, bare]) == [nlp, bare]
