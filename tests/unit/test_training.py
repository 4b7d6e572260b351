"""The lean fit loop (rarewatch.models.training) and its batches (rarewatch.models.batches)."""

import math

import pytest
import torch

from rarewatch.models.batches import Batches
from rarewatch.models.lightning_modules import ReconstructionModule
from rarewatch.models.training import EarlyStopping, fit_module
from tests.conftest import CPU_TRAINER

TRAINER = CPU_TRAINER


def test_unshuffled_batches_are_views_in_order():
    x = torch.arange(10.0).reshape(5, 2)
    batches = list(Batches(x, batch_size=2, shuffle=False, seed=0))
    assert [b[0].tolist() for b in batches] == [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9]]]
    assert batches[0][0].data_ptr() == x.data_ptr()  # a view, not a copy


def test_shuffled_batches_cover_every_row_once_per_pass_and_depend_only_on_the_seed():
    x, y = torch.arange(7.0), torch.arange(7.0) * 10
    first = Batches(x, y, batch_size=3, shuffle=True, seed=5)
    passes = [[b for b in first] for _ in range(2)]
    for batches in passes:
        assert [len(b[0]) for b in batches] == [3, 3, 1]
        assert sorted(torch.cat([b[0] for b in batches]).tolist()) == list(range(7))
        assert all(torch.equal(b[1], b[0] * 10) for b in batches)  # rows stay paired across tensors
    again = Batches(x, y, batch_size=3, shuffle=True, seed=5)
    assert [torch.cat([b[0] for b in again]).tolist() for _ in range(2)] == [
        torch.cat([b[0] for b in batches]).tolist() for batches in passes
    ]
    assert len(first) == 3


def test_batches_refuse_tensors_of_different_lengths():
    with pytest.raises(ValueError, match=r"\[3, 2\]"):
        Batches(torch.zeros(3), torch.zeros(2), batch_size=1, shuffle=False, seed=0)


def test_early_stopping_waits_patience_epochs_after_the_best():
    stopper = EarlyStopping(patience=2)
    steps = [stopper.update(e, v) for e, v in enumerate([3.0, 2.0, 2.0, 2.5])]
    # 2.0 again is no improvement (strictly lower needed); two epochs without one stop at epoch 3.
    assert steps == [(True, False), (True, False), (False, False), (False, True)]
    assert (stopper.best, stopper.best_epoch) == (2.0, 1)


def test_early_stopping_with_patience_zero_never_stops_but_a_non_finite_value_does():
    stopper = EarlyStopping(patience=0)
    assert [stopper.update(e, 1.0)[1] for e in range(5)] == [False] * 5
    assert stopper.update(5, math.nan) == (False, True)


class Recorder:
    """A stand-in for a Lightning logger (MLFlowLogger has the same two methods the loop calls)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, float], int]] = []
        self.saved = 0

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        self.calls.append((metrics, step))

    def save(self) -> None:
        self.saved += 1


def _fit(patience: int, max_epochs: int, logger=None, lr: float = 0.05):
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    net = torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Linear(2, 4))
    module = ReconstructionModule(net, learning_rate=lr, weight_decay=0.0)
    report = fit_module(
        module,
        Batches(x, batch_size=16, shuffle=True, seed=0),
        Batches(x[:32], batch_size=8192, shuffle=False, seed=0),
        max_epochs=max_epochs,
        patience=patience,
        trainer=TRAINER,
        train_samples=64,
        val_samples=32,
        logger=logger,
    )
    return module, x, report


def test_fit_keeps_one_row_per_epoch_and_sends_it_to_the_logger():
    logger = Recorder()
    _, _, report = _fit(patience=0, max_epochs=4, logger=logger)
    assert report.epochs == 4 and [row["epoch"] for row in report.history] == [0, 1, 2, 3]
    assert [step for _, step in logger.calls] == [0, 1, 2, 3]
    assert set(logger.calls[0][0]) == {"train_loss", "val_loss"}
    assert logger.calls[-1][0]["val_loss"] == report.history[-1]["val_loss"]
    assert logger.saved == 1
    assert report.history[-1]["train_loss"] < report.history[0]["train_loss"]  # it learns


def test_fit_ends_with_the_best_epochs_weights():
    # At this learning rate the validation loss goes up and down; the weights kept must be those
    # of the epoch with the lowest validation loss, not the last epoch's.
    module, x, report = _fit(patience=0, max_epochs=12, lr=0.5)
    best = min(report.history, key=lambda row: row["val_loss"])
    assert best["epoch"] != report.history[-1]["epoch"]  # else this test would not tell the two apart
    assert report.extra["best_epoch"] == best["epoch"]
    with torch.no_grad():
        val_loss = float(torch.nn.functional.mse_loss(module.net(x[:32]), x[:32]))
    assert val_loss == pytest.approx(best["val_loss"], rel=1e-5)
    assert not module.net.training


def test_fit_stops_early_after_patience_epochs_without_a_better_validation_loss():
    _, _, report = _fit(patience=1, max_epochs=50, lr=0.5)
    best_epoch = report.extra["best_epoch"]
    assert report.epochs == best_epoch + 2 < 50


def test_the_same_seed_gives_the_same_history_and_weights():
    first, _, a = _fit(patience=0, max_epochs=3)
    second, _, b = _fit(patience=0, max_epochs=3)
    assert a.history == b.history
    for (name, p), q in zip(first.net.state_dict().items(), second.net.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_only_what_the_lean_loop_cannot_do_goes_to_lightning():
    from rarewatch.models.training import needs_lightning

    assert not needs_lightning(TRAINER)
    for change in ({"strategy": "ddp"}, {"devices": 2}, {"precision": "bf16-mixed"}):
        assert needs_lightning(TRAINER.model_copy(update=change)), change


def test_a_lightning_fit_keeps_the_same_report_and_logger(monkeypatch):
    import rarewatch.models.training as training

    monkeypatch.setattr(training, "needs_lightning", lambda trainer: True)
    module, _, report = _fit(patience=0, max_epochs=3)
    assert report.epochs == 3 and [row["epoch"] for row in report.history] == [0, 1, 2]
    assert {"train_loss", "val_loss"} <= set(report.history[-1])
    assert report.extra["best_epoch"] == min(report.history, key=lambda row: row["val_loss"])["epoch"]
    assert not module.net.training
