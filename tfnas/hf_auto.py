"""Register transformers models that plug-ins declare with the Auto classes on `import tfnas`, without
importing torch or transformers then.

A package declares its models through entry points: group `tfnas.hf_configs` names a function that
registers its config classes with `AutoConfig` (torch-free), group `tfnas.hf_models` one that registers
its model classes with `AutoModel*` (NAS-Bench-BERT's FlexiBERT declares both in setup.cfg). `import
tfnas` installs a finder on `sys.meta_path` that watches for transformers' auto modules: when
`transformers.models.auto.configuration_auto` has loaded, the config registrars run; when `modeling_auto`
has loaded (the user asked for an `AutoModel*`), the model registrars run too. Modules already loaded are
registered at once. So `AutoModel.from_pretrained(folder)` of a plug-in's model folder works after
`import tfnas` alone, and the core names no model: the entry points do.
"""
from __future__ import annotations

import importlib
import sys
import warnings
from functools import lru_cache

CONFIG_AUTO = "transformers.models.auto.configuration_auto"
MODELING_AUTO = "transformers.models.auto.modeling_auto"

#: auto module -> the entry-point group whose "module:function" registrars run once it has loaded
GROUPS = {CONFIG_AUTO: "tfnas.hf_configs", MODELING_AUTO: "tfnas.hf_models"}
_done: set[str] = set()


def registrars(auto_module: str) -> list[str]:
    """The "module:function" values declared for `auto_module`'s group."""
    return _declared().get(GROUPS[auto_module], [])


@lru_cache(maxsize=1)
def _declared() -> dict[str, list[str]]:
    """Group -> declared values, by every installed distribution, each once (one scan per process). Every
    distribution counts, not only the first of a name: a stale `tfnas.egg-info` left by an in-tree build in
    the working directory would otherwise hide the installed package's declarations."""
    from importlib.metadata import distributions

    found: dict[str, set[str]] = {group: set() for group in GROUPS.values()}
    for dist in distributions():
        for entry in dist.entry_points:
            if entry.group in found:
                found[entry.group].add(entry.value)
    return {group: sorted(values) for group, values in found.items()}


def _register(auto_module: str) -> None:
    for target in registrars(auto_module):
        if target in _done:
            continue
        module, function = target.split(":")
        try:
            loaded = importlib.import_module(module)
        except ImportError as err:  # a declaration whose module is gone must not break transformers' own import
            warnings.warn(f"tfnas: cannot register the Hugging Face classes of {target}: {err}", stacklevel=2)
            _done.add(target)
            continue
        register = getattr(loaded, function, None)
        if register is None:  # that module is still importing (it loaded this auto module); it calls install() when done
            continue
        _done.add(target)
        register()


class _AutoModuleWatcher:
    """A meta-path finder that finds nothing itself: it wraps the real loader of the watched modules
    so that the registrars run right after the module has executed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in GROUPS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module):
            original(module)
            _register(fullname)

        loader.exec_module = exec_module  # this module's loader instance only
        return spec


def install() -> None:
    """Watch for the auto modules (once per process) and register with those already loaded."""
    if not any(isinstance(f, _AutoModuleWatcher) for f in sys.meta_path):
        sys.meta_path.insert(0, _AutoModuleWatcher())
    for name in GROUPS:
        if name in sys.modules:
            _register(name)
