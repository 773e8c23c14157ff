"""Agreement of short training between two training seeds (scripts/training_seed_agreement.py)."""
import csv

import pytest

from tfnas.errors import ConfigError
from tfnas.experiments.training_validation import seed_agreement, seed_agreement_markdown


def _run(path, losses, failed=()):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "benchmark_test_loss", "loss_25", "status_25", "loss_50", "status_50"])
        writer.writeheader()
        for i, (early, late) in enumerate(losses):
            writer.writerow({"id": f"c{i}", "benchmark_test_loss": 4.5 + 0.1 * i, "loss_25": early, "status_25": "ok",
                             "loss_50": "inf" if i in failed else late, "status_50": "failed" if i in failed else "ok"})
    return path


def test_two_seeds_that_agree_and_disagree_are_told_apart(tmp_path):
    a = _run(tmp_path / "a.csv", [(8.0 + i, 6.0 + i) for i in range(6)])  # both budgets follow the benchmark
    b = _run(tmp_path / "b.csv", [(8.0 + i, 6.0 - i) for i in range(6)], failed={0})  # 50 steps: reversed, and cell 0 failed
    report = seed_agreement([a, b], draws=200)
    by_steps = {r["steps"]: r for r in report["budgets"]}
    assert report["cells"] == 6 and set(by_steps) == {25, 50}
    assert by_steps[25]["tau_between_seeds"] == pytest.approx(1.0)
    assert by_steps[25]["tau_benchmark"] == [pytest.approx(1.0), pytest.approx(1.0)]
    # the failed cell ranks worst, so at 50 steps run B reverses all but it: the seeds disagree
    assert by_steps[50]["tau_between_seeds"] < 0 and by_steps[50]["failed"] == [0, 1]
    assert "| 50 |" in seed_agreement_markdown(report)


def test_a_higher_is_better_target_is_read_negated_as_its_report_says(tmp_path):
    """validate_training --space bert writes benchmark_glue and higher_is_better in its JSON: a short-training
    loss that falls as GLUE rises agrees with the benchmark (positive tau)."""
    runs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.csv"
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["id", "benchmark_glue", "loss_25", "status_25"])
            writer.writeheader()
            writer.writerows({"id": f"c{i}", "benchmark_glue": 70 + i, "loss_25": 0.4 - 0.01 * i, "status_25": "ok"} for i in range(5))
        path.with_suffix(".json").write_text('{"higher_is_better": true}')
        runs.append(path)
    report = seed_agreement(runs, draws=50)
    assert report["benchmark_negated"] and report["budgets"][0]["tau_benchmark"] == [pytest.approx(1.0)] * 2
    assert "negated target" in seed_agreement_markdown(report)


def test_bad_runs_are_refused_naming_the_option(tmp_path):
    a = _run(tmp_path / "a.csv", [(8.0, 6.0)] * 4)
    with pytest.raises(ConfigError, match="--runs.*exactly two"):
        seed_agreement([a])
    with pytest.raises(ConfigError, match="--runs.*does not exist"):
        seed_agreement([a, tmp_path / "missing.csv"])
    broken = tmp_path / "broken.csv"
    broken.write_text(a.read_text().replace("6.0", "six", 1))
    with pytest.raises(ConfigError, match="line 2"):
        seed_agreement([a, broken])


def test_the_script_writes_the_report(tmp_path, capsys):
    from tfnas.commands import seed_agreement as script
    a = _run(tmp_path / "a.csv", [(8.0 + i, 6.0 + i) for i in range(5)])
    b = _run(tmp_path / "b.csv", [(8.0 - i, 6.0 + i) for i in range(5)])
    script.main(["--runs", f"{a},{b}", "--bootstrap", "50", "--out", str(tmp_path / "out")])
    text = (tmp_path / "out" / "seed_agreement.md").read_text()
    assert "| 25 | -1.000" in text and "| 50 | 1.000" in text and text in capsys.readouterr().out
