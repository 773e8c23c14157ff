"""Name -> class registries, filled by decorators in the modules that define the classes.

A new metric, space or strategy is one module with a decorated class plus one config file:
the registry imports every module of its built-in package on first use, so nothing else is
edited. Third-party packages add their own through entry points (groups `tfnas.metrics`,
`tfnas.spaces`, `tfnas.strategies`): each entry names a module, imported on first use, whose
decorators register its classes; their Hydra configs come in through `tfnas.conf` entry points
(see `tfnas.config`).
"""
from __future__ import annotations

import difflib
import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import Callable, Generic, Iterator, TypeVar

from tfnas.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, packages: tuple[str, ...], entry_point_group: str | None = None,
                 config_group: str | None = None):
        self.kind = kind
        self._packages = packages
        self._group = entry_point_group
        self._config_group = config_group
        self._entries: dict[str, T] = {}
        self._discovered = False

    def _locate(self, name: str) -> None:
        """Import only the module that `<config_group>/<name>.yaml`'s `_target_` names (its decorator registers
        it): finding one space must not import every space (the BERT space imports transformers: seconds)."""
        if self._config_group is None or self._discovered:
            return
        try:
            from tfnas.config import load_group_config

            target = str(load_group_config(self._config_group, name).get("_target_", ""))
            importlib.import_module(target.rpartition(".")[0])
        except Exception:  # no such config, or one without a target: full discovery decides
            return

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return decorator

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for package_name in self._packages:
            package = importlib.import_module(package_name)
            for info in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
                importlib.import_module(info.name)
        if self._group:
            for entry in entry_points(group=self._group):
                try:
                    entry.load()
                except Exception as err:  # a broken plug-in must not break the built-in choices
                    raise ConfigError(
                        self.kind, f"plug-in {entry.name!r} ({entry.value}, entry point group {self._group}) failed to load: {err}"
                    ) from err

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._entries)

    def get(self, name: str) -> T:
        if name not in self._entries:
            self._locate(name)
        if name in self._entries:
            return self._entries[name]
        self._discover()
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                self.kind, f"unknown {self.kind} {name!r}.{hint} Valid choices: {', '.join(self.names())}"
            ) from None

    def items(self) -> Iterator[tuple[str, T]]:
        self._discover()
        return iter(sorted(self._entries.items()))

    def __contains__(self, name: str) -> bool:
        self._discover()
        return name in self._entries
