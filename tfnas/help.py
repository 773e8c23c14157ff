"""`tfnas --help` text built from the configs themselves, so it never drifts from them.

The Hydra help template (conf/hydra/help/tfnas.yaml) calls the `tfnas_help` resolver:
`${tfnas_help:GROUP}` lists a group's options, each with the first line of its config file's
leading comment; `${tfnas_help:metrics}` lists the metrics under each space they apply to
(a metric applies where the space's probe serves all its needs: `Metric.applies_to`).
Plug-in configs (the `tfnas.conf` entry points) are included like the built-in ones.
"""
from __future__ import annotations

import logging
import os
import re
from functools import lru_cache
from pathlib import Path

from omegaconf import OmegaConf

log = logging.getLogger("tfnas")

RESOLVER = "tfnas_help"
WIDTH = 118


HELP_FLAGS = ("--help", "-h")


def register(asked: bool = True) -> None:
    """Make `${tfnas_help:...}` available to Hydra (before it composes the config).

    Hydra resolves the help template on every start, not only for `--help`, and the metric lines build
    every space and metric (importing transformers: seconds). So a command that did not ask for help
    (`asked=False`) gets a one-line placeholder instead; the page itself is unchanged."""
    if OmegaConf.has_resolver(RESOLVER):
        if not asked:
            return
        OmegaConf.clear_resolver(RESOLVER)
    OmegaConf.register_new_resolver(RESOLVER, render if asked else _not_asked, use_cache=True)


def _not_asked(what: str) -> str:
    return f"  (run with --help to list {what})"


def render(what: str) -> str:
    """The lines for `what` (a group name, or `metrics`), with `$` escaped for Hydra's string.Template."""
    try:
        text = metric_lines() if what == "metrics" else group_lines(what)
    except Exception as err:  # noqa: BLE001 - help must always print
        log.debug("help: %s", err)
        text = f"  (could not list {what}: {err})"
    return text.replace("$", "$$")


def _yaml_text(group: str, name: str) -> str:
    from importlib.resources import files

    from tfnas.config import CONFIG_MODULE, plugin_search_path

    for module in [CONFIG_MODULE] + [p[len("pkg://"):] for p in plugin_search_path()]:
        path = files(module) / group / f"{name}.yaml"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


def description(group: str, name: str) -> str:
    """The first sentence of the config file's leading comment (its description)."""
    lines: list[str] = []
    for line in _yaml_text(group, name).splitlines():
        text = line.strip()
        if text.startswith("# @package"):
            continue
        if text.startswith("#"):
            lines.append(text.lstrip("#").strip())
            continue
        if lines:
            break
        if not text or line.startswith(("defaults:", " ", "-")):  # the defaults list comes before the description
            continue
        break
    return re.split(r"(?<=[.!?])\s+(?=[A-Z(`])", " ".join(lines), maxsplit=1)[0] if lines else ""


def _line(name: str, text: str, width: int = 28) -> str:
    """`  name  text`, cut at a word boundary to WIDTH characters."""
    out = f"  {name:<{width}} {text}".rstrip()
    if len(out) <= WIDTH:
        return out
    return out[: WIDTH - 1].rsplit(" ", 1)[0] + " …"


def group_lines(group: str) -> str:
    from tfnas.config import group_options

    return "\n".join(_line(name, description(group, name)) for name in group_options(group))


@lru_cache(maxsize=None)
def spaces_and_metrics() -> tuple[dict, dict]:
    """Every buildable space config (space name -> (config name, space)) and every metric config
    (config name -> metric instance), built from the config files; what the help and the docs list."""
    from hydra.utils import instantiate

    from tfnas.build import build
    from tfnas.config import group_options

    spaces = {}
    for name in group_options("space"):
        node = _strip_defaults(_yaml_text("space", name))
        if "_target_" not in node:  # a variant of another space config (bert_full extends bert)
            continue
        try:
            space = build(OmegaConf.create(node), "space")  # a space's benchmark (labels) section is not an argument
        except Exception as err:  # noqa: BLE001 - a plug-in space that cannot be built is skipped
            log.debug("help: space %s: %s", name, err)
            continue
        spaces.setdefault(space.name, (name, space))
    metrics = {}
    for name in group_options("metric"):
        try:
            metrics[name] = instantiate(OmegaConf.create(_strip_defaults(_yaml_text("metric", name))))
        except Exception as err:  # noqa: BLE001
            log.debug("help: metric %s: %s", name, err)
    return spaces, metrics


def metric_summary(name: str, metrics: dict) -> str:
    """One line: a `_norm` variant says what it divides; any other metric its config's description."""
    base = name[: -len("_norm")]
    if name.endswith("_norm") and base in metrics:  # the registry's normalised variant of a summed metric
        return f"{base} divided by the number of terms it sums"
    return description("metric", name)


@lru_cache(maxsize=None)
def metric_lines() -> str:
    """Every metric config under each space it applies to, one line each; read from the on-disk cache
    when nothing they depend on has changed (building them imports torch and transformers: seconds)."""
    cached = _cache_file()
    try:
        return cached.read_text(encoding="utf-8")
    except (OSError, AttributeError):  # AttributeError: no cache folder (None)
        pass
    text = _metric_lines()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, cached)
    except (OSError, AttributeError) as err:  # a read-only home: no cache, the same text
        log.debug("help: no cache: %s", err)
    return text


def _cache_file():
    """$XDG_CACHE_HOME/tfnas/help/<key>.txt (~/.cache by default); the key covers every file the metric lines
    are computed from (the metric and space code and configs, plug-ins included), the versions and the Python."""
    import hashlib
    import importlib.util
    import sys
    from importlib.resources import files

    import tfnas
    from tfnas.config import CONFIG_MODULE, plugin_search_path

    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(root):
        return None
    folders = [Path(str(files(m))) for m in [CONFIG_MODULE] + [p[len("pkg://"):] for p in plugin_search_path()]]
    for package in ("tfnas.metrics", "tfnas.search_spaces"):
        spec = importlib.util.find_spec(package)
        folders += [Path(f) for f in (spec.submodule_search_locations or [])] if spec else []
    digest = hashlib.sha256(f"{tfnas.__version__} {sys.version} {plugin_search_path()}".encode())
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".yaml"):
                stat = path.stat()
                digest.update(f"{path} {stat.st_mtime_ns} {stat.st_size}".encode())
    return Path(root) / "tfnas" / "help" / f"{digest.hexdigest()[:32]}.txt"


def _metric_lines() -> str:
    spaces, metrics = spaces_and_metrics()

    def text(name: str, metric) -> str:
        return f"{'↑' if metric.higher_is_better else '↓'} {metric_summary(name, metrics)}"

    blocks = ["(↑ higher is better, ↓ lower is better)"]
    for space_name, (config_name, space) in spaces.items():
        rows = [_line(name, text(name, metric), 36) for name, metric in metrics.items() if metric.applies_to(space)]
        blocks.append(f"space={config_name}" + ("" if config_name == space_name else f" ({space_name})") + f": {len(rows)} metrics")
        blocks += rows
        blocks.append("")
    return "\n".join(blocks).rstrip()


def _strip_defaults(text: str) -> dict:
    """A group config without its Hydra-only keys (`defaults`, `# @package`)."""
    node = OmegaConf.to_container(OmegaConf.create(text or "{}"), resolve=False) or {}
    node.pop("defaults", None)
    return node
