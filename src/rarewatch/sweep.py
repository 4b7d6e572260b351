"""`rarewatch-sweep`: Hydra app over conf/, running the pipeline in-process once per job.

    rarewatch-sweep -m model.hidden_dims='[32,16,32]','[64,32,64]' threshold.percentile=90,95,99

A sweep (-m) gets its own directory, multirun/<time>_<sweep id>, and its own MLflow parent run; each
job is one MLflow run nested under it from the job's start to its end (FINISHED, FAILED or KILLED).
A job that fails does not stop the others. The sweep ends with a table of its jobs
(rarewatch.sweep_results), ends its parent run FINISHED when every job finished and FAILED otherwise
(KILLED on Ctrl-C or SIGTERM), and exits 0, 1 (a job failed, or the sweep could not run them all),
2 (bad config before any job ran) or 130 / 143 (Ctrl-C / SIGTERM).

Without -m it is one run (outputs/<time>_<id>): the same job, with no parent run. Bad config or
data stops it with one line, `rarewatch-sweep: error: <message>`, and exit code 2.

Jobs share data and trained models through rarewatch.pipeline.inprocess's cache. For parallel jobs
add `hydra/launcher=joblib hydra.launcher.n_jobs=2 trainer.num_threads=1`, or
`hydra/launcher=submitit_local` (submitit_slurm on a cluster). A distributed fit (trainer=ddp) is refused
in a sweep whose launcher runs jobs at once (rarewatch.launchers). Jobs that run at once on this
machine share its cores: each gets at most cores // (jobs at once) torch and BLAS threads
(rarewatch.threads), whatever trainer.num_threads says.

Why the control flow is unusual: Hydra turns an exception raised by a callback into a warning (so a
sweep whose parent run could not be created used to run its jobs and exit 0), stops a multirun at the
first job that raised without calling on_multirun_end (so its parent run stayed RUNNING), and prints
its own trimmed traceback. So here a job catches its own errors (its record and its MLflow run say
what happened), the callback that starts a sweep stops it with a BaseException, and main(), not a
callback, ends every sweep: it prints the table, ends the parent run and picks the exit code, however
the jobs ended.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel

from rarewatch.composition import CONF_DIR
from rarewatch.config import (
    Config,
    TrackingConfig,
    TrainerConfig,
    config_from_dict,
    validated,
    with_absolute_data_paths,
)
from rarewatch.errors import ConfigError, RarewatchError
from rarewatch.launchers import check_distributed_fit, launcher_name
from rarewatch.sweep_results import JobResult, aggregate_table, build_table, print_table, table_text, write_result
from rarewatch.threads import available_cores, limit_threads, parallel_jobs, threads_per_job
from rarewatch.tracking import error_line

log = logging.getLogger("rarewatch.sweep")

# Set by main() for each invocation; conf/sweep.yaml puts it in the run and sweep directory names, so
# two sweeps started in the same second never share a directory.
SWEEP_ID_ENV = "RAREWATCH_SWEEP_ID"
SWEEP_FILE = "sweep.json"  # in the sweep directory: the sweep's id and parent run, read by every job
TRACEBACK_FILE = "traceback.txt"
CACHE_DIR = ".rarewatch/cache"

EXIT_FAILED = 1  # a job failed, or rarewatch or its environment did
EXIT_INPUT = 2  # bad config or data: the user's to fix
EXIT_SIGINT = 130  # 128 + the signal's number, as a shell reports a process the signal killed; SIGTERM: 143


class SweepInfo(BaseModel):
    """What every job of a sweep needs to know about it (<sweep dir>/sweep.json)."""

    sweep_id: str
    sweep_dir: str
    parent_run_id: str
    tracking_uri: str
    experiment: str
    experiment_id: str


class SweepStartError(BaseException):
    """The sweep cannot start (bad tracking config, a store error, a directory already used).

    A BaseException on purpose: Hydra turns an Exception raised by a callback into a warning and runs
    the jobs anyway.
    """

    def __init__(self, cause: Exception) -> None:
        super().__init__(error_line(cause))
        self.cause = cause


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM, raised by main()'s signal handlers wherever the main process is.

    Not a KeyboardInterrupt: Lightning turns a KeyboardInterrupt during a fit into sys.exit(1), which
    would hide why the sweep stopped. joblib stops its workers on any BaseException.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


@dataclass
class _Process:
    """What main() learns from the Hydra app it ran: the sweep it started, or the single run's record."""

    sweep: SweepInfo | None = None
    single: JobResult | None = None
    single_dir: Path | None = None
    job_started: bool = False

    def reset(self) -> None:
        self.sweep, self.single, self.single_dir, self.job_started = None, None, None, False


