"""`--help` (conf/hydra/help/tfnas.yaml): the app, each group, and the metrics by space, from the configs."""
import string

from tfnas.config import compose, group_options
from tfnas.help import description, register


def test_help_lists_groups_and_metrics_by_space():
    register()
    text = compose(return_hydra_config=True).hydra.help.template
    page = string.Template(text).substitute(FLAGS_HELP="", HYDRA_CONFIG_GROUPS="", APP_CONFIG_GROUPS="", CONFIG="")
    assert page.startswith("tfnas: training-free neural architecture search")
    for group in ("space", "strategy", "metric", "train", "tracking"):
        assert f"\n{group}: " in page
    rnn, bert = page.split("space=rnn:")[1], page.split("space=bert:")[1].split("space=rnn:")[0]
    names = lambda block: {line.split()[0] for line in block.split("\n\n")[0].splitlines()[1:]}  # noqa: E731
    assert "hidden_cov" in names(rnn) and "hidden_cov" not in names(bert)
    assert "head_confidence" in names(bert) and "head_confidence" not in names(rnn)
    assert names(rnn) | names(bert) == set(group_options("metric"))  # every metric config, under a space it applies to
    assert "  evolution " in page and "Regularized (aging) evolution" in page
    assert max(len(line) for line in page.splitlines() if line.startswith("  ")) <= 118


def test_description_skips_the_defaults_list():
    assert description("space", "bert").startswith("NAS-Bench-BERT")
    assert description("metric", "hidden_cov") == \
        "Hidden covariance (Serianni & Kalita 2023): decorrelation of a layer's hidden units."
