"""Text to image (issue 16): the tokenizer, classifier-free guidance through the one sampling loop,
the guidance direction in a recording, checkpoints with a vocabulary, and a tiny model that learns
to follow a two-word prompt."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genstudio.checkpoint import CheckpointError, load_checkpoint, read_header, save_checkpoint
from genstudio.cli import main
from genstudio.config import RunConfig
from genstudio.data import Dataset
from genstudio.diffusion.samplers import ddim_sample, ddpm_sample
from genstudio.diffusion.trajectory import Trajectory
from genstudio.loading import load_model
from genstudio.sampling import SampleSpec, sample, sampler_names
from genstudio.text.tokenizer import Tokenizer, UnknownWordsError, words
from genstudio.text2image.trainer import Text2ImageTrainer
from tests.header_edits import with_meta
from tests.tiny_models import tiny_image_model, tiny_text_model


# ---------------------------------------------------------------------------- tokenizer
def test_the_tokenizer_splits_words_and_punctuation_and_reports_every_unknown_word():
    assert words("A Handwritten 7.") == ["a", "handwritten", "7", "."]
    tok = Tokenizer.build(["a handwritten 7", "the digit seven"])
    assert tok.vocab[:2] == ["<pad>", "<null>"] and tok.max_len == 3
    assert tok.decode(tok.encode("The DIGIT seven")) == ["the", "digit", "seven"]
    assert tok.decode(tok.encode("")) == ["<null>"]  # the empty prompt is the null caption
    with pytest.raises(UnknownWordsError) as err:
        tok.encode("a purple handwritten 7, please")
    assert err.value.unknown == ("purple", ",", "please")  # every one, in order, none dropped
    assert "'purple', ',', 'please'" in str(err.value) and "it knows: 7, a, digit" in str(err.value)
    with pytest.raises(UnknownWordsError, match="<null>"):
        tok.encode("<null>")  # a special is not a word a prompt may use
    with pytest.raises(ValueError, match="reads at most 3"):
        tok.encode("a handwritten seven 7")


def test_unknown_words_are_reported_by_genstudio_sample(tmp_path, capsys):
    model = tiny_text_model()
    path = save_checkpoint(tmp_path / "t2i.safetensors", _tensors(model), model.meta)
    assert main(["sample", str(path), "--prompt", "a green star", "--n", "2", "--sampler", "ddim", "--steps", "2",
                 "--out", str(tmp_path / "x.npy")]) == 1
    err = capsys.readouterr().err
    assert "never saw in its captions: 'green'" in err and err.count("\n") == 1
    assert main(["sample", str(path), "--prompt", "a red star", "--negative-prompt", "a big star", "--n", "2",
                 "--out", str(tmp_path / "x.npy")]) == 1
    assert "'big'" in capsys.readouterr().err  # the negative prompt is checked too


# ---------------------------------------------------------------------------- guidance
@pytest.mark.parametrize("sampler", sampler_names())
def test_guidance_0_is_the_unconditional_model_and_1_the_conditional_one(sampler):
    model = tiny_text_model()
    shape = (3, *model.sample_shape)
    run = {"ddpm": lambda eps: ddpm_sample(eps, shape, model.schedule, seed=5),
           "ddim": lambda eps: ddim_sample(eps, shape, model.schedule, steps=5, eta=0.5, seed=5)}[sampler]
    uncond = run(model.eps).numpy()
    cond = run(lambda x, t: model.cond_eps(x, t, "a red star")).numpy()
    assert not np.allclose(uncond, cond, atol=1e-3)  # the caption matters to this network

    def guided(s: float) -> np.ndarray:
        return sample(model, SampleSpec(3, 5, sampler, 5, 0.5, prompt="a red star", guidance=s, record=False)).final

    np.testing.assert_allclose(guided(0.0), uncond, atol=1e-5)
    np.testing.assert_allclose(guided(1.0), cond, atol=1e-4)
    assert not np.allclose(guided(3.0), cond, atol=1e-3)
    plain = sample(model, SampleSpec(3, 5, sampler, 5, 0.5, record=False)).final  # no prompt: unconditional
    np.testing.assert_allclose(plain, uncond, atol=1e-6)


def test_the_batched_cond_uncond_forward_equals_two_separate_forwards():
    model = tiny_text_model()
    x = torch.randn(4, *model.sample_shape)
    t = torch.tensor([19, 12, 5, 0])
    for negative in (None, "a blue circle"):
        guided = model.guided_eps(SampleSpec(4, prompt="a red star", guidance=2.5, negative=negative))
        eps = guided(x, t)  # one forward of 8 rows
        eps_c = model.cond_eps(x, t, "a red star")  # two of 4
        eps_u = model.eps(x, t) if negative is None else model.cond_eps(x, t, negative)
        np.testing.assert_allclose(guided.direction, eps_c - eps_u, atol=1e-5)
        np.testing.assert_allclose(eps, eps_u + 2.5 * (eps_c - eps_u), atol=1e-5)


def test_a_negative_prompt_takes_the_null_captions_place():
    model = tiny_text_model()
    a = sample(model, SampleSpec(2, 1, "ddim", 4, prompt="a red star", guidance=3, record=False)).final
    b = sample(model, SampleSpec(2, 1, "ddim", 4, prompt="a red star", guidance=3, negative="a blue star",
                                 record=False)).final
    assert not np.allclose(a, b, atol=1e-3)


def test_a_prompt_for_a_model_without_text_is_refused():
    with pytest.raises(ValueError, match="needs a text-conditioned model"):
        sample(tiny_image_model(), SampleSpec(2, prompt="a 7", record=False))


def test_the_trajectory_records_the_guidance_direction(tmp_path):
    model = tiny_text_model()
    result = sample(model, SampleSpec(2, 3, "ddim", 4, prompt="a red circle", guidance=3))
    traj = result.trajectory
    assert traj.guidance is not None and traj.guidance.shape == traj.eps.shape == (4, 2, 1, 16, 16)
    x_t, t = torch.from_numpy(traj.frame(0).x_t), torch.full((2,), int(traj.timesteps[0]))
    expected = model.cond_eps(x_t, t, "a red circle") - model.eps(x_t, t)
    np.testing.assert_allclose(traj.direction(0), expected, atol=1e-5)
    np.testing.assert_allclose(traj.frame(0).eps, model.eps(x_t, t) + 3 * expected, atol=1e-5)
    assert result.info["prompt"] == "a red circle" and result.info["guidance"] == 3.0
    back = Trajectory.load_npz(traj.save_npz(tmp_path / "traj.npz"))
    np.testing.assert_array_equal(back.guidance, traj.guidance)
    plain = sample(tiny_image_model(), SampleSpec(2, 3, "ddim", 4)).trajectory  # unguided: as before
    assert plain.guidance is None and plain.direction(0) is None
    assert Trajectory.load_npz(plain.save_npz(tmp_path / "plain.npz")).guidance is None


# ---------------------------------------------------------------------------- checkpoints
def _tensors(model) -> dict[str, torch.Tensor]:
    return {f"ema/eps/{k}": v for k, v in model.net.state_dict().items()}


def test_a_checkpoint_keeps_the_vocabulary_and_samples_the_same(tmp_path):
    model = tiny_text_model()
    path = save_checkpoint(tmp_path / "t2i.safetensors", _tensors(model), model.meta)
    assert read_header(path)["text"]["words"] == model.tokenizer.vocab
    back = load_model(path, "cpu")
    assert type(back).__name__ == "Text2ImageModel" and back.tokenizer.vocab == model.tokenizer.vocab
    spec = SampleSpec(2, 7, "ddim", 4, prompt="a blue star", guidance=2, record=False)
    np.testing.assert_array_equal(sample(back, spec).final, sample(model, spec).final)


@pytest.mark.parametrize("text, message", [
    (None, "no vocabulary"),
    ({"words": ["<pad>", "<null>", "a", "a", "b"], "max_len": 3}, "lists a word twice"),
    ({"words": ["<pad>", "<null>", "two words", "b"], "max_len": 3}, "not one lower-case word"),
    ({"words": ["<null>", "<pad>", "a", "b"], "max_len": 3}, "does not start with <pad> and <null>"),
    ({"words": ["<pad>", "<null>", "a"], "max_len": 0}, "max_len 0"),
    ("vocab", "no vocabulary"),
])
def test_a_corrupted_vocabulary_header_is_refused_with_a_clear_message(tmp_path, text, message):
    model = tiny_text_model()
    good = save_checkpoint(tmp_path / "good.safetensors", _tensors(model), model.meta)
    bad = with_meta(good, tmp_path / "bad.safetensors", text=text)
    with pytest.raises(CheckpointError, match=f"bad.safetensors has a damaged vocabulary header: .*{message}"):
        load_checkpoint(bad)


def test_a_vocabulary_of_the_wrong_size_for_the_network_is_refused(tmp_path):
    model = tiny_text_model()
    good = save_checkpoint(tmp_path / "good.safetensors", _tensors(model), model.meta)
    words_ = model.tokenizer.vocab + ["green"]
    bad = with_meta(good, tmp_path / "bad.safetensors", text={"words": words_, "max_len": model.tokenizer.max_len})
    with pytest.raises(CheckpointError, match=f"vocab_size is {len(words_)} in the vocabulary but "
                                              f"{len(words_) - 1} in the network"):
        read_header(bad)


# ---------------------------------------------------------------------------- training
def _light_dark_data(n: int = 64) -> Dataset:
    """16 px textured images, light or dark, captioned "a light square" / "a dark square"."""
    g = torch.Generator().manual_seed(0)
    light = torch.arange(n) % 2 == 0
    x = (0.2 * torch.randn(n, 1, 16, 16, generator=g) + torch.where(light, 0.6, -0.6)[:, None, None, None]).clamp(-1, 1)
    captions = [("a light square",) if lit else ("a dark square",) for lit in light.tolist()]
    return Dataset("toy", "images", x, light.long(), {"captions": captions})


def test_a_tiny_model_learns_to_follow_a_prompt():
    """Two captions that differ in one word, a short run (150 steps of a width-8 U-Net, T = 50 cosine):
    from the same noise, "a light square" draws a lighter picture than "a dark square" for every
    seed, and a larger guidance scale pulls them further apart.

    (With ε-prediction the caption only matters at high noise, where the picture's brightness is
    hidden, so a short run learns a weak but consistent pull; the guidance scale amplifies it.)
    """
    cfg = RunConfig(kind="text2image", data="toy", size=16, width=8, batch=32, lr=5e-3, steps=150, timesteps=50,
                    schedule="cosine", ema_decay=0.8, n_preview=4, device="cpu", seed=0).validate()
    torch.manual_seed(0)
    trainer = Text2ImageTrainer(cfg, _light_dark_data(), torch.device("cpu"))
    assert trainer.tokenizer.vocab == ["<pad>", "<null>", "a", "dark", "light", "square"]
    batch = trainer.next_batch()
    assert (batch.ids[:, 0] == 1).any() and (batch.ids[:, 0] == 2).any()  # some null captions, most real
    for _ in range(cfg.steps):
        trainer.train_step(trainer.next_batch())
        trainer.step += 1
    tensors, meta = trainer.state()
    assert meta["text"] == trainer.tokenizer.to_meta() and meta["p_uncond"] == 0.1
    from genstudio.loading import model_from_state

    model = model_from_state(tensors, meta, torch.device("cpu"))

    def brightness(prompt: str, s: float) -> np.ndarray:  # (8,) mean value of each sample
        x = sample(model, SampleSpec(8, 0, "ddim", 10, prompt=prompt, guidance=s, record=False)).final
        return x.mean(axis=(1, 2, 3))

    gap = {s: brightness("a light square", s) - brightness("a dark square", s) for s in (0.0, 3.0, 7.0)}
    np.testing.assert_allclose(gap[0.0], 0.0, atol=1e-6)  # s = 0: the caption is not read
    assert (gap[3.0] > 0.03).all(), gap[3.0]  # every seed: lighter when asked for light
    assert (gap[7.0] > gap[3.0]).all(), (gap[3.0], gap[7.0])


def test_a_safetensors_header_whose_length_ends_in_0x80_is_not_taken_for_a_pickle(tmp_path):
    """The header length's first byte is 0x80 for 1 file in 256 (a vocabulary makes headers vary)."""
    model = tiny_text_model()
    for pad in range(256):
        meta = {**model.meta, "note": "x" * pad}
        path = save_checkpoint(tmp_path / "t2i.safetensors", _tensors(model), meta)
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    assert load_model(path, "cpu").tokenizer.vocab == model.tokenizer.vocab


def test_the_preview_is_one_row_per_fixed_prompt_over_the_same_noise_columns(tmp_path):
    from PIL import Image

    from genstudio.data import load_dataset
    from genstudio.runs.folder import RunDir

    cfg = RunConfig(kind="text2image", data="digits", size=16, width=8, batch=8, timesteps=10, n_preview=64,
                    device="cpu", seed=0).validate()
    trainer = Text2ImageTrainer(cfg, load_dataset("digits", size=16), torch.device("cpu"))
    preview = trainer.preview()
    assert preview.extra == {"prompts": [f"a handwritten {d}" for d in range(10)], "columns": 6}
    assert preview.data.shape == (60, 1, 16, 16)
    # untrained, the network ignores the text (its output layers start at zero): a column is one x_T
    np.testing.assert_array_equal(preview.data[0], preview.data[6])
    assert not np.array_equal(preview.data[0], preview.data[1])
    path = RunDir(tmp_path).write_preview(10, preview)
    with Image.open(path) as png:
        assert png.text["prompts"].startswith("a handwritten 0 | a handwritten 1") and png.height == 2 * (10 * 17 + 1)
        assert png.width > 2 * (6 * 17 + 1)  # the labels' margin, left of the grid
