"""Resumable training state in safetensors: weights (by the trainer), optimizer tensors, RNG states.

A checkpoint is a directory written next to the old one and swapped in by rename, so an
interruption while saving leaves the previous checkpoint intact.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

STATE_FILE = "state.json"
TENSORS_FILE = "training_state.safetensors"


def _split_optimizer(state_dict: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, rest = {}, {}
    for index, values in state_dict["state"].items():
        rest[str(index)] = {}
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                rest[str(index)][key] = value
    return tensors, {"state": rest, "param_groups": state_dict["param_groups"]}


def _join_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {int(i): dict(v) for i, v in meta["state"].items()}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def rng_tensors(device: torch.device) -> dict[str, torch.Tensor]:
    tensors = {"rng.cpu": torch.get_rng_state()}
    if device.type == "cuda":
        tensors["rng.cuda"] = torch.cuda.get_rng_state(device)
    return tensors


def restore_rng(tensors: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(tensors["rng.cpu"])
    if device.type == "cuda" and "rng.cuda" in tensors:
        torch.cuda.set_rng_state(tensors["rng.cuda"], device)


def save_checkpoint(directory: Path, trainer, optimizer, info: dict[str, Any]) -> None:
    """Write weights, optimizer, RNG and trainer state plus `info` (step, seconds, ...) to `directory`."""
    directory = Path(directory)
    tmp = directory.with_name(directory.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    trainer.save_weights(tmp)
    tensors, meta = _split_optimizer(optimizer.state_dict())
    tensors.update(rng_tensors(trainer.device))
    tensors.update({f"extra.{k}": v.detach().cpu().contiguous() for k, v in trainer.extra_state().items()})
    save_file(tensors, str(tmp / TENSORS_FILE))
    with open(tmp / STATE_FILE, "w", encoding="utf-8") as handle:
        json.dump({**info, "optimizer": meta}, handle, indent=1)
    old = directory.with_name(directory.name + ".old")
    if directory.exists():
        directory.rename(old)
    tmp.rename(directory)
    if old.exists():
        shutil.rmtree(old)


def read_info(directory: Path) -> dict[str, Any] | None:
    """The JSON part of a checkpoint, or None if there is no complete checkpoint."""
    path = Path(directory) / STATE_FILE
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_checkpoint(directory: Path, trainer, optimizer) -> dict[str, Any]:
    """Restore weights, optimizer, trainer state and RNG from `directory`; return its info."""
    directory = Path(directory)
    info = read_info(directory)
    trainer.load_weights(directory)
    tensors = load_file(str(directory / TENSORS_FILE), device="cpu")
    optimizer.load_state_dict(_join_optimizer(tensors, info.pop("optimizer")))
    trainer.load_extra_state({k[len("extra."):]: v.to(trainer.device) for k, v in tensors.items() if k.startswith("extra.")})
    restore_rng(tensors, trainer.device)
    return info
