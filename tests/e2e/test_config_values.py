"""Every config value is validated before anything is written, with the field named; Hydra's
own errors (a run directory that cannot be made) end the command with one line."""

import pytest

from apprun import TINY, cli, search
from tfnas.errors import ConfigError

@pytest.mark.parametrize("overrides, field", [
    (["seed=abc"], "seed"),
    (["seed=true"], "seed"),
    (["seed=-1"], "seed"),
    (["space.model.nhid=0"], "space.model.nhid"),
    (["space.model.emsize=true"], "space.model.emsize"),
    (["space.model.dropout=1.5"], "space.model.dropout"),
    (["search.top_k=-1"], "search.top_k"),
    (["search.top_k=0"], "search.top_k"),
    (["search.top_k=true"], "search.top_k"),
    (["search.budget=true"], "search.budget"),
    (["search.n_workers=true"], "search.n_workers"),
    (["search.threads=0"], "search.threads"),
    (["search.threads=false"], "search.threads"),
    (["search.progress=1"], "search.progress"),
    (["search.overwrite=1"], "search.overwrite"),
    (["strategy=pruned"], "strategy.rule"),
    (["strategy=pruned", "strategy.rule='10**10**10 > 1'"], "strategy.rule"),
    (["strategy=pruned", "strategy.rule='num_nodes/0 > 1'"], "strategy.rule"),
    (["strategy=pruned", "strategy.analysis=this:s", "strategy.rule=auto"], "strategy.analysis"),
    (["space.batch_size=100000", "space.seq_len=1"], "space.batch_size"),
    (["space.hidden_tuple_sizes=[1,100]", "space.hidden_tuple_weights=[1,1]"], "space.hidden_tuple_sizes"),
])
def test_bad_values_name_their_field_before_anything_is_written(tmp_path, overrides, field):
    run_dir = tmp_path / "run"
    with pytest.raises(ConfigError) as err:
        search(run_dir, "search.budget=2", *overrides)
    assert err.value.field == field, str(err.value)
    assert not run_dir.exists() or not any(run_dir.iterdir())


@pytest.mark.parametrize("run_dir", ["/proc/tfnas-cannot-be-here", "/dev/null/run"])
def test_a_run_directory_that_cannot_be_made_is_one_line(run_dir, monkeypatch, capsys):
    assert cli(monkeypatch, *TINY, f"hydra.run.dir={run_dir}", "search.budget=1") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfnas: error: hydra.run.dir: cannot create"), lines


def test_hydra_config_errors_end_with_exit_2_and_no_traceback(monkeypatch, capsys):
    assert cli(monkeypatch, "search.budgt=3") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("tfnas: error: Could not override 'search.budgt'.")


def test_a_rule_that_mixes_types_is_a_config_error_naming_the_rule(tmp_path):
    with pytest.raises(ConfigError, match="strategy.rule: rule 'num_nodes < \"a\"' mixes values"):
        search(tmp_path / "run", "search.budget=2", "strategy=pruned", "strategy.rule='num_nodes < \"a\"'")
    assert not (tmp_path / "run").exists()  # found before the store was opened (the run dir is made after every check)