_PROCESS = _Process()


@dataclass(frozen=True)
class Job:
    num: int
    overrides: list[str]
    directory: Path  # the job's outputs (Hydra's output dir)
    project: Path  # where rarewatch-sweep was started: config paths, the cache and the default store
    sweep_dir: Path | None  # None for a single run
    launcher: dict[str, Any] | None = None  # Hydra's hydra.launcher node of a sweep (unresolved)


@dataclass(frozen=True)
class _Run:
    uri: str
    run_id: str
    experiment_id: str


def typed(cfg: DictConfig) -> Config:
    from rarewatch.models.registry import resolve

    return resolve(config_from_dict(OmegaConf.to_container(cfg, resolve=True), source="sweep config"))


def quiet_lightning() -> None:
    """Silence Lightning's start-up banner ("GPU available: False ...", tips), printed once per fit.

    Called in every job, because joblib's worker processes never run main(). Warnings still show.
    """
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)


# ------------------------------------------------------------------------------------------ one job


def run_job(raw: DictConfig, job: Job) -> JobResult:
    """Run one job and record how it ended; raises only what is not an Exception (Ctrl-C, SIGTERM, sys.exit).

    The record (result.json) exists from the job's start; an error becomes a failed record and a
    FAILED MLflow run, never an exception for Hydra to print.
    """
    from rarewatch.tracking import end_run, resolve_uri

    result = JobResult(sweep_id=None, num=job.num, overrides=job.overrides, status="running", pid=os.getpid())
    run: _Run | None = None
    try:
        sweep = _sweep_info(job.sweep_dir) if job.sweep_dir is not None else None
        if sweep is not None:
            result = result.model_copy(update={"sweep_id": sweep.sweep_id})
        write_result(job.directory, result)
        if sweep is None:
            cfg = typed(raw)
            run = _open_run(job, resolve_uri(cfg.tracking.uri, job.project), cfg.tracking.experiment, None)
            result = _recorded_run(job, result, run)
        else:
            # Before the job's own config is checked, so that a job given a bad value has its FAILED run too.
            run = _open_run(job, sweep.tracking_uri, sweep.experiment, sweep)
            result = _recorded_run(job, result, run)
            cfg = typed(raw)
            _check_same_store(cfg, sweep, job.project)
            check_distributed_fit(cfg.trainer, job.launcher or {})
        result = _run_pipeline(cfg, job, run, result)
        end_run(run.uri, run.run_id, "FINISHED")
    except Exception as exc:
        result = _failed(result, exc, job)
        if run is not None:
            try:
                end_run(run.uri, run.run_id, "FAILED", result.error)
            except Exception as end_exc:
                error = f"{result.error} (and marking its MLflow run FAILED failed: {error_line(end_exc)})"
                result = result.model_copy(update={"error": error})
        if job.sweep_dir is not None:
            log.error("job %d failed: %s", job.num, result.error)
    except BaseException as exc:
        result = result.model_copy(update={"status": "killed", "error": error_line(exc)})
        if run is not None:
            try:
                end_run(run.uri, run.run_id, "KILLED", result.error)
            except Exception as end_exc:
                exc.add_note(f"(and marking MLflow run {run.run_id} KILLED failed: {error_line(end_exc)})")
        write_result(job.directory, result)
        raise
    write_result(job.directory, result)
    return result


def _sweep_info(sweep_dir: Path) -> SweepInfo:
    path = sweep_dir / SWEEP_FILE
    if not path.is_file():
        raise FileNotFoundError(f"'{path}' not found: this job's sweep did not start (see its first error)")
    return SweepInfo.model_validate_json(path.read_text())


