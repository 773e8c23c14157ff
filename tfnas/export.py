"""Export one shortlisted architecture of a finished run as a model folder.

The run's own summary.json (its resolved config) rebuilds the space, best.json gives the
architecture at `--rank` (the final ranking, after any training), and the space writes the
folder (`SearchSpace.export`): for BERT a self-contained Hugging Face folder, for RNN cells
safetensors weights + config + vocabulary. Weights come from the candidate's short-training
checkpoint when `train=short` trained it, else from the seeded initialisation the search scored.
`tfnas_export.json` in the folder records where it came from.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

from tfnas.errors import ConfigError

PROVENANCE_FILE = "tfnas_export.json"


def save_pretrained_quietly(model, directory: Path) -> None:
    """`save_pretrained` in safetensors, without transformers' shard-writing progress bar (a Hugging Face model of a
    space: an export, or a BERT checkpoint)."""
    import inspect

    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        if "safe_serialization" in inspect.signature(model.save_pretrained).parameters:
            model.save_pretrained(str(directory), safe_serialization=True)
        else:  # transformers 5 always writes safetensors
            model.save_pretrained(str(directory))
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def copy_standalone(modules, out: Path) -> list[str]:
    """Copy a space's standalone model files into an export folder; refuse one that imports tfnas."""
    import shutil

    names = []
    for module in modules:
        target = Path(out) / Path(module.__file__).name
        shutil.copyfile(module.__file__, target)
        if imports_tfnas(target):
            raise RuntimeError(f"{target.name} imports tfnas; the exported folder would not stand alone")
        names.append(target.name)
    return names


def imports_tfnas(path: Path) -> bool:
    """Whether a Python file imports tfnas anywhere (the exported files must not)."""
    for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
        if any(n == "tfnas" or n.startswith("tfnas.") for n in names):
            return True
    return False


def _read_json(path: Path, field: str, default):
    from tfnas.report.run_report import load_json

    data = load_json(path, default)  # a corrupt file is a ConfigError naming it
    if data is None:
        raise ConfigError(field, f"{path} does not exist; RUN_DIR must be a finished tfnas run directory "
                          "(with summary.json and best.json)")
    return data


def _output_folder(out: Path, overwrite: bool) -> None:
    """Create `out` (a writable folder, empty unless `overwrite`) before any work, or say in one line why not."""
    if out.exists() and not out.is_dir():
        raise ConfigError("--out", f"{out} is a file, not a folder; choose a folder for the model")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ConfigError("--out", f"{out} exists and is not empty; choose another folder or pass --overwrite")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".tfnas-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ConfigError("--out", f"cannot write into {out}: {err.strerror or err}; choose a writable folder") from None


def _checked_entry(space, best: list, rank: int, path: Path):
    """The architecture at `rank` of best.json, refused when its recorded hash is not the architecture's own."""
    entry = best[rank - 1]
    if not isinstance(entry, dict) or "arch" not in entry or "hash" not in entry:
        raise ConfigError("--rank", f"entry {rank} of {path} has no arch and hash; restore the file or run the search again")
    arch = space.from_json(entry["arch"])
    actual = space.hash(arch)
    if entry["hash"] != actual:
        raise ConfigError("--rank", f"entry {rank} of {path} records hash {str(entry['hash'])[:40]!r}, but its architecture "
                          f"hashes to {actual!r}: the file was edited or damaged; restore it or run the search again")
    return entry, arch


def _checkpoint(run_dir: Path, config: dict, entry: dict) -> tuple[Path | None, dict]:
    """The candidate's finished, non-diverged short-training checkpoint and its state, if there is one."""
    from tfnas.training.checkpoint import read_info
    from tfnas.training.loop import CHECKPOINT_DIR

    train = config.get("train") or {}
    root = Path(train["directory"]) if train.get("directory") else run_dir / "train"
    folder = root / entry["hash"] / CHECKPOINT_DIR
    info = read_info(folder)
    if info is None or info.get("status") != "ok":
        return None, info or {}
    return folder, info


def export_run(run_dir, rank: int = 1, out=None, overwrite: bool = False) -> dict:
    """Export the architecture at `rank` of the run in `run_dir` into `out`; return the provenance record."""
    from omegaconf import OmegaConf

    from tfnas.build import build

    run_dir = Path(run_dir)
    summary = _read_json(run_dir / "summary.json", "RUN_DIR", None)
    best = _read_json(run_dir / "best.json", "RUN_DIR", [])
    if not isinstance(rank, int) or not 1 <= rank <= len(best):
        raise ConfigError("--rank", f"must be between 1 and {len(best)} (the entries of {run_dir / 'best.json'}), got {rank}")
    out = Path(out) if out is not None else run_dir / "export" / f"rank{rank}"
    config = summary.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("space"), dict):
        raise ConfigError("RUN_DIR", f"{run_dir / 'summary.json'} holds no config.space; restore it or run the search again")
    space = build(OmegaConf.create(config["space"]), "space")
    entry, arch = _checked_entry(space, best, rank, run_dir / "best.json")
    checkpoint, info = _checkpoint(run_dir, config, entry)
    options = (info.get("fingerprint") or {}).get("options") or {}
    _output_folder(out, overwrite)
    try:
        written = space.export(arch, out, checkpoint=checkpoint, seed=int(config.get("seed", 0)), options=options)
    except OSError as err:
        raise ConfigError("--out", f"cannot write the model into {out}: {err.strerror or err}; choose a writable folder "
                          "with free space") from None
    record = {
        "run_dir": str(run_dir.resolve()), "rank": rank, "hash": entry["hash"], "space": summary.get("space"),
        "metric": summary.get("metric"), "score": entry.get("score"),
        "trained": None if checkpoint is None else {"steps": info.get("step"), "values": info.get("values")},
        "corpus": (config.get("space") or {}).get("corpus"),
        **written,
    }
    with open(out / PROVENANCE_FILE, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1, default=str)
    if not (out / "README.md").exists():
        (out / "README.md").write_text(_model_card(record), encoding="utf-8")
    return record


def _model_card(record: dict) -> str:
    """A short README: what the folder is, where it came from, how to load it."""
    trained = record["trained"]
    lines = [
        f"# tfnas export: {record['space']} architecture {record['hash']}",
        "",
        f"Rank {record['rank']} of the tfnas run `{record['run_dir']}` (training-free metric `{record['metric']}` = "
        f"{record['score']}).",
        f"Weights: {record['weights']}" + (f", {trained['steps']} steps; results {trained['values']}." if trained else
                                          ": the seeded initialisation the search scored; fine-tune before use."),
    ]
    if record.get("corpus"):
        lines.append(f"Searched (and trained, if at all) on the corpus `{record['corpus']}`.")
    lines += ["", "Load it:", "", "```python", *(record.get("usage") or [record["load"]]), "```", ""]
    lines += record.get("notes") or []
    return "\n".join(lines)
