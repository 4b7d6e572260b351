"""The thread budget of parallel jobs (rarewatch.threads): hand-computed cases."""

import pytest

from rarewatch.threads import parallel_jobs, threads_per_job


@pytest.mark.parametrize(
    ("requested", "jobs", "cores", "expected"),
    [
        (1, 1, 2, 1),  # the default: one thread
        (2, 1, 2, 2),  # alone, a job may use every core it asks for
        (2, 2, 2, 1),  # two jobs on two cores: one thread each, never 2 x 2
        (4, 2, 8, 4),  # enough cores: what was asked
        (8, 3, 8, 2),  # 8 // 3
        (2, 4, 2, 1),  # more jobs than cores: still one thread, never zero
    ],
)
def test_threads_per_job_never_exceeds_cores_in_total(requested, jobs, cores, expected):
    assert threads_per_job(requested, jobs, cores) == expected


def test_threads_per_job_refuses_non_positive_counts():
    with pytest.raises(ValueError, match="jobs=0"):
        threads_per_job(1, 0, 2)


@pytest.mark.parametrize(
    ("n_jobs", "cores", "expected"), [(None, 2, 1), (1, 2, 1), (2, 2, 2), (-1, 2, 2), (-2, 8, 7), (-4, 2, 1)]
)
def test_parallel_jobs_follows_joblib_n_jobs(n_jobs, cores, expected):
    assert parallel_jobs(n_jobs, cores) == expected


def test_jobs_sharing_this_machine_follow_the_sweeps_launcher(monkeypatch):
    import rarewatch.sweep as sweep

    monkeypatch.setattr(sweep, "available_cores", lambda: 2)
    joblib = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
    assert sweep.local_parallel_jobs(None) == 1  # a single run
    assert sweep.local_parallel_jobs({"_target_": joblib, "n_jobs": 2}) == 2
    assert sweep.local_parallel_jobs({"_target_": joblib, "n_jobs": -1}) == 2
    assert sweep.local_parallel_jobs({"_target_": "hydra_plugins.x.LocalLauncher"}) == 2  # all jobs at once
    assert sweep.local_parallel_jobs({"_target_": "hydra_plugins.x.SlurmLauncher", "array_parallelism": 8}) == 1
