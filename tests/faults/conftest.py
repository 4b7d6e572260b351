"""The fault-injection suite: each test breaks one thing (a file, a value, a process, a command) and checks
the exact exit code, the message, and the files left on disk. `pytest tests/faults -m "not slow"` runs
the quick ones (seconds); the slow one runs dvc in a copy of the repository."""

from tests.integration.conftest import repo_copy  # noqa: F401 (the fixture, for test_recovery.py)