def _open_run(job: Job, uri: str, experiment: str, sweep: SweepInfo | None) -> _Run:
    from rarewatch.tracking import ensure_store, git_tags, start_run

    experiment_id = ensure_store(uri, experiment, job.project)
    tags = {**git_tags(job.project), "rarewatch.kind": "sweep-job" if sweep else "run", "rarewatch.job": str(job.num)}
    if sweep is not None:
        tags["rarewatch.sweep_id"] = sweep.sweep_id
    name = " ".join(job.overrides) or "defaults"
    run_id = start_run(uri, experiment_id, name, tags, parent_run_id=sweep.parent_run_id if sweep else None)
    return _Run(uri, run_id, experiment_id)


def _recorded_run(job: Job, result: JobResult, run: _Run) -> JobResult:
    """The record with the job's run, written at once: if the job dies, the sweep ends that run KILLED."""
    result = result.model_copy(update={"run_id": run.run_id})
    write_result(job.directory, result)
    return result


def _check_same_store(cfg: Config, sweep: SweepInfo, project: Path) -> None:
    from rarewatch.tracking import resolve_uri

    uri = resolve_uri(cfg.tracking.uri, project)
    if (uri, cfg.tracking.experiment) != (sweep.tracking_uri, sweep.experiment):
        raise ConfigError(
            f"this job would log to tracking.uri={uri!r}, tracking.experiment={cfg.tracking.experiment!r}, its "
            f"sweep to {sweep.tracking_uri!r}, {sweep.experiment!r}: a sweep's jobs are nested under its one "
            "parent run, so run one sweep per tracking setting instead of sweeping over tracking.*"
        )


def _run_pipeline(cfg: Config, job: Job, run: _Run, result: JobResult) -> JobResult:
    from rarewatch.pipeline.inprocess import run_pipeline
    from rarewatch.recording import RunRef, add_curves, recording_into, training_run_of
    from rarewatch.sweep_results import finished_figures
    from rarewatch.tracking import log_config, log_results

    cfg = within_thread_budget(with_absolute_data_paths(cfg, job.project), local_parallel_jobs(job.launcher))
    log_config(run.uri, run.run_id, cfg)
    # A model trained by this job streams its curves into the job's run.
    with recording_into(RunRef(run.uri, run.experiment_id, run.run_id)):
        outcome = run_pipeline(cfg, job.directory, job.project / CACHE_DIR)
    paths = outcome.paths
    figures = finished_figures(
        json.loads(paths.eval_metrics.read_text()),
        json.loads(paths.cost_metrics.read_text()),
        json.loads(paths.timings.read_text()),
        data_reused=outcome.data_reused,
        model_reused=outcome.model_reused,
    )
    tags = {"rarewatch.model": "reused" if outcome.model_reused else "trained"}
    if figures["degenerate"]:
        tags["rarewatch.degenerate"] = ",".join(f.code for f in figures["degenerate"])
    log_results(run.uri, run.run_id, cfg, paths, tags, model_reused=outcome.model_reused)
    if outcome.model_reused:  # the curves of the job (of this or an earlier sweep) that trained it
        add_curves(run.uri, run.run_id, paths, training_run_of(run.uri, run.experiment_id, paths))
    if cfg.tracking.log_model:  # each job's detector as an MLflow model, for rarewatch-register (docs/serving.md)
        from rarewatch.serving.logged_model import log_served_model

        log_served_model(run.uri, run.run_id, cfg, paths)
    return result.model_copy(update=figures)


def local_parallel_jobs(launcher: dict[str, Any] | None) -> int:
    """How many jobs share this machine's cores at once under a sweep's launcher (None: a single run)."""
    name = launcher_name(launcher or {})
    if name == "JoblibLauncher":
        return parallel_jobs((launcher or {}).get("n_jobs"), available_cores())
    if name == "LocalLauncher":  # submitit's local executor starts every job at once
        return available_cores()
    return 1  # basic: one job at a time; SLURM: each job on an allocation of its own


