"""`tfnas validate-training`: every distinct labelled cell, shared out by shards."""
from pathlib import Path

import pytest

from tfnas.errors import ConfigError
from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
from tfnas.experiments.stability import cells_by_id as labelled_cells_by_id, labelled_cells

ROOT = Path(__file__).resolve().parents[3]


def _script():
    from tfnas.commands import validate_training

    return validate_training


def test_all_cells_are_the_distinct_labelled_networks_and_shards_split_them():
    space = NasBenchNLPSpace()
    every = labelled_cells(space, None, seed=0)
    assert len(every) == 215 and len({space.hash(r) for _, r in every}) == 215  # 275 labelled ids, 215 distinct networks
    script = _script()
    assert script.cells_from("all") is None and script.cells_from("12") == 12
    k0, n = script.shard_from("0/2")
    halves = every[k0::n] + every[1::n]
    assert sorted(c for c, _ in halves) == sorted(c for c, _ in every)


@pytest.mark.parametrize("flag, value", [("--cells", "0"), ("--cells", "some"), ("--shard", "2/2"), ("--shard", "1")])
def test_bad_cell_and_shard_options_are_refused(flag, value):
    script = _script()
    with pytest.raises(ConfigError) as err:
        (script.cells_from if flag == "--cells" else script.shard_from)(value)
    assert err.value.field == flag


def test_a_resumed_check_keeps_the_rungs_evaluated_before_a_later_divergence(tmp_path):
    """The merging run reuses recorded rungs: a cell that diverged at step 109, after its rung of 100
    was evaluated, keeps its losses at 25..100 (they were once reported as failed on resume)."""
    from tfnas.experiments.training_validation import _recorded_evals
    from tfnas.training.loop import CHECKPOINT_DIR, CURVE_FILE

    cell = tmp_path / "1009703"
    (cell / CHECKPOINT_DIR).mkdir(parents=True)
    (cell / CHECKPOINT_DIR / "state.json").write_text('{"step": 100, "status": "failed", "diverged_at": 109}')
    (cell / CURVE_FILE).write_text("step,seconds,name,value\n25,2.7,eval_loss,8.31\n50,5.0,eval_loss,7.83\n"
                                   "100,10.0,train_loss,6.9\n100,10.0,eval_loss,6.84\n")
    recorded = _recorded_evals(cell)
    assert [recorded[b] for b in (25, 50, 100)] == [8.31, 7.83, 6.84]
    assert 200 not in recorded  # never evaluated there: trained (and fails again) on resume


def test_cells_by_id_keep_the_order_given_and_refuse_an_unlabelled_id():
    space = NasBenchNLPSpace()
    assert _script().ids_from("1009703, 1006326") == ["1009703", "1006326"]
    assert [c for c, _ in labelled_cells_by_id(space, ["1009703", "1006326"])] == ["1009703", "1006326"]
    with pytest.raises(ConfigError) as err:
        labelled_cells_by_id(space, ["1009703", "42"])
    assert err.value.field == "--ids" and "42" in str(err.value)
    with pytest.raises(ConfigError):
        _script().ids_from("1009703,1009703")


