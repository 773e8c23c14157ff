"""tracking=wandb: one Weights & Biases run per search, offline unless the user asks for online."""
from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Sequence

from tfnas.errors import ConfigError
from tfnas.redaction import redact, redact_text
from tfnas.report.run_report import PLOTS_DIR, REPORT_FILE
from tfnas.results import BEST_FILE, RESULTS_FILE, SUMMARY_FILE
from tfnas.tracking.base import Tracker

log = logging.getLogger("tfnas")

MODES = ("offline", "online", "disabled")
#: environment variable -> folder under the run directory's wandb/ ("" -> the run directory: wandb adds wandb/)
WANDB_DIRS = {"WANDB_DIR": "", "WANDB_CACHE_DIR": "cache", "WANDB_DATA_DIR": "data", "WANDB_CONFIG_DIR": "config"}


def hydra_job() -> dict[str, Any]:
    """The sweep directory, job number and overrides of the running Hydra job ({} outside Hydra)."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode
    except ImportError:  # pragma: no cover - hydra is a dependency
        return {}
    if not HydraConfig.initialized():
        return {}
    hc = HydraConfig.get()
    job: dict[str, Any] = {"overrides": redact(list(hc.overrides.task))}
    if hc.mode == RunMode.MULTIRUN:
        job["sweep_dir"] = str(hc.sweep.dir)
        job["job_num"] = int(hc.job.num)
    return job


def require_wandb() -> None:
    """W&B is an optional extra: refuse tracking=wandb without it before the search opens or writes anything."""
    try:
        import wandb  # noqa: F401
    except ImportError:
        raise ConfigError("tracking", "tracking=wandb needs the wandb package, which is not installed: "
                                      "pip install 'tfnas[wandb]' (or use tracking=none)") from None


class WandbTracker(Tracker):
    """Streams a search into a W&B run.

    Per scored architecture: its score, every metric value, seconds and the best score so far
    (step metric `evaluation`). At the end: summary values, the shortlist as a table, the
    report's plots, and the run's files as an artifact. Offline runs write under the run
    directory and never contact a server; `wandb sync` uploads them later.
    """

    def __init__(
        self,
        mode: str = "offline",
        project: str = "tfnas",
        entity: str | None = None,
        name: str | None = None,
        group: str | None = None,
        tags: Sequence[str] = (),
        notes: str | None = None,
        job_type: str = "search",
        dir: str | None = None,
        log_artifact: bool = True,
        log_plots: bool = True,
        system_stats: bool = True,
        console: str = "off",
    ):
        if mode not in MODES:
            raise ConfigError("tracking.mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
        if mode != "disabled":
            require_wandb()
        self.mode = mode
        self.project = project
        self.entity = entity
        self.name = name
        self.group = group
        self.tags = list(tags or ())
        self.notes = notes
        self.job_type = job_type
        self.dir = dir
        self.log_artifact = log_artifact
        self.log_plots = log_plots
        self.system_stats = system_stats
        self.console = console
        self.run = None
        self._undefined = 0
        self._evaluation = 0
        self._env_set: list[str] = []

    # -- Tracker hooks -------------------------------------------------------------------
    def start(self, config: dict[str, Any], run_dir: Path, info: dict[str, Any]) -> None:
        if self.mode == "disabled":  # same as tracking=none, without touching wandb at all
            return
        import wandb

        job = hydra_job()
        name = self.name or f"{info.get('strategy')}-{info.get('metric')}-seed{config.get('seed')}"
        if self.name is None and "job_num" in job:
            name = f"{job['job_num']}-{name}"
        group = self.group or job.get("sweep_dir")
        root = Path(self.dir) if self.dir else Path(run_dir)
        root.mkdir(parents=True, exist_ok=True)
        if self.mode == "offline":
            self._keep_inside(root)
        settings = wandb.Settings(silent=True, console=self.console, x_disable_stats=not self.system_stats)
        config = redact(config)  # the app passes a redacted copy already; a tracker never trusts that
        try:
            argv, sys.argv = sys.argv, redact(list(sys.argv))  # W&B records the command line in its metadata
            if self.mode == "offline":
                # wandb's own usage analytics read the process-wide settings, not the run's: unless those
                # say offline too, they probe the W&B server (seen as a DNS lookup with mode="offline").
                wandb.setup(settings=wandb.Settings(mode="offline"))
            self.run = wandb.init(
                mode=self.mode,
                project=self.project,
                entity=self.entity,
                name=name,
                group=group[-128:] if group else None,
                job_type=self.job_type,
                tags=self.tags or None,
                notes=redact(self.notes),
                dir=str(root),
                config=config,
                settings=settings,
                reinit="finish_previous",
            )
        except Exception as err:  # wandb raises its own types (UsageError, CommError, ...)
            self._restore_env()
            hint = "run `wandb login` or set WANDB_API_KEY, or use tracking.mode=offline" if self.mode == "online" else "use tracking=none to run without W&B"
            raise ConfigError("tracking", f"could not start a W&B run in {self.mode} mode: {redact(str(err))} ({hint})") from None
        finally:
            sys.argv = argv
        if job:
            self.run.config.update({"hydra_job": job}, allow_val_change=True)
        self.run.define_metric("evaluation")
        best = "max" if info.get("higher_is_better", True) else "min"
        for key in ("score", "best_so_far", f"metrics/{info.get('metric')}"):  # the summary keeps the best, not the last
            self.run.define_metric(key, step_metric="evaluation", summary=best)
        for key in ("seconds", "undefined", "undefined_total", "metrics/*"):
            self.run.define_metric(key, step_metric="evaluation")
        self.run.define_metric("train/step")
        self.run.define_metric("train/*", step_metric="train/step")

    def log_record(self, record, best_score: float) -> None:
        if self.run is None:
            return
        self._undefined += int(record.undefined)
        self._evaluation = max(self._evaluation, record.index + 1)
        values = {
            "evaluation": record.index + 1,
            "score": record.score,
            "best_so_far": best_score,
            "seconds": record.seconds,
            "undefined": int(record.undefined),
            "undefined_total": self._undefined,
        }
        values.update({f"metrics/{key}": value for key, value in record.metrics.items()})
        self.run.log(values)

    def log_training(self, candidate: dict[str, Any], step: int, values: dict[str, float]) -> None:
        if self.run is None:
            return
        label = f"{candidate.get('rank', 'x')}-{str(candidate.get('hash', ''))[:8]}"
        self.run.log({"evaluation": self._evaluation, "train/step": step,
                      **{f"train/{label}/{key}": value for key, value in values.items()}})

    def finish(self, summary: dict[str, Any], shortlist: list[dict[str, Any]], run_dir: Path) -> None:
        if self.run is None:
            return
        import wandb

        run_dir = Path(run_dir)
        try:
            summary = {**summary, **_read_json(run_dir / SUMMARY_FILE, {})}  # the report may have added to it
            self.run.summary.update(summary_values(summary))
            final: dict[str, Any] = {"evaluation": self._evaluation}  # one row at the last evaluation, not extra steps
            if shortlist:
                columns, rows = shortlist_table(shortlist)
                final["shortlist"] = wandb.Table(columns=columns, data=rows)
            if self.log_plots:
                for png in sorted((run_dir / PLOTS_DIR).glob("*.png")):
                    final[f"plots/{png.stem}"] = wandb.Image(str(png))
            if len(final) > 1:
                self.run.log(final)
            if self.log_artifact:
                self._log_files(run_dir)
            where = self.run.settings.sync_dir if self.mode == "offline" else getattr(self.run, "url", None)
        finally:
            self.run.finish()
            self.run = None
            self._restore_env()
        if self.mode == "offline":
            log.info("W&B offline run: %s (upload with: wandb sync %s)", where, where)
        elif where:
            log.info("W&B run: %s", where)

    def fail(self, error: BaseException) -> None:
        """The search raised: end the run as failed (exit code 1) instead of leaving it to wandb's exit hook."""
        if self.run is None:
            return
        try:
            self.run.summary.update({"error": redact_text(f"{type(error).__name__}: {error}")[:1000]})
            self.run.finish(exit_code=1)
        finally:
            self.run = None
            self._restore_env()

    # -- helpers -------------------------------------------------------------------------
    def _keep_inside(self, root: Path) -> None:
        """Offline runs write nothing outside the run directory: wandb's config, cache (artifact staging)
        and data folders default to ~/.config, ~/.cache and ~/.local/share. A variable the user set wins."""
        for var, sub in WANDB_DIRS.items():
            if not os.environ.get(var):
                os.environ[var] = str(root / "wandb" / sub) if sub else str(root)
                self._env_set.append(var)

    def _restore_env(self) -> None:
        for var in self._env_set:
            os.environ.pop(var, None)
        self._env_set = []

    def _log_files(self, run_dir: Path) -> None:
        """The run's files as an artifact; copied into the W&B run folder so the artifact never changes
        under W&B's feet when the report is rebuilt later, and nothing is staged outside the run."""
        import wandb

        names = [n for n in (RESULTS_FILE, BEST_FILE, SUMMARY_FILE, REPORT_FILE) if (run_dir / n).exists()]
        if not names:
            return
        keep = Path(self.run.settings.sync_dir) / "tfnas-artifact"
        keep.mkdir(parents=True, exist_ok=True)
        artifact = wandb.Artifact(f"results-{self.run.id}", type="search-results", description="tfnas run directory files")
        for name in names:
            shutil.copy2(run_dir / name, keep / name)
            artifact.add_file(str(keep / name), name=name, policy="immutable")
        self.run.log_artifact(artifact)