def within_thread_budget(cfg: Config, jobs: int) -> Config:
    """`cfg` with trainer.num_threads capped so that `jobs` parallel jobs use no more threads than cores;
    the BLAS/OpenMP pools (scikit-learn, PyOD, numpy) get the same cap."""
    threads = threads_per_job(cfg.trainer.num_threads, jobs, available_cores())
    limit_threads(threads)
    if threads == cfg.trainer.num_threads:
        return cfg
    log.info("trainer.num_threads=%d capped to %d: %d jobs run at once", cfg.trainer.num_threads, threads, jobs)
    return cfg.model_copy(update={"trainer": cfg.trainer.model_copy(update={"num_threads": threads})})


def _failed(result: JobResult, exc: Exception, job: Job) -> JobResult:
    input_error = isinstance(exc, RarewatchError)
    error = error_line(exc)
    if not input_error:
        # A fault of the code or of its environment: whoever fixes it needs the traceback.
        path = job.directory / TRACEBACK_FILE
        path.write_text("".join(traceback.format_exception(exc)))
        error += f" (traceback in {_shown(path, job.project)})"
    return result.model_copy(update={"status": "failed", "error": error, "input_error": input_error})


def _shown(path: Path, project: Path) -> str:
    return str(path.relative_to(project)) if path.is_relative_to(project) else str(path)


# ----------------------------------------------------------------------------------------- the sweep


class SweepCallback(Callback):
    """Starts each multirun: its directory, MLflow store and parent run, before any job starts."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            _PROCESS.sweep = start_sweep(config, Path.cwd())
        except Exception as exc:
            raise SweepStartError(exc) from exc


def start_sweep(config: DictConfig, project: Path) -> SweepInfo:
    """Check the sweep directory is new, open the store, create the parent run, and write sweep.json."""
    from rarewatch.artifacts import write_json
    from rarewatch.sweep_results import RESULT_FILE
    from rarewatch.tracking import ending_run, ensure_store, git_tags, resolve_uri, start_run

    sweep_dir = (project / str(config.hydra.sweep.dir)).resolve()
    if (sweep_dir / SWEEP_FILE).exists() or any(sweep_dir.glob(f"*/{RESULT_FILE}")):
        raise ConfigError(
            f"hydra.sweep.dir='{config.hydra.sweep.dir}' already holds a sweep; give this one a new directory "
            "(the default, multirun/<time>_<id>, is new for every sweep)"
        )
    # Only the tracking section: the base config of a multirun may be incomplete until each job's
    # overrides complete it (say, data.path=a.csv,b.csv).
    raw_tracking = OmegaConf.to_container(config.tracking, resolve=True)
    tracking: TrackingConfig = validated(TrackingConfig, raw_tracking, prefix="tracking.")
    if not _sweeps_over(config.hydra.overrides.task, "trainer"):
        # Every job has the base trainer (Hydra composed it with the overrides that are not swept): a
        # refused DDP sweep stops here, before any job. A sweep over trainer settings is checked job by job.
        trainer: TrainerConfig = validated(
            TrainerConfig, OmegaConf.to_container(config.trainer, resolve=True), prefix="trainer."
        )
        check_distributed_fit(trainer, OmegaConf.to_container(config.hydra.launcher, resolve=False))
    uri = resolve_uri(tracking.uri, project)
    experiment_id = ensure_store(uri, tracking.experiment, project)
    sweep_id = os.environ.get(SWEEP_ID_ENV) or secrets.token_hex(3)
    overrides = " ".join(config.hydra.overrides.task)
    tags = {"rarewatch.kind": "sweep", "rarewatch.sweep_id": sweep_id, **git_tags(project)}
    parent = start_run(uri, experiment_id, f"sweep {overrides}".strip(), tags)
    info = SweepInfo(
        sweep_id=sweep_id,
        sweep_dir=str(sweep_dir),
        parent_run_id=parent,
        tracking_uri=uri,
        experiment=tracking.experiment,
        experiment_id=experiment_id,
    )
    with ending_run(uri, parent, status=None):  # FAILED if the sweep cannot be recorded on disk
        write_json(info.model_dump(), sweep_dir / SWEEP_FILE)
    log.info("sweep %s: MLflow parent run %s in %s", _shown(sweep_dir, project), parent, uri)
    return info


def _sweeps_over(overrides: list[str], group: str) -> bool:
    """Whether any override sweeps a value (a,b or range(...)) of `group` or of a key inside it."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return any(o.is_sweep_override() and o.key_or_group.split(".")[0] == group for o in parsed)


