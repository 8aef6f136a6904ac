"""Issue 24, sampling at the network's speed: the faster noise, update and recording change no sample,
and ``--compile`` (``SampleSpec.compile``) falls back to the eager network when compiling fails.

(No test compiles for real: Inductor takes minutes on these CPUs. ``benchmarks/b5_sampling.py``
compiles the U-Net and checks the compiled samples against the eager ones.)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from genstudio.cli import main
from genstudio.diffusion import compiled
from genstudio.diffusion.noise import NoiseSource, counter_normal
from genstudio.diffusion.samplers import ddim_steps, ddpm_steps
from genstudio.diffusion.schedule import NoiseSchedule, posterior, predict_x0
from genstudio.diffusion.trajectory import Trajectory
from genstudio.sampling import SampleSpec, sample
from tests.tiny_models import tiny_image_model, tiny_text_model

BUNDLED = Path(__file__).resolve().parents[2] / "checkpoints"


def plain_counter_normal(keys: np.ndarray, counter: int, size: int) -> np.ndarray:
    """The step noise as first written (splitmix64 + Box–Muller, straightforward numpy)."""
    gamma = np.uint64(0x9E3779B97F4A7C15)
    offs = (np.arange(size, dtype=np.uint64) + np.uint64(counter * size + 1)) * gamma
    x = keys.astype(np.uint64)[:, None] + offs[None, :]
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    h = x ^ (x >> np.uint64(31))
    u1 = ((h >> np.uint64(32)).astype(np.float64) + 0.5) * 2.0**-32
    u2 = ((h & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) * (2.0 * np.pi / 2.0**32)
    return np.sqrt(-2.0 * np.log(u1)) * torch.from_numpy(u2).cos().numpy()


@pytest.mark.parametrize("counter, size", [(0, 1), (1, 777), (999, 3072), (2**20, 5)])
def test_the_fast_step_noise_is_the_plain_formula_bit_for_bit(counter, size):
    keys = NoiseSource((7, size), torch.device("cpu"), seed=123).keys
    assert np.array_equal(counter_normal(keys, counter, size), plain_counter_normal(keys, counter, size))


def _eps(x, t):  # a deterministic stand-in ε-network that depends on x and t
    return torch.tanh(x.flip(-1) * 0.7 + t.view(-1, *([1] * (x.ndim - 1))).to(x.dtype) / 50)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("variance, clip", [("beta", False), ("beta_tilde", False), ("beta", True)])
def test_the_in_place_ddpm_update_is_the_schedules_formulas_bit_for_bit(dtype, variance, clip):
    schedule = NoiseSchedule(30, dtype=dtype)
    shape = (3, 2, 4, 4)
    noise = NoiseSource(shape, schedule.device, seed=5, dtype=dtype)
    x = noise.initial()
    sigma2 = schedule.betas if variance == "beta" else schedule.posterior_variance
    for index, step in enumerate(ddpm_steps(_eps, shape, schedule, seed=5, variance=variance, clip_x0=clip)):
        t = 29 - index
        eps = _eps(x, torch.full((3,), t))
        x0 = predict_x0(x, t, eps, schedule)
        x0 = x0.clamp(-1, 1) if clip else x0
        mean, _ = posterior(x0, x, t, schedule)
        x = mean + sigma2[t].sqrt() * noise.step(index) if t > 0 else mean
        assert torch.equal(step.x0, x0) and torch.equal(step.x_prev, x)


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_the_in_place_ddim_update_is_eq_12_bit_for_bit(eta):
    import math

    schedule = NoiseSchedule(40)
    shape = (2, 1, 4, 4)
    noise = NoiseSource(shape, schedule.device, seed=9)
    x = noise.initial()
    ac = schedule.alphas_cumprod_f64
    for index, step in enumerate(ddim_steps(_eps, shape, schedule, steps=8, eta=eta, seed=9)):
        t, t_prev = step.t, step.t - 5
        a_t, a_prev = float(ac[t]), float(ac[t_prev]) if t_prev >= 0 else 1.0
        sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev))
        eps = _eps(x, torch.full((2,), t))
        x0 = predict_x0(x, t, eps, schedule)
        x = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma**2, 0.0)) * eps
        x = x + sigma * noise.step(index) if eta > 0 else x
        assert torch.equal(step.x_prev, x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_the_recording_holds_every_step_as_the_sampler_yielded_it(dtype):
    model = tiny_image_model(num_steps=12)
    spec = SampleSpec(3, 4, "ddpm")
    steps = [(s.t, s.x_t.clone(), s.eps.clone(), s.x0.clone())
             for s in ddpm_steps(model.eps, (3, *model.sample_shape), model.schedule, seed=4)]
    traj = sample(model, spec, record_dtype=dtype).trajectory
    assert traj.timesteps.tolist() == [t for t, *_ in steps]
    for k, (_, x_t, eps, x0) in enumerate(steps):
        for recorded, expected in ((traj.x_t[k], x_t), (traj.eps[k], eps), (traj.x0[k], x0)):
            assert np.array_equal(recorded, expected.to(dtype).numpy())


def test_float16_recording_clamps_what_overflows_to_its_largest_value():
    rec = Trajectory.recorder(2, (1, 3), torch.float16)
    rec.add(5, *(torch.tensor([[1e6, -1e9, 0.5]]),) * 3)
    rec.add(4, *(torch.tensor([[float("inf"), 65519.0, -2.0]]),) * 3)
    traj = rec.finish(torch.zeros(1, 3), {})
    assert traj.x_t.tolist() == [[[65504.0, -65504.0, 0.5]], [[65504.0, 65504.0, -2.0]]]
    assert traj.timesteps.tolist() == [5, 4]


# ---------------------------------------------------------------------------- --compile
def _raising_compile(*args, **kwargs):
    raise RuntimeError("Compiler: cc not found\nmore detail")


def _lazily_failing_compile(fn, **kwargs):  # what Inductor does without a C++ compiler: fails at the first call
    def run(*args):
        raise RuntimeError("BackendCompilerFailed: no working C++ compiler")
    return run


@pytest.mark.parametrize("fake", [_raising_compile, _lazily_failing_compile])
def test_compile_falls_back_to_the_eager_network_with_a_note(monkeypatch, fake):
    monkeypatch.setattr(torch, "compile", fake)
    model = tiny_image_model(num_steps=10)
    notes: list[str] = []
    spec = SampleSpec(2, 3, "ddim", steps=5, record=False)
    got = sample(model, SampleSpec(2, 3, "ddim", steps=5, record=False, compile=True), note=notes.append).final
    assert np.array_equal(got, sample(model, spec).final)
    assert notes[-1].startswith("compiling the network failed (RuntimeError: ")
    assert notes[-1].endswith("); sampling with the eager network") and "\n" not in notes[-1]


def test_compile_says_so_once_per_shape_and_gives_the_eager_samples(monkeypatch):
    calls: list[tuple] = []

    def fake(fn, *, dynamic, mode):  # records how it is asked, and what the step passes in
        calls.append((dynamic, mode))

        def run(x, t):
            assert x.is_inference() and t.is_inference()  # one graph for every step, a branch's first too
            return fn(x, t)
        return run

    monkeypatch.setattr(torch, "compile", fake)
    model = tiny_image_model(num_steps=10)
    notes: list[str] = []
    spec = SampleSpec(2, 3, "ddpm", record=False, compile=True)
    first = sample(model, spec, note=notes.append).final
    again = sample(model, spec, note=notes.append).final  # the same model: compiled once, reused
    assert calls == [(False, "default")]
    assert notes[0] == compiled.COMPILE_NOTE and notes[1].startswith("compiled in ") and len(notes) == 2
    plain = sample(model, SampleSpec(2, 3, "ddpm", record=False)).final
    assert np.array_equal(first, plain) and np.array_equal(again, plain)
    sample(model, SampleSpec(4, 3, "ddpm", record=False, compile=True), note=notes.append)  # a new shape
    assert notes[2] == compiled.COMPILE_NOTE and len(notes) == 4


def test_a_guided_run_compiles_its_pair_forward(monkeypatch):
    compiled_fns = []
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: compiled_fns.append(fn) or fn)
    model = tiny_text_model(num_steps=6)
    spec = SampleSpec(2, 1, "ddim", steps=3, record=False, prompt="a red star", guidance=2.0)
    got = sample(model, replace(spec, compile=True), note=lambda s: None).final
    assert np.array_equal(got, sample(model, spec).final)
    assert len(compiled_fns) == 1 and compiled_fns[0].__name__ == "pair_eps"


def test_the_cuda_mode_is_cuda_graphs():
    assert compiled.compile_mode(torch.device("cuda")) == "reduce-overhead"
    assert compiled.compile_mode(torch.device("cpu")) == "default"


def test_genstudio_sample_compile_falls_back_when_compiling_fails(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch, "compile", _raising_compile)
    args = ["sample", str(BUNDLED / "ddpm_ring8.safetensors"), "--n", "3", "--sampler", "ddim", "--steps", "3",
            "--device", "cpu"]
    assert main(args + ["--compile", "--out", str(tmp_path / "c.npy")]) == 0
    assert "sampling with the eager network" in capsys.readouterr().err
    assert main(args + ["--out", str(tmp_path / "e.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "c.npy"), np.load(tmp_path / "e.npy"))


def test_genstudio_sample_refuses_compile_for_a_gan(tmp_path, capsys):
    args = ["sample", str(BUNDLED / "dcgan_digits.safetensors"), "--n", "2", "--compile", "--out", str(tmp_path / "g.npy")]
    assert main(args) == 1
    assert "--compile is for diffusion models" in capsys.readouterr().err


@pytest.mark.parametrize("counter, size", [(0, 1), (3, 777), (999, 3072)])
def test_the_device_side_step_noise_draws_the_numpy_ones_on_the_cpu(counter, size):
    from genstudio.diffusion.noise import counter_normal_torch

    keys = NoiseSource((5, size), torch.device("cpu"), seed=77).keys
    got = counter_normal_torch(torch.from_numpy(keys.view(np.int64)), counter, size).numpy()
    want = counter_normal(keys, counter, size)
    assert got.dtype == np.float64 and np.allclose(got, want, rtol=1e-15, atol=0)  # torch's log: ≤ 1 ulp off numpy's
    assert np.array_equal(got.astype(np.float32), want.astype(np.float32))  # the draws the samplers take
