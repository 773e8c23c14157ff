"""MkDocs hooks: tables generated from the code, and the committed result figures.

`<!-- tfnas:NAME -->` markers in a page are replaced with `tfnas.docs_tables.render(NAME)` (the metric
table from the registry, a config group's options from conf/, the subcommands), so no such table is
typed by hand. The PNG figures under results/ join the site at the same paths, so a page shows
`results/rnn/figures/hidden_cov.png` as the command that made it wrote it.
"""
import re
from pathlib import Path

from mkdocs.structure.files import File

MARKER = re.compile(r"<!-- tfnas:(\S+) -->")
ROOT = Path(__file__).resolve().parents[2]


def on_files(files, config):
    for png in sorted((ROOT / "results").rglob("*.png")):
        files.append(File(str(png.relative_to(ROOT)), str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown, page, config, files):
    if "<!-- tfnas:" not in markdown:
        return markdown
    from tfnas.docs_tables import render

    return MARKER.sub(lambda match: render(match.group(1)), markdown)
