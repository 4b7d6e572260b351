"""trainer=cpu|gpu|ddp compose and validate; a CPU dry run of each; DDP is refused in parallel sweep jobs."""

from __future__ import annotations

import warnings

import lightning as L
import pytest
import torch

from rarewatch.composition import compose
from rarewatch.config import TrainerConfig, config_from_dict
from rarewatch.errors import ConfigError
from rarewatch.launchers import MANY, check_distributed_fit, parallel_jobs
from rarewatch.models.training import trainer_arguments

BASIC = {"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"}
JOBLIB = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
SUBMITIT_LOCAL = {"_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher"}
SLURM = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"


def preset(name: str, **changes: object) -> TrainerConfig:
    trainer = config_from_dict(compose([f"trainer={name}"])).trainer
    return trainer.model_copy(update=changes)


def test_presets_set_strategy_and_precision():
    cpu, gpu, ddp = preset("cpu"), preset("gpu"), preset("ddp")
    assert (cpu.accelerator, cpu.devices, cpu.strategy, cpu.precision) == ("cpu", 1, "auto", "32-true")
    assert (gpu.accelerator, gpu.devices, gpu.strategy, gpu.precision) == ("gpu", 1, "auto", "16-mixed")
    assert (ddp.accelerator, ddp.devices, ddp.strategy, ddp.precision) == ("gpu", 2, "ddp", "16-mixed")
    assert not cpu.distributed and not gpu.distributed and ddp.distributed
    assert compose()["trainer"]["strategy"] == "auto"  # cpu stays the default
    assert trainer_arguments(ddp) == {
        "accelerator": "gpu",
        "devices": 2,
        "strategy": "ddp",
        "precision": "16-mixed",
        "deterministic": True,
        "enable_progress_bar": True,
    }


def test_unknown_strategy_or_precision_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match="trainer.strategy"):
        config_from_dict(compose(["trainer=ddp", "trainer.strategy=horovod"]))
    with pytest.raises(ConfigError, match="trainer.precision"):
        config_from_dict(compose(["trainer=gpu", "trainer.precision=8-bit"]))


class _Tiny(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(3, 1)

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        (x,) = batch
        return self.net(x).pow(2).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


@pytest.mark.parametrize("name", ["cpu", "gpu", "ddp"])
def test_each_preset_dry_runs_on_the_cpu(name: str):
    # No GPU here: the preset's strategy and precision as given, on one CPU device (DDP as a world of one;
    # Lightning runs 16-mixed as bf16-mixed on a CPU).
    trainer = preset(name, accelerator="cpu", devices=1, progress_bar=False)
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(8, 3)), batch_size=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter = L.Trainer(**trainer_arguments(trainer), fast_dev_run=True, logger=False, enable_model_summary=False)
        fitter.fit(_Tiny(), data)
    assert fitter.state.finished and fitter.global_step == 1
    assert fitter.strategy.__class__.__name__ == ("DDPStrategy" if name == "ddp" else "SingleDeviceStrategy")


def test_parallel_jobs_per_launcher():
    assert parallel_jobs(BASIC) == 1
    assert parallel_jobs({"_target_": JOBLIB, "n_jobs": 2}) == 2
    assert parallel_jobs({"_target_": JOBLIB, "n_jobs": 1}) == 1
    assert parallel_jobs({"_target_": JOBLIB, "n_jobs": None}) == 1
    assert parallel_jobs({"_target_": JOBLIB, "n_jobs": -1}) == MANY
    assert parallel_jobs(SUBMITIT_LOCAL) == MANY
    assert parallel_jobs({"_target_": SLURM, "array_parallelism": 1}) == 1


def test_ddp_is_refused_in_parallel_sweep_jobs_with_the_reason():
    ddp = preset("ddp")
    with pytest.raises(ConfigError, match=r"JoblibLauncher\) runs 2 jobs at once.*same devices.*MASTER_PORT"):
        check_distributed_fit(ddp, {"_target_": JOBLIB, "n_jobs": 2})
    with pytest.raises(ConfigError, match=r"LocalLauncher\) runs all its jobs at once"):
        check_distributed_fit(preset("gpu", devices=2), SUBMITIT_LOCAL)
    # One job at a time, or one device per job: allowed.
    check_distributed_fit(ddp, BASIC)
    check_distributed_fit(ddp, {"_target_": JOBLIB, "n_jobs": 1})
    check_distributed_fit(preset("gpu"), {"_target_": JOBLIB, "n_jobs": 2})
