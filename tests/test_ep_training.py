"""ff-EBM training (logdomain.ep.ffebm / run): EP-trained vs exact-gradient baseline from the same start."""

from __future__ import annotations

import numpy as np
import pytest

from netlists import ParameterError, get_technology
from netlists.sweep import sweep_executor
from logdomain.ep.ffebm import FfEbmConfig, load_dataset
from logdomain.ep.run import compare_training

pytestmark = pytest.mark.spice

SKY = get_technology("sky130")


def _check(result: dict, n_blocks: int, chance: float) -> None:
    assert len(result["blocks"]) == n_blocks
    # acceptance: EP within 2 points of the exact-gradient baseline
    assert abs(result["test_accuracy"] - result["baseline_test_accuracy"]) <= 0.02
    # both learned (well above chance) and the curves are recorded per epoch
    assert result["baseline_test_accuracy"] > chance + 0.5
    ep, base = result["curves"]["ep"], result["curves"]["baseline"]
    assert len(ep["epoch"]) == len(base["epoch"]) == result["config"]["epochs"] + 1
    assert ep["train_loss"][-1] < 0.5 * ep["train_loss"][0]
    # the two runs follow the same trajectory (EP gradients ≈ exact ones)
    np.testing.assert_allclose(ep["train_loss"], base["train_loss"], rtol=0.05)


def test_wine_one_block_behavioural():
    data = load_dataset("wine", seed=0)
    result = compare_training(data, FfEbmConfig(n_blocks=1, hidden=8, block_out=6, epochs=30), tech=SKY)
    _check(result, 1, 1 / 3)


def test_wine_two_blocks_behavioural():
    data = load_dataset("wine", seed=1)
    result = compare_training(data, FfEbmConfig(n_blocks=2, hidden=8, block_out=6, epochs=30, seed=1), tech=SKY)
    _check(result, 2, 1 / 3)


@pytest.mark.slow
@pytest.mark.parametrize("n_blocks", [1, 2])
def test_digits_behavioural_whole_set(n_blocks):
    data = load_dataset("digits", seed=0)
    assert len(data["y_train"]) + len(data["y_test"]) == 1797
    result = compare_training(data, FfEbmConfig(n_blocks=n_blocks, hidden=16, block_out=12, epochs=15), tech=SKY)
    _check(result, n_blocks, 0.1)


def test_wine_spice_blocks_subset():
    """EP through SPICE blocks (sweep workers, batched .dc runs) on a subset vs the behavioural exact baseline."""
    data = load_dataset("wine", seed=0, subset=80)
    with sweep_executor(2) as pool:
        result = compare_training(data, FfEbmConfig(n_blocks=1, hidden=6, block_out=4, epochs=15, batch_size=20),
                                  tech=SKY, backend="spice", executor=pool)
    assert result["spice"]["operating_points"] > 0
    assert result["spice"]["batched_runs"] > 0 and result["spice"]["batches_failed"] == 0
    _check(result, 1, 1 / 3)


def test_spice_training_is_the_same_with_the_batched_and_the_per_sample_path(monkeypatch):
    """The batched .dc path (training's) and the per-sample alter path give the same learning curves.

    Tolerance: train losses within 1e-3 relative and equal accuracies (measured on wine, whole set, 10 epochs:
    identical accuracies, losses within 2e-4 relative at the last epoch).
    """
    from logdomain.ep import run

    data = load_dataset("wine", seed=0, subset=60)
    config = FfEbmConfig(n_blocks=1, hidden=6, block_out=4, epochs=3, batch_size=16)
    curves = {}
    for name, batch_points in (("batched", run.TRAIN_BATCH_POINTS), ("per_sample", None)):
        monkeypatch.setattr(run, "TRAIN_BATCH_POINTS", batch_points)
        with sweep_executor(2) as pool:
            result = compare_training(data, config, tech=SKY, backend="spice", executor=pool)
        assert (result["spice"]["batched_runs"] > 0) == (batch_points is not None)
        curves[name] = result["curves"]["ep"]
    np.testing.assert_allclose(curves["batched"]["train_loss"], curves["per_sample"]["train_loss"], rtol=1e-3)
    assert curves["batched"]["test_accuracy"] == curves["per_sample"]["test_accuracy"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"n_blocks": 3}, r"FfEbmConfig.n_blocks must be in \[1, 2\]"),
    ({"lr": 0}, r"FfEbmConfig.lr must be in"),
    ({"epochs": 1.5}, r"FfEbmConfig.epochs must be a whole number"),
])
def test_config_is_validated(changes, message):
    with pytest.raises(ParameterError, match=message):
        FfEbmConfig(**changes)


def test_unknown_dataset_and_backend_are_refused():
    with pytest.raises(ParameterError, match=r"dataset must be one of digits, wine"):
        load_dataset("iris")
    with pytest.raises(ParameterError, match=r"backend 'spice' needs an executor"):
        compare_training(load_dataset("wine"), FfEbmConfig(epochs=1), tech=SKY, backend="spice")