@dataclass(frozen=True)
class _Stop:
    """Why the Hydra app stopped before its jobs all returned."""

    code: int
    message: str
    interrupted: bool = False


def finish_sweep(sweep: SweepInfo, stop: _Stop | None, project: Path) -> int:
    """Print the sweep's table, end its runs in MLflow, and return the exit code."""
    from rarewatch.sweep_results import rank, read_results, results_json
    from rarewatch.tracking import RunStatus, end_run, ending_run, log_summary, running_children

    sweep_dir = Path(sweep.sweep_dir)
    records = read_results(sweep_dir, sweep.sweep_id)
    # After the launcher returned or stopped, a job still "running" never will: its process is gone.
    for job_dir, record in records.items():
        if record.status == "running":
            error = "its process ended before the job did (killed, or the sweep was stopped)"
            records[job_dir] = record.model_copy(update={"status": "killed", "error": error})
            write_result(job_dir, records[job_dir])
    results = list(records.values())
    table = build_table(results, f"Sweep {_shown(sweep_dir, project)}")
    if stop is not None:
        table.notes.append(f"the sweep stopped early ({stop.message}); jobs that had not started are not listed")
    text = table_text(table)
    if results:  # a sweep stopped before its first job has nothing to show but the error
        print_table(table)
    summary = aggregate_table(results, f"Sweep {_shown(sweep_dir, project)}")
    if summary is not None:
        print_table(summary)
        text += "\n\n" + table_text(summary)

    unfinished = [r for r in results if r.status != "finished"]
    status: RunStatus
    if stop is not None and stop.interrupted:
        status = "KILLED"
    elif stop is not None or unfinished:
        status = "FAILED"
    else:
        status = "FINISHED"
    uri = sweep.tracking_uri
    with ending_run(uri, sweep.parent_run_id, status=None):  # FAILED if recording the end fails
        # From MLflow, not the records: a worker killed between creating its run and recording it
        # (joblib kills every worker with SIGKILL when one dies) left a run no record names.
        errors = {r.run_id: r.error for r in results if r.run_id is not None}
        for run_id in running_children(uri, sweep.experiment_id, sweep.parent_run_id):
            end_run(uri, run_id, "KILLED", errors.get(run_id) or "its process ended before the job did")
        ranked = rank(results)
        metrics = {"jobs": float(len(results)), "jobs_finished": float(len(results) - len(unfinished))}
        if ranked and ranked[0].val_cost is not None and ranked[0].status == "finished":
            metrics["best_val_cost"] = ranked[0].val_cost
        texts = {"sweep_table.txt": text, "sweep_jobs.json": results_json(results)}
        log_summary(uri, sweep.parent_run_id, texts, metrics)
        end_run(uri, sweep.parent_run_id, status, stop.message if stop is not None else None)

    if stop is not None:
        _error(stop.message)
        return stop.code
    if unfinished:
        nums = ", ".join(str(r.num) for r in unfinished)
        _error(f"{len(unfinished)} of {len(results)} jobs did not finish (job {nums}); see the table above")
        return EXIT_FAILED
    return 0


# --------------------------------------------------------------------------------------- entry point


# Absolute: relative config paths resolve against the package, and conf/ sits beside src/.
@hydra.main(config_path=str(CONF_DIR), config_name="sweep", version_base=None)
def _app(cfg: DictConfig) -> float | None:
    _PROCESS.job_started = True
    quiet_lightning()
    hc = HydraConfig.get()
    multirun = hc.mode == RunMode.MULTIRUN
    project = Path(hc.runtime.cwd)
    job = Job(
        num=int(hc.job.num) if multirun else 0,
        overrides=list(hc.overrides.task),
        directory=Path(hc.runtime.output_dir),
        project=project,
        sweep_dir=(project / str(hc.sweep.dir)).resolve() if multirun else None,
        launcher=OmegaConf.to_container(hc.launcher, resolve=False) if multirun else None,
    )
    result = run_job(cfg, job)
    if not multirun:
        _PROCESS.single, _PROCESS.single_dir = result, job.directory
    return result.val_cost


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _error(message: str) -> None:
    print(f"rarewatch-sweep: error: {message}", file=sys.stderr)


