"""Two local worker processes sharing one study score exactly the budget, never one more."""
import optuna

from apprun import search


def test_two_workers_score_exactly_the_budget(tmp_path):
    run_dir, budget = tmp_path / "run", 8
    # metric=params scores in microseconds: the workers reach the last slots together, where the race was
    summary = search(run_dir, "search.n_workers=2", "search.threads=1", f"search.budget={budget}", "metric=params")
    study = optuna.load_study(study_name="tfnas", storage=f"sqlite:///{run_dir / 'study.db'}")
    evaluations = [t for t in study.trials if t.user_attrs.get("kind") == "evaluation"]
    assert len(evaluations) == budget == summary["evaluated"]
    assert len({t.user_attrs["hash"] for t in evaluations}) == budget
    assert len({t.user_attrs["worker"]["pid"] for t in evaluations}) == 2  # both workers took part
