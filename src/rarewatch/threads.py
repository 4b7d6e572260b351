"""The thread budget of a job: never more threads across a sweep's parallel jobs than cores.

Measured on the 2-core machine (benchmarks/RESULTS-speed.md): torch's intra-op threads spin
against each other whenever the machine is not idle, so two threads per job beside a second job run
many times slower than one. So `trainer.num_threads` defaults to 1 and a job of a parallel sweep
gets at most `cores // parallel_jobs` threads, for torch and for the BLAS/OpenMP pools that
scikit-learn, PyOD and numpy use.
"""

from __future__ import annotations

import os

# The variables the OpenMP and BLAS runtimes read when they start (in this process's children, or
# in libraries not loaded yet); threadpoolctl limits the pools already loaded.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which a container or taskset narrows)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity (macOS)
        return max(1, os.cpu_count() or 1)


def parallel_jobs(n_jobs: int | None, cores: int) -> int:
    """How many jobs run at once for a joblib-style `n_jobs`: None is 1, -1 is all cores, -2 all but one."""
    if n_jobs is None or n_jobs == 0:
        return 1
    if n_jobs < 0:
        return max(1, cores + 1 + n_jobs)
    return n_jobs


def threads_per_job(requested: int, jobs: int, cores: int) -> int:
    """At most `requested`, at most an equal share of `cores` among `jobs` parallel jobs, at least 1."""
    if requested < 1 or jobs < 1 or cores < 1:
        raise ValueError(f"threads_per_job needs positive counts, got requested={requested} jobs={jobs} cores={cores}")
    return max(1, min(requested, cores // jobs))


def limit_threads(threads: int) -> None:
    """Cap torch (if loaded) and the BLAS/OpenMP pools of this process and its children at `threads`."""
    import sys

    from threadpoolctl import threadpool_limits

    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    threadpool_limits(limits=threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
