"""The docs site's tables are generated from the registry and the configs: every metric config and group option
appears, with what the code says about it (applicability, direction, needs, docstring)."""
from tfnas.config import group_options
from tfnas.docs_tables import metric_rows, render


def test_the_metric_table_has_every_metric_config_with_its_registry_facts():
    rows = {row["metric"]: row for row in metric_rows()}
    assert set(rows) == set(group_options("metric"))
    assert rows["hidden_cov_l2"]["needs"] == "hidden:2" and rows["hidden_cov_l2"]["spaces"] == "rnn"
    assert rows["head_confidence"]["spaces"] == "bert" and rows["params"]["spaces"] == "bert, rnn"
    assert rows["hidden_cov"]["direction"] == "higher is better"
    assert rows["hidden_cov"]["class"] == "HiddenCovariance (`hidden_cov`)"
    assert rows["synflow"]["doc"].startswith("`synaptic_saliency` under the name")  # the class docstring's first sentence
    table = render("metrics")
    assert table.count("\n") == len(rows) + 1 and "| `zico` |" in table


def test_group_settings_and_command_tables_list_what_the_configs_and_cli_hold():
    strategy = render("group:strategy")
    assert all(f"| `{name}` |" in strategy for name in group_options("strategy"))
    assert "Regularized (aging) evolution" in strategy  # conf/strategy/evolution.yaml's leading comment
    settings = render("settings")
    assert "| `search.budget` | `100` | architectures to score |" in settings and "| `seed` | `0` |" in settings
    assert "| `tfnas reproduce` |" in render("commands")