def summary_values(summary: dict[str, Any]) -> dict[str, Any]:
    """The flat, chartable values of summary.json for the W&B run summary."""
    out: dict[str, Any] = {}
    for key in ("evaluated", "undefined", "duplicates_proposed", "seconds_total", "seconds_per_arch_median", "stopped_early"):
        if summary.get(key) is not None:
            out[key] = summary[key]
    best = summary.get("best") or {}
    if best:
        out["best_score"] = best.get("score")
        out["best_hash"] = best.get("hash")
        out["best_arch"] = json.dumps(best.get("arch"), separators=(",", ":"))
    for key, value in (summary.get("score_stats") or {}).items():
        out[f"score_stats/{key}"] = value
    bench = (summary.get("report") or {}).get("benchmark") or {}
    for key in ("kendall_tau", "matched", "best_found_target", "best_in_matched_target"):
        if bench.get(key) is not None:
            out[f"benchmark/{key}"] = bench[key]
    return out


def shortlist_table(shortlist: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows of the shortlist: scalars as they are, nested results flattened, the architecture as JSON."""
    flat = [flatten(entry) for entry in shortlist]
    columns: list[str] = []
    for entry in flat:
        columns.extend(key for key in entry if key not in columns)
    rows = [[_cell(entry.get(col)) for col in columns] for entry in flat]
    return columns, rows


def flatten(entry: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in entry.items():
        name = f"{prefix}{key}"
        if key == "arch" and not prefix:
            out[name] = json.dumps(value, separators=(",", ":"))
        elif isinstance(value, dict):
            out.update(flatten(value, f"{name}/"))
        else:
            out[name] = value
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return json.dumps(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
