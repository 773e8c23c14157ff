"""Read what an offline W&B run wrote, without a server: to check a run before `wandb sync`, and for tests.

A `.wandb` file is W&B's transaction log: a 7-byte header (":W&B", magic 0xBEE1, version 0)
followed by records in the LevelDB log format (32 KiB blocks; each chunk: CRC32C, length,
type FULL/FIRST/MIDDLE/LAST). Each record is a protobuf `wandb_internal_pb2.Record`, parsed
with the wandb package's own message definitions.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

BLOCK = 32 * 1024
HEADER = b":W&B"
HEADER_LEN = 7
CHUNK_HEADER = struct.Struct("<IHB")  # crc32c, length, type
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def read_records(path: str | Path) -> Iterator[Any]:
    """Every record of a `.wandb` file, in order (a truncated last record is skipped)."""
    from wandb.proto import wandb_internal_pb2

    data = Path(path).read_bytes()
    if data[:4] != HEADER:
        raise ValueError(f"{path} is not a W&B transaction log (no {HEADER!r} header)")
    pos, pending = HEADER_LEN, b""
    while pos + CHUNK_HEADER.size <= len(data):
        left = BLOCK - pos % BLOCK
        if left < CHUNK_HEADER.size:  # block trailer padding
            pos += left
            continue
        _crc, length, kind = CHUNK_HEADER.unpack_from(data, pos)
        pos += CHUNK_HEADER.size
        chunk = data[pos : pos + length]
        pos += length
        if len(chunk) < length:
            break
        if kind == FULL:
            payload = chunk
        elif kind == FIRST:
            pending = chunk
            continue
        elif kind == MIDDLE:
            pending += chunk
            continue
        elif kind == LAST:
            payload, pending = pending + chunk, b""
        else:  # zero padding written before a block boundary
            continue
        record = wandb_internal_pb2.Record()
        record.ParseFromString(payload)
        yield record


@dataclass
class OfflineRun:
    """The parts of an offline run a user (or a test) wants to check."""

    path: Path
    run_id: str = ""
    project: str = ""
    name: str = ""
    group: str = ""
    job_type: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    exited: bool = False
    exit_code: int | None = None


def find_offline_runs(root: str | Path) -> list[Path]:
    """The offline run folders (`offline-run-*`) under `root` (a run directory or its wandb/ folder)."""
    root = Path(root)
    return sorted(p for p in root.rglob("offline-run-*") if p.is_dir() and list(p.glob("run-*.wandb")))


def read_offline_run(run_folder: str | Path) -> OfflineRun:
    """Config, history rows, final summary, artifacts and files of one `offline-run-*` folder."""
    run_folder = Path(run_folder)
    (log_file,) = run_folder.glob("run-*.wandb")
    run = OfflineRun(path=run_folder)
    for record in read_records(log_file):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            r = record.run
            run.run_id, run.project, run.name = r.run_id, r.project, r.display_name
            run.group, run.job_type = r.run_group, r.job_type
            _apply(run.config, r.config.update)
        elif kind == "config":
            _apply(run.config, record.config.update)
        elif kind == "history":
            row: dict[str, Any] = {}
            _apply(row, record.history.item)
            run.history.append(row)
        elif kind == "summary":
            _apply(run.summary, record.summary.update)
        elif kind == "artifact":
            a = record.artifact
            run.artifacts.append(
                {"name": a.name, "type": a.type, "files": [entry.path for entry in a.manifest.contents]}
            )
        elif kind == "files":
            run.files.extend(f.path for f in record.files.files)
        elif kind == "exit":
            run.exited = True
            run.exit_code = record.exit.exit_code
    run.config.pop("_wandb", None)
    return run


def _apply(target: dict[str, Any], items) -> None:
    """Set each `key`/`nested_key` item's JSON value into `target`."""
    for item in items:
        keys = list(item.nested_key) or [item.key]
        node = target
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = json.loads(item.value_json)
