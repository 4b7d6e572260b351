"""What a running study prints: one line per trial (its value, the best so far, its overrides), under a
rich progress bar on a terminal. Lines are printed without markup, since overrides hold brackets."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from rarewatch.search.trials import TrialResult


class Progress:
    def __init__(self, total: int, done: int) -> None:
        self.console = Console(soft_wrap=True, highlight=False)
        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
            disable=not self.console.is_terminal,
        )
        self._task = self._bar.add_task("trials", total=total, completed=done)

    def __enter__(self) -> Progress:
        self._bar.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bar.__exit__(exc_type, exc, tb)

    def start_trial(self, number: int, overrides: list[str]) -> None:
        self._bar.update(self._task, description=f"trial {number}")

    def fold(self, number: int, fold: int, folds: list[int]) -> None:
        self._bar.update(self._task, description=f"trial {number} fold {fold} ({folds.index(fold) + 1}/{len(folds)})")

    def advance_to(self, done: int) -> None:
        self._bar.update(self._task, completed=done)

    def finished(self, number: int, result: TrialResult, overrides: list[str], best: Any, seconds: float) -> None:
        folds = " ".join(f"{f.value:.4g}" for f in result.folds)
        self._line(
            f"trial {number:>3}  value {result.value:.4g} (folds {folds})  {_best(best)}  {seconds:.0f}s", overrides
        )

    def failed(self, number: int, message: str, overrides: list[str], best: Any) -> None:
        self._line(f"trial {number:>3}  FAILED on the data: {message}  {_best(best)}", overrides)

    def _line(self, text: str, overrides: list[str]) -> None:
        self.console.print(f"{text}  {' '.join(overrides)}", markup=False)


def _best(best: Any) -> str:
    return "best -" if best is None else f"best {best.value:.4g} (trial {best.number})"
