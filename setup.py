"""Maps the repository's plug-in folders into the one `tfnas` namespace.

The clone keeps the layout researchers expect (`search_spaces/`, `strategies/`, `conf/` beside
`tfnas/`), while an install puts exactly one top-level import name on the path: the folders
become `tfnas.search_spaces`, `tfnas.strategies` and `tfnas.conf`. Everything else is in setup.cfg.
"""
from setuptools import find_packages, setup

MAPPED = {"tfnas.search_spaces": "search_spaces", "tfnas.strategies": "strategies", "tfnas.conf": "conf"}


def mapped_packages(prefix: str, folder: str) -> list[str]:
    return [prefix] + [f"{prefix}.{name}" for name in find_packages(folder)]


packages = find_packages(include=["tfnas", "tfnas.*"])
for prefix, folder in MAPPED.items():
    packages += mapped_packages(prefix, folder)

setup(packages=packages, package_dir=MAPPED)
