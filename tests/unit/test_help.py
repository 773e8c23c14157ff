"""`--help` (conf/hydra/help/tfnas.yaml): the app, each group, and the metrics by space, from the configs."""
import string

from tfnas.config import compose, group_options
from tfnas.help import description, register


def test_help_lists_groups_and_metrics_by_space():
    register()
    text = compose(return_hydra_config=True).hydra.help.template
    page = string.Template(text).substitute(FLAGS_HELP="", HYDRA_CONFIG_GROUPS="", APP_CONFIG_GROUPS="", CONFIG="")
    assert page.startswith("tfnas: training-free neural architecture search")
    for group in ("space", "strategy", "metric", "predictor", "train", "tracking"):
        assert f"\n{group}: " in page
    rnn, bert = page.split("space=rnn:")[1], page.split("space=bert:")[1].split("space=rnn:")[0]
    names = lambda block: {line.split()[0] for line in block.split("\n\n")[0].splitlines()[1:]}  # noqa: E731
    assert "hidden_cov" in names(rnn) and "hidden_cov" not in names(bert)
    assert "head_confidence" in names(bert) and "head_confidence" not in names(rnn)
    assert names(rnn) | names(bert) == set(group_options("metric"))  # every metric config, under a space it applies to
    assert "  evolution " in page and "Regularized (aging) evolution" in page
    assert "  ensemble " in page.split("\npredictor: ")[1] and "search.eval_batch=1" in page
    assert max(len(line) for line in page.splitlines() if line.startswith("  ")) <= 118


def test_description_skips_the_defaults_list():
    assert description("space", "bert").startswith("NAS-Bench-BERT")
    assert description("metric", "hidden_cov") == \
        "Hidden covariance (Serianni & Kalita 2023): decorrelation of a layer's hidden units."


def test_metric_lines_are_cached_on_disk_and_reused_until_a_source_changes(tmp_path, monkeypatch):
    import os

    from tfnas import help as H

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    H.metric_lines.cache_clear()
    first = H.metric_lines()
    (cached,) = (tmp_path / "tfnas" / "help").glob("*.txt")
    assert cached.read_text() == first and "space=rnn" in first

    def never(*_):
        raise AssertionError("the metric lines were rebuilt although nothing changed")

    monkeypatch.setattr(H, "_metric_lines", never)
    H.metric_lines.cache_clear()
    assert H.metric_lines() == first  # read back: no space or metric built (no torch import needed)
    assert H._cache_file() == cached
    import tfnas.metrics.base

    source = tfnas.metrics.base.__file__
    stat = os.stat(source)
    try:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a metric's code changed
        assert H._cache_file() != cached
    finally:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    H.metric_lines.cache_clear()


def test_metric_lines_without_a_writable_cache_are_the_same(tmp_path, monkeypatch):
    from tfnas import help as H

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # mkdir under a file fails
    H.metric_lines.cache_clear()
    assert "space=bert" in H.metric_lines()
    H.metric_lines.cache_clear()
