"""The GAN's remedies for mode collapse change the losses and networks as their papers define them,
and a run keeps them across a checkpoint (genstudio.gan.remedies)."""

from __future__ import annotations

import pytest
import torch

from genstudio.config import ConfigError, RunConfig
from genstudio.gan.losses import discriminator_loss
from genstudio.gan.remedies import gan_options, r1_penalty
from genstudio.loading import load_model
from genstudio.models.d_blocks import MinibatchStdDev
from genstudio.models.mlp import MLPDiscriminator
from genstudio.runs.loop import run_to_end
from genstudio.runs.start import make_trainer


def _config(**extra) -> RunConfig:
    return RunConfig(kind="gan", data="ring8", batch=64, steps=20, width=32, num_points=2000, device="cpu",
                     lr=1e-3, log_every=5, preview_every=10, checkpoint_every=10, extra=extra)


def _trainer(**extra):
    return make_trainer(_config(**extra), torch.device("cpu"))


def test_r1_is_half_gamma_times_the_squared_gradient_norm_at_real_data():
    D = torch.nn.Linear(2, 1)  # D(x) = w·x + b, so ∇_x D(x) = w for every x
    real = torch.randn(16, 2)
    penalty, logits = r1_penalty(lambda x: D(x).view(-1), real, gamma=10.0)
    assert penalty.item() == pytest.approx(0.5 * 10.0 * D.weight.pow(2).sum().item(), rel=1e-5)
    assert torch.allclose(logits, D(real).view(-1))
    penalty.backward()  # differentiable in D's weights: d/dw (γ/2 ‖w‖²) = γ w
    assert torch.allclose(D.weight.grad, 10.0 * D.weight, atol=1e-5)


def test_r1_adds_its_penalty_to_the_discriminator_loss():
    plain, with_r1 = _trainer(), _trainer(r1=5.0)
    real = plain.next_batch()
    with_r1.next_batch()
    # the same weights, noise and batch: the step's D loss differs by exactly the penalty on this batch
    expected, _ = r1_penalty(with_r1.D, real, 5.0)
    loss_plain = plain.train_step(real)["loss_D"].item()
    loss_r1 = with_r1.train_step(real)["loss_D"].item()
    assert loss_r1 - loss_plain == pytest.approx(expected.item(), rel=1e-4, abs=1e-6)
    assert expected.item() > 0


def test_spectral_norm_bounds_each_layer_of_d_to_one():
    D = MLPDiscriminator(hidden=64, spectral_norm=True)
    D(torch.randn(32, 2))  # a forward in training mode runs the power iteration
    plain = MLPDiscriminator(hidden=64)
    for layer, raw in zip((m for m in D.net if isinstance(m, torch.nn.Linear)),
                          (m for m in plain.net if isinstance(m, torch.nn.Linear))):
        sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=0.05)
    assert max(torch.linalg.matrix_norm(m.weight.detach(), ord=2).item()
               for m in plain.net if isinstance(m, torch.nn.Linear)) > 1.2  # what it would be without


def test_minibatch_std_adds_one_feature_that_sees_the_batch_spread():
    layer = MinibatchStdDev(group=4)
    same = torch.ones(8, 5)
    spread = torch.randn(8, 5)
    assert layer(same).shape == (8, 6)
    assert layer(same)[:, -1].abs().max() < 1e-3  # identical samples: no spread
    assert layer(spread)[:, -1].min() > 0.3
    D = MLPDiscriminator(hidden=16, mbstd=4)
    assert D.net[-1].in_features == 16 + 1
    x = torch.randn(8, 2)
    y = x.clone()
    y[1:] = x[0]  # the same first sample in a collapsed batch
    assert D(x)[0].item() != pytest.approx(D(y)[0].item(), abs=1e-6)  # D's verdict depends on the batch


def test_more_d_steps_take_more_adam_steps_and_unrolling_puts_d_back():
    t = _trainer(d_steps=3)
    t.train_step(t.next_batch())
    assert t.opt_D.state_dict()["state"][0]["step"].item() == 3
    plain, unrolled = _trainer(), _trainer(unrolled=4)
    real = plain.next_batch()
    unrolled.next_batch()
    plain.train_step(real)
    unrolled.train_step(real)
    # D's own step is the plain one; its 4 unrolled steps only shaped G's step, then D went back
    assert unrolled.opt_D.state_dict()["state"][0]["step"].item() == 1
    for a, b in zip(plain.D.parameters(), unrolled.D.parameters()):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(plain.G.parameters(), unrolled.G.parameters()))


def test_d_has_its_own_learning_rate():
    t = _trainer(d_lr=3e-4)
    assert t.opt_D.param_groups[0]["lr"] == 3e-4
    assert t.opt_G.param_groups[0]["lr"] == 1e-3


@pytest.mark.parametrize("extra, word", [({"r1": -1}, "r1"), ({"d_steps": 0}, "d_steps"), ({"mbstd": 1}, "mbstd"),
                                         ({"mbstd": 5}, "divide"), ({"spectral_norm": "yes"}, "spectral_norm"),
                                         ({"unrolled": 1.5}, "unrolled")])
def test_impossible_options_are_one_line_config_errors(extra, word):
    with pytest.raises(ConfigError, match=word):
        gan_options(_config(**extra))


def test_a_resumed_run_keeps_its_remedies_and_its_checkpoint_samples(tmp_path):
    extra = {"r1": 1.0, "spectral_norm": True, "mbstd": 4, "unrolled": 2, "d_steps": 2}
    run = tmp_path / "run"
    assert run_to_end(_config(**extra), run).reason == "done"
    # the CLI's --resume hands the run its own steps and rate, but no remedy flags
    finished = run_to_end(_config().replace(steps=30), run, resume=True)
    assert finished.reason == "done" and finished.step == 30
    model = load_model(finished.checkpoint, "cpu")
    assert model.meta["config"]["extra"] == extra
    assert model.meta["models"]["D"]["args"]["mbstd"] == 4 and model.D is not None  # D rebuilt as trained
    assert model.sample(10, 0).shape == (10, 2)


def test_the_default_is_the_seed_s_bce_losses():
    t = _trainer()
    assert gan_options(t.config) == gan_options(t.config.replace(extra={})) and t.specs["D"]["args"] == {
        "hidden": 32, "depth": 3, "in_dim": 2}  # a plain D: old checkpoints' args, nothing added
    real = t.next_batch()
    state = t.noise_gen.get_state()
    z = torch.randn((64, t.G.nz), generator=t.noise_gen)
    with torch.no_grad():
        expected = discriminator_loss(t.D(real), t.D(t.G(z))).item()
    t.noise_gen.set_state(state)  # the step draws the same z
    assert t.train_step(real)["loss_D"].item() == pytest.approx(expected, rel=1e-5)
