"""A third-party package adds a metric and a strategy through entry points, with its own Hydra configs."""
import importlib
import sys
import textwrap

import pytest

from tfnas.app import run
from tfnas.config import compose, group_options
from tfnas.results import read_results

from apprun import TINY


METRIC = '''
from tfnas.metrics.base import METRICS, Metric


@METRICS.register("half_params")
class HalfParams(Metric):
    name = "half_params"
    higher_is_better = False

    def needs(self):
        return {"params"}

    def compute(self, probe):
        return probe.num_parameters() / 2
'''

STRATEGY = '''
from tfnas.strategy import STRATEGIES, Strategy


@STRATEGIES.register("first_draws")
class FirstDraws(Strategy):
    name = "first_draws"

    def ask(self):
        return self._candidate(self.space.sample(self.rng))
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Install `demo_tfnas_plugin` the way pip would: the package plus a dist-info with entry_points.txt."""
    pkg = tmp_path / "demo_tfnas_plugin"
    (pkg / "conf" / "metric").mkdir(parents=True)
    (pkg / "conf" / "strategy").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "conf" / "__init__.py").write_text("")
    (pkg / "half_params.py").write_text(METRIC)
    (pkg / "first_draws.py").write_text(STRATEGY)
    (pkg / "conf" / "metric" / "half_params.yaml").write_text("_target_: demo_tfnas_plugin.half_params.HalfParams\n")
    (pkg / "conf" / "strategy" / "first_draws.yaml").write_text("_target_: demo_tfnas_plugin.first_draws.FirstDraws\n")
    info = tmp_path / "demo_tfnas_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-tfnas-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""\
        [tfnas.metrics]
        half_params = demo_tfnas_plugin.half_params

        [tfnas.strategies]
        first_draws = demo_tfnas_plugin.first_draws

        [tfnas.conf]
        demo = demo_tfnas_plugin.conf
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    from tfnas.metrics.base import METRICS
    from tfnas.strategy import STRATEGIES

    for registry in (METRICS, STRATEGIES):  # rediscover with the plug-in on the path
        monkeypatch.setattr(registry, "_discovered", False)
    yield
    for name in [m for m in sys.modules if m.startswith("demo_tfnas_plugin")]:
        del sys.modules[name]
    METRICS._entries.pop("half_params", None)
    STRATEGIES._entries.pop("first_draws", None)


def test_a_plugin_metric_and_strategy_run_a_search(plugin, tmp_path):
    from tfnas.metrics.base import METRICS
    from tfnas.strategy import STRATEGIES

    assert "half_params" in METRICS.names() and "first_draws" in STRATEGIES.names()
    assert "half_params" in group_options("metric") and "first_draws" in group_options("strategy")
    summary = run(compose([*TINY, "metric=half_params", "strategy=first_draws", "search.budget=3"]), tmp_path / "run")
    rows = read_results(tmp_path / "run")
    assert summary["metric"] == "half_params" and summary["strategy"] == "first_draws"
    assert len(rows) == 3 and all(float(r["half_params"]) > 0 for r in rows)
    assert summary["higher_is_better"] is False


def test_without_the_plugin_its_config_is_unknown():
    from hydra.errors import MissingConfigException

    with pytest.raises(MissingConfigException):
        compose(["metric=half_params"])