def test_a_check_writes_its_report_and_a_rerun_reuses_every_rung(tmp_path):
    """Two tiny cells through two budgets; the report is written at the end whatever the throttle,
    and a second run over the same --out trains nothing (it reads the recorded evaluations)."""
    import torch

    from tfnas.experiments.training_validation import validate_budgets

    torch.manual_seed(0)
    space = NasBenchNLPSpace(model={"emsize": 8, "nhid": 8, "nlayers": 1})
    options = {"batch_size": 2, "bptt": 8, "eval_max_tokens": 64, "bptt_mode": "fixed"}
    kwargs = dict(cells=["1000050", "1000146"], budgets=[2, 4], seed=0, options=options, out=tmp_path, draws=20,
                  report_every_s=1e9, log=lambda *a: None)
    first = validate_budgets(space, **kwargs)
    assert first["cells"] == 2 and [b["steps"] for b in first["budgets"]] == [2, 4]
    assert all((tmp_path / f"validate_training.{ext}").exists() for ext in ("csv", "json", "md"))
    curve = (tmp_path / "1000050" / "curve.csv").read_text()
    again = validate_budgets(space, **kwargs)
    assert (tmp_path / "1000050" / "curve.csv").read_text() == curve  # nothing was trained again
    assert [(r["loss_2"], r["loss_4"]) for r in again["rows"]] == [(r["loss_2"], r["loss_4"]) for r in first["rows"]]
    seconds = [r["seconds"] for r in first["rows"]]
    assert all(s > 0 for s in seconds) and [r["seconds"] for r in again["rows"]] == seconds  # training seconds, not this run's


def test_the_bert_space_is_checked_against_glue_with_the_sign_that_means_agreement(tmp_path):
    """--space bert: ELECTRA pretraining of labelled NAS-Bench-BERT architectures, tau with -GLUE (higher is better)."""
    import csv
    import json

    from scipy.stats import kendalltau

    from tfnas.experiments.training_validation import WORST, read_curves_csv

    from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace

    bench = NasBenchBertSpace().benchmark()
    scores = tmp_path / "metrics.csv"  # a "metric" that is GLUE itself: tau 1; bookkeeping columns are not metrics
    scores.write_text("id,copy,seconds\n" + "".join(f"{i},{bench.query_id(str(i))['glue']},{9 - i}\n" for i in range(3)))
    report = _script().main(["--space", "bert", "--ids", "0,1,2", "--budgets", "1", "--batch-size", "2", "--seq-len", "16",
                             "--bootstrap", "20", "--out", str(tmp_path / "out"), "--metrics-csv", str(scores)])
    tmp_path = tmp_path / "out"
    assert report["metrics_on_these_cells"] == {"copy": pytest.approx(1.0)}
    assert "| copy | 1.000 |" in (tmp_path / "validate_training.md").read_text()
    rows = list(csv.DictReader(open(tmp_path / "validate_training.csv", encoding="utf-8")))
    assert [r["id"] for r in rows] == ["0", "1", "2"] and "benchmark_glue" in rows[0] and "nodes" not in rows[0]
    meta = json.loads((tmp_path / "validate_training.json").read_text())
    assert meta["target"] == "glue" and meta["higher_is_better"] and "WikiText-2" in meta["split_note"]
    loss = [float(r["loss_1"]) if r["status_1"] == "ok" else WORST for r in rows]
    glue = [float(r["benchmark_glue"]) for r in rows]
    assert report["budgets"][0]["kendall_tau"] == pytest.approx(kendalltau(loss, [-g for g in glue])[0])
    assert report["halving_replay"]["pool_best"] == max(glue)
    curves = read_curves_csv(tmp_path / "validate_training.csv")
    assert [curves[r["id"]]["benchmark"] for r in rows] == [-g for g in glue]  # read lower-is-better, like the losses


@pytest.mark.parametrize("argv, field", [(["--space", "bert", "--bptt", "5"], "--bptt"),
                                         (["--space", "bert", "--metrics-csv", str(ROOT / "search_spaces" / "nas_bench_nlp" / "data" / "metric_tables" / "all_metrics.csv")], "--metrics-csv"),
                                         (["--space", "rnn", "--seq-len", "16"], "--seq-len"),
                                         (["--space", "cnn"], "--space"),
                                         (["--ids", "1009703", "--shard", "1/2"], "--shard")])
def test_a_flag_of_the_other_space_is_refused_before_anything_is_written(tmp_path, argv, field):
    with pytest.raises(ConfigError) as err:
        _script().main([*argv, "--cells", "2", "--steps", "1", "--out", str(tmp_path / "out")])
    assert err.value.field == field and not (tmp_path / "out").exists()
