"""Where tfnas's Hydra configs live, and how to compose them without a command line.

The configs ship inside the package (`tfnas.conf`), so a wheel works from any directory.
Plug-ins add config groups through the `tfnas.conf` entry-point group: each entry names a
package holding group folders (`metric/`, `space/`, `strategy/`, ...), added to Hydra's search
path, so `metric=my_proxy` finds `my_plugin/conf/metric/my_proxy.yaml`.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Sequence

CONFIG_MODULE = "tfnas.conf"
CONFIG_PATH = f"pkg://{CONFIG_MODULE}"
CONFIG_NAME = "config"
PLUGIN_CONF_GROUP = "tfnas.conf"


def plugin_search_path() -> list[str]:
    """`pkg://` paths of every installed plug-in's configs, in entry-point order."""
    return list(_plugin_paths(tuple(sys.path)))


@lru_cache(maxsize=8)
def _plugin_paths(path: tuple[str, ...]) -> tuple[str, ...]:
    """Cached per `sys.path`: scanning every installed distribution's entry points costs ~20 ms, and scripts
    load one config per metric; a plug-in put on the path later (a new entry) is still found."""
    return tuple(f"pkg://{entry.value}" for entry in entry_points(group=PLUGIN_CONF_GROUP))


def search_path_override(overrides: Sequence[str] = ()) -> list[str]:
    """The `hydra.searchpath=[...]` override that adds plug-in configs (none when no plug-in is installed
    or the user set hydra.searchpath themselves)."""
    paths = plugin_search_path()
    if not paths or any(o.lstrip("+~").startswith("hydra.searchpath") for o in overrides):
        return []
    return ["hydra.searchpath=[" + ",".join(paths) + "]"]


@contextmanager
def _initialized():
    """Hydra initialised on tfnas's configs for the block, leaving whatever Hydra state the caller had
    (an app, a test's own `initialize`) exactly as it was afterwards."""
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.initialize import get_gh_backup, restore_gh_from_backup

    backup = get_gh_backup()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            yield
    finally:
        restore_gh_from_backup(backup)


def compose(overrides: Sequence[str] = (), return_hydra_config: bool = False):
    """The search config for `overrides`, as `python search.py OVERRIDES` would see it (plug-ins included)."""
    from hydra import compose as hydra_compose

    overrides = list(overrides) + search_path_override(overrides)
    with _initialized():
        return hydra_compose(CONFIG_NAME, overrides=overrides, return_hydra_config=return_hydra_config)


def group_options(group: str) -> list[str]:
    """The config names of a group (`metric`, `space`, ...), built-in and plug-in: the registry of named configs."""
    from importlib.resources import files

    names = set()
    for package in config_packages():
        folder = files(package) / group
        if folder.is_dir():
            names |= {entry.name[: -len(".yaml")] for entry in folder.iterdir() if entry.name.endswith(".yaml")}
    return sorted(names)


def config_packages() -> list[str]:
    """The packages holding config groups: tfnas's own, then each plug-in's."""
    return [CONFIG_MODULE] + [p[len("pkg://"):] for p in plugin_search_path()]


def load_group_config(group: str, name: str):
    """The config node of `group/name` (e.g. metric/hidden_cov_l2), read from the package that ships it.

    Reads the one file (cheap: scripts call this for every metric); a file with a defaults list is
    composed by Hydra instead, so it means what it means on the command line.
    """
    from importlib.resources import files

    from omegaconf import OmegaConf

    for package in config_packages():
        path = files(package) / group / f"{name}.yaml"
        if path.is_file():
            node = OmegaConf.create(path.read_text(encoding="utf-8"))
            if "defaults" not in node:
                return node
            return compose([f"{group}={name}"])[group]
    raise MissingConfig(group, name)


class MissingConfig(LookupError):
    """A `group/name` config that no config package ships."""

    def __init__(self, group: str, name: str):
        super().__init__(f"no config {group}/{name}; choose from: {', '.join(group_options(group))}")
