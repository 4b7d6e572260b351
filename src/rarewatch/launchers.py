"""What a Hydra launcher does with a sweep's jobs, and the one rule that follows: no DDP in parallel jobs.

A distributed fit (trainer=ddp: one process per device, relaunched by Lightning) claims every device in
trainer.devices and one rendezvous port (MASTER_PORT). Jobs that a launcher runs at the same time would
each claim the same devices and port on a machine, so rarewatch refuses the combination before it starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rarewatch.config import TrainerConfig
from rarewatch.errors import ConfigError

# A value for "as many jobs at once as the launcher likes" (joblib's n_jobs=-1, submitit's local executor).
MANY = 1_000_000


def launcher_name(launcher: Mapping[str, Any]) -> str:
    """The launcher's class name (BasicLauncher, JoblibLauncher, LocalLauncher, SlurmLauncher, ...)."""
    return str(launcher.get("_target_", "BasicLauncher")).rsplit(".", 1)[-1]


def parallel_jobs(launcher: Mapping[str, Any]) -> int:
    """How many of a sweep's jobs the launcher (Hydra's hydra.launcher node) may run at the same time."""
    name = launcher_name(launcher)
    if name == "BasicLauncher":
        return 1
    if name == "JoblibLauncher":
        n_jobs = launcher["n_jobs"]
        # joblib: None is 1 job, negative values count back from the number of cores (-1: all of them).
        if n_jobs is None:
            return 1
        return int(n_jobs) if n_jobs > 0 else MANY
    if name == "SlurmLauncher":
        return int(launcher["array_parallelism"])
    return MANY  # submitit's local executor starts every job at once; an unknown launcher: assume it may


def check_distributed_fit(trainer: TrainerConfig, launcher: Mapping[str, Any]) -> None:
    """Refuse a distributed fit (DDP) in a sweep whose launcher runs jobs in parallel, saying why."""
    jobs = parallel_jobs(launcher)
    if not trainer.distributed or jobs <= 1:
        return
    at_once = "all its jobs" if jobs >= MANY else f"{jobs} jobs"
    raise ConfigError(
        f"trainer.strategy={trainer.strategy}, trainer.devices={trainer.devices} is a distributed fit (one process "
        f"per device, relaunched by Lightning), and this sweep's launcher ({launcher_name(launcher)}) runs {at_once} "
        "at once: each job would claim the same devices and the same rendezvous port (MASTER_PORT). Run DDP jobs one "
        "at a time (hydra/launcher=basic, or hydra.launcher.n_jobs=1), or give each parallel job one device "
        "(trainer=gpu)"
    )
