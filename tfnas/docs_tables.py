"""Markdown tables for the documentation site, generated from the metric registry and the config groups.

The site's pages hold markers such as `<!-- tfnas:metrics -->` or `<!-- tfnas:group:strategy -->`; the
MkDocs hook (docs/hooks/tables.py) replaces each with `render(name)` at build time, so the tables list
exactly what the installed code and configs offer (plug-ins included) and are never typed by hand.
"""
from __future__ import annotations

import re

from tfnas.help import description, metric_summary, spaces_and_metrics


def _cell(text: str) -> str:
    """Text that cannot break a Markdown table row."""
    return " ".join(str(text).replace("|", "\\|").split())


def first_sentence(doc: str | None) -> str:
    """The first sentence of a docstring's first paragraph."""
    paragraph = " ".join((doc or "").strip().split("\n\n")[0].split())
    return re.split(r"(?<=[.!?])\s+(?=[A-Z(`])", paragraph, maxsplit=1)[0]


def metric_rows() -> list[dict[str, str]]:
    """One row per metric config: what `metric=NAME` selects, where it applies, its direction and needs."""
    from tfnas.metrics.base import METRICS

    spaces, metrics = spaces_and_metrics()
    registered = {cls: name for name, cls in METRICS.items()}
    rows = []
    for name, metric in metrics.items():
        cls = type(metric)
        rows.append({
            "metric": name,
            "class": f"{cls.__name__} (`{registered.get(cls, '?')}`)",
            "spaces": ", ".join(config for config, space in spaces.values() if metric.applies_to(space)) or "none",
            "direction": "higher is better" if metric.higher_is_better else "lower is better",
            "needs": ", ".join(sorted(metric.needs())) or "nothing",
            "config": metric_summary(name, metrics),
            "doc": first_sentence(cls.__doc__),
        })
    return rows


def metric_table() -> str:
    """The metric table: every `metric=` choice, the spaces it applies to, direction, needs and docstring."""
    lines = ["| `metric=` | applies to `space=` | direction | needs (probe passes) | class (registry name): what it is "
             "| this configuration |", "|---|---|---|---|---|---|"]
    for row in metric_rows():
        lines.append(f"| `{row['metric']}` | {_cell(row['spaces'])} | {row['direction']} | {_cell(row['needs'])} | "
                     f"{_cell(row['class'])}{': ' + _cell(row['doc']) if row['doc'] else ''} | {_cell(row['config'])} |")
    return "\n".join(lines)


def group_table(group: str) -> str:
    """A config group's options, each with the first sentence of its config file's leading comment."""
    from tfnas.config import group_options

    lines = [f"| `{group}=` | what it is |", "|---|---|"]
    lines += [f"| `{name}` | {_cell(description(group, name))} |" for name in group_options(group)]
    return "\n".join(lines)


_SETTING = re.compile(r"^(?P<indent> *)(?P<key>[a-z_]+):(?P<value>[^#]*?)\s*(#\s*(?P<doc>.*))?$")


def settings_table() -> str:
    """The primary config's own settings (seed, device, search.*), each with its default and trailing comment."""
    from importlib.resources import files

    from tfnas.config import CONFIG_MODULE, CONFIG_NAME

    lines = ["| setting | default | what it is |", "|---|---|---|"]
    block = None
    for line in (files(CONFIG_MODULE) / f"{CONFIG_NAME}.yaml").read_text(encoding="utf-8").splitlines():
        match = _SETTING.match(line)
        if not match or line.lstrip().startswith("-"):
            continue
        key, value = match["key"], match["value"].strip()
        if not match["indent"]:
            block = key if not value else None
            if value:
                lines.append(f"| `{key}` | `{_cell(value)}` | {_cell(match['doc'] or '')} |")
        elif block == "search" and len(match["indent"]) == 2:
            lines.append(f"| `search.{key}` | `{_cell(value)}` | {_cell(match['doc'] or '')} |")
    return "\n".join(lines)


def command_table() -> str:
    """Every `tfnas` subcommand with its one-line summary (`tfnas.commands.COMMANDS`)."""
    from tfnas.commands import COMMANDS

    lines = ["| command | what it does |", "|---|---|"]
    lines += [f"| `tfnas {name}` | {_cell(summary)} |" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def render(name: str) -> str:
    """The Markdown for a marker name: `metrics`, `commands`, `settings`, or `group:GROUP`."""
    if name == "metrics":
        return metric_table()
    if name == "commands":
        return command_table()
    if name == "settings":
        return settings_table()
    if name.startswith("group:"):
        return group_table(name.split(":", 1)[1])
    raise ValueError(f"unknown generated table {name!r}; use metrics, commands, settings or group:GROUP")
