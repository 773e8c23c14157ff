"""Register tfnas's transformers models with the Auto classes on `import tfnas`, without importing
torch or transformers then.

`import tfnas` installs a finder on `sys.meta_path` that watches for transformers' auto modules.
When `transformers.models.auto.configuration_auto` has loaded, the torch-free configs are
registered with `AutoConfig`; when `modeling_auto` has loaded (the user asked for an `AutoModel*`),
the model classes are registered too. Modules already loaded are registered at once. So
`AutoModel.from_pretrained(folder)` of a `flexibert` folder works after `import tfnas` alone.
Which modules register what is plain data (`REGISTRARS`), so other model types can be added.
"""
from __future__ import annotations

import importlib
import sys

CONFIG_AUTO = "transformers.models.auto.configuration_auto"
MODELING_AUTO = "transformers.models.auto.modeling_auto"

#: auto module -> "module:function" registrars to call once it has loaded
REGISTRARS = {
    CONFIG_AUTO: ["tfnas.search_spaces.nas_bench_bert.configuration_flexibert:register_auto_config"],
    MODELING_AUTO: ["tfnas.search_spaces.nas_bench_bert.model:register_auto_classes"],
}
_done: set[str] = set()


def _register(auto_module: str) -> None:
    for target in REGISTRARS.get(auto_module, ()):
        if target in _done:
            continue
        module, function = target.split(":")
        register = getattr(importlib.import_module(module), function, None)
        if register is None:  # that module is still importing (it loaded this auto module); it calls install() when done
            continue
        _done.add(target)
        register()


class _AutoModuleWatcher:
    """A meta-path finder that finds nothing itself: it wraps the real loader of the watched modules
    so that the registrars run right after the module has executed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in REGISTRARS:
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
    for name in REGISTRARS:
        if name in sys.modules:
            _register(name)