def _stop_for(exc: Exception, full_traceback: bool) -> _Stop:
    """What to report for an exception that left Hydra (not a job's: jobs record their own)."""
    if isinstance(exc, RarewatchError | CompactHydraException):
        # Bad config: a Hydra override that does not compose, or a value rarewatch refuses.
        return _Stop(EXIT_INPUT, error_line(exc) if isinstance(exc, RarewatchError) else _hydra_message(exc))
    # The launcher or Hydra itself failed (a worker process killed, a bug): the traceback helps.
    if full_traceback or _PROCESS.sweep is None:
        traceback.print_exception(exc)
        return _Stop(EXIT_FAILED, error_line(exc))
    path = Path(_PROCESS.sweep.sweep_dir) / TRACEBACK_FILE
    path.write_text("".join(traceback.format_exception(exc)))
    return _Stop(EXIT_FAILED, f"{error_line(exc)} (traceback in {path})")


def _hydra_message(exc: Exception) -> str:
    """Hydra's own message on one line, with the OmegaConf error behind it (as Hydra prints it)."""
    text = str(exc)
    if exc.__cause__ is not None and str(exc.__cause__):
        text += " (" + str(exc.__cause__).splitlines()[0] + ")"
    return " ".join(text.split())


def main() -> None:
    _PROCESS.reset()
    os.environ[SWEEP_ID_ENV] = secrets.token_hex(3)
    # Hydra then raises errors to us instead of printing its trimmed traceback and exiting 1 itself.
    full_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)
    quiet_lightning()
    project = Path.cwd()

    stop: _Stop | None = None
    try:
        _app()
    except Interrupted as exc:
        stop = _Stop(exc.exit_code, error_line(exc), interrupted=True)
    except KeyboardInterrupt as exc:  # raised before our handler was installed, or by a library
        stop = _Stop(EXIT_SIGINT, error_line(exc), interrupted=True)
    except SystemExit as exc:
        if not _PROCESS.job_started:  # --help and the like: Hydra's own exit
            raise
        # Something in a job called sys.exit (the job recorded it as killed).
        stop = _Stop(exc.code if isinstance(exc.code, int) and exc.code else EXIT_FAILED, error_line(exc))
    except SweepStartError as exc:
        stop = _Stop(EXIT_INPUT if isinstance(exc.cause, RarewatchError) else EXIT_FAILED, str(exc))
        if full_traceback:
            traceback.print_exception(exc.cause)
    except Exception as exc:
        stop = _stop_for(exc, full_traceback)

    if _PROCESS.sweep is not None:
        try:
            code = finish_sweep(_PROCESS.sweep, stop, project)
        except (Exception, Interrupted, KeyboardInterrupt) as exc:
            # The parent run was ended FAILED if MLflow still answered (ending_run in finish_sweep).
            if full_traceback:
                traceback.print_exception(exc)
            if stop is not None:
                _error(stop.message)
            _error(f"the sweep's end could not be recorded: {error_line(exc)}")
            code = exc.exit_code if isinstance(exc, Interrupted) else stop.code if stop else EXIT_FAILED
        sys.exit(code)
    if stop is not None:
        _error(stop.message)
        sys.exit(stop.code)
    single = _PROCESS.single
    if single is None:  # --help, --cfg, --info: Hydra printed what was asked
        return
    if single.status != "finished":
        _error(single.error or "the run failed")
        sys.exit(EXIT_INPUT if single.input_error else EXIT_FAILED)
    print_table(build_table([single], f"Run {_shown(_PROCESS.single_dir or project, project)}"))


if __name__ == "__main__":
    # Through the package module, so that main() and the callback Hydra imports share _PROCESS.
    from rarewatch.sweep import main as _main

    _main()
