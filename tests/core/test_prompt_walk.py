"""Prompt interpolation (text2image.walk): the ends are the two prompts' own samples, on one noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from genstudio.sampling import SampleSpec, sample
from genstudio.text2image.walk import mix_contexts, prompt_walk, slerp_rows, walk, walk_gif_frames, WalkFrame

from tiny_models import tiny_text_model


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_the_walk_starts_at_prompt_a_and_ends_at_prompt_b_on_the_same_noise(method):
    model = tiny_text_model(num_steps=10)
    spec = SampleSpec(n=3, seed=7, sampler="ddim", steps=5, eta=0.5, prompt="a red star", guidance=3.0)
    result = walk(model, spec, "a blue circle", 5, method=method, index=2)
    assert result.frames.shape == (5, 1, 16, 16) and result.alphas == (0.0, 0.25, 0.5, 0.75, 1.0)
    a = sample(model, spec).final[2]  # sample #2 of the seed: the walk's noise
    b = sample(model, SampleSpec(n=3, seed=7, sampler="ddim", steps=5, eta=0.5, prompt="a blue circle")).final[2]
    np.testing.assert_allclose(result.frames[0], a, atol=1e-5)
    np.testing.assert_allclose(result.frames[-1], b, atol=1e-5)
    steps = np.abs(np.diff(result.frames, axis=0)).mean(axis=(1, 2, 3))
    assert (steps > 0).all()  # every frame moves
    assert np.abs(result.frames[2] - a).mean() > 1e-3 and np.abs(result.frames[2] - b).mean() > 1e-3


def test_prompts_of_different_lengths_fade_their_extra_words_in():
    model = tiny_text_model(captions=("a red star", "a blue star", "a red circle", "red"))
    net, tok = model.net, model.tokenizer
    with torch.inference_mode():
        a, b = (net.encode(tok.encode(p)[None]) for p in ("red", "a blue star"))
    half = mix_contexts(a, b, 0.5)
    assert half.mask.tolist() == [[1.0, 0.5, 0.5]]  # "red" has 1 token, "a blue star" 3
    assert mix_contexts(a, b, 0.0) is a and mix_contexts(a, b, 1.0) is b
    v, w = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    mid = slerp_rows(v, w, 0.5)
    assert torch.allclose(mid.norm(), torch.tensor(3.0)) and torch.lerp(v, w, 0.5).norm() < 2.2  # slerp keeps length


def test_the_walk_reports_progress_frames_and_refuses_bad_input():
    model = tiny_text_model(num_steps=6)
    spec = SampleSpec(sampler="ddpm", prompt="a red star")
    events = list(prompt_walk(model, spec, "a blue star", 3))
    frames = [e for e in events if isinstance(e, WalkFrame)]
    assert [f.k for f in frames] == [0, 1, 2] and type(events[-1]).__name__ == "WalkResult"
    assert max(e.done for e in events if hasattr(e, "done")) == 18  # 3 frames × 6 DDPM steps
    for bad, why in ((dict(prompt_to="a green star"), "'green'"), (dict(frames=1), "2 … 240 frames"),
                     (dict(method="cubic"), "slerp or lerp")):
        kw = {"prompt_to": "a blue star", "frames": 3, **bad}
        with pytest.raises(ValueError, match=why):
            walk(model, spec, kw.pop("prompt_to"), kw.pop("frames"), **kw)


def test_the_gif_has_one_frame_per_step_of_the_walk(tmp_path):
    from genstudio.imaging import save_gif

    model = tiny_text_model(num_steps=4)
    result = walk(model, SampleSpec(sampler="ddpm", prompt="a red star"), "a red star", 6)  # the same prompt:
    pictures = walk_gif_frames(result.frames, 64)  # identical frames, told apart by the α bar
    assert pictures[0].shape == (64 + 3, 64, 3)
    path = save_gif(tmp_path / "walk.gif", pictures, fps=8)
    with Image.open(path) as gif:
        assert gif.n_frames == 6


def test_genstudio_sample_prompt_to_writes_the_walk_as_a_gif(tmp_path, capsys):
    from genstudio.checkpoint import save_checkpoint
    from genstudio.cli import main

    model = tiny_text_model(num_steps=8)
    tensors = {f"ema/eps/{k}": v for k, v in model.net.state_dict().items()}
    path = save_checkpoint(tmp_path / "t2i.safetensors", tensors, model.meta)
    out = tmp_path / "walk.gif"
    assert main(["sample", str(path), "--prompt", "a red star", "--prompt-to", "a blue circle", "--frames", "4",
                 "--steps", "3", "--out", str(out), "--px", "32"]) == 0
    printed = capsys.readouterr().out
    assert "4 frames from 'a red star' to 'a blue circle' (slerp, ddim 3 steps eta 0" in printed
    with Image.open(out) as gif:
        assert gif.n_frames == 4 and gif.size == (32, 35)
    for argv, why in ((["--prompt-to", "a blue star", "--out", str(tmp_path / "w.png")], "give --out FILE.gif"),
                      (["--prompt-to", "a blue star", "--out", str(out)], "walks from --prompt"),
                      (["--prompt", "a red star", "--out", str(out)], "is for a prompt walk"),
                      (["--prompt", "a red star", "--prompt-to", "a big star", "--out", str(out)], "'big'")):
        assert main(["sample", str(path), *argv]) == 1
        assert why in capsys.readouterr().err
