"""Prompt accuracy: prompts parsed, images read back, and the measuring sticks checked on real images."""

from __future__ import annotations

import math

import pytest
import torch

from genstudio.data import load_dataset
from genstudio.prompt_accuracy import (PromptError, accuracy_vs_guidance, diversity, format_rows, parse_prompt,
                                       prompt_accuracy, real_reference)
from genstudio.shapes_reader import check_reader, read_shapes, truth


@pytest.fixture(scope="module")
def real_shapes():
    """Held-out real shapes (seed 2: the reader never trained on them) with the words their factors say."""
    data = load_dataset("shapes", size=32, num_images=1500, seed=2)
    return data, truth(data)


def pick(real, n=40, **want):
    data, words = real
    idx = [i for i, w in enumerate(words) if all(getattr(w, k) == v for k, v in want.items())][:n]
    assert len(idx) >= 5, want
    return data.tensor[idx]


# ---------------------------------------------------------------------------- parsing
def test_prompts_parse_into_what_they_ask_for():
    assert parse_prompt("a red star on the left", "shapes").wants == {"colour": "red", "shape": "star",
                                                                      "position": "left"}
    assert parse_prompt("A Blue square, in the middle on a dark background.", "shapes").wants == {
        "colour": "blue", "shape": "square", "position": "centre", "background": "dark"}
    assert parse_prompt("the digit seven", "digits").wants == {"digit": "7"}
    assert parse_prompt("a handwritten 3", "digits").wants == {"digit": "3"}
    assert parse_prompt("", "digits").wants == {}
    assert parse_prompt("a blue triangle at the top", "shapes").held_out == ("blue triangle",)
    assert parse_prompt("a blue square", "shapes").held_out == ()
    smiling = parse_prompt("a smiling face with long dark brown hair, very light skin and blue eyes", "faces")
    assert smiling.wants == {"hair_style": "long", "hair_colour": "dark brown", "skin": "very light", "eyes": "blue"}
    assert smiling.unmeasured == {"expression": "smiling"}  # parsed, said, but no reader checks it
    assert parse_prompt("a bald frowning face with dark eyes", "faces").wants == {"hair_style": "bald", "eyes": "dark"}
    assert parse_prompt("a face with gray hair", "faces").wants == {"hair_colour": "grey"}


@pytest.mark.parametrize("prompt, data, message", [
    ("a red dog", "shapes", "unknown word 'dog' in the prompt: a shapes prompt uses black, blue"),
    ("a handwritten seventeen", "digits", "unknown word 'seventeen'"),
    ("a red blue circle", "shapes", r"asks for two colours \(red and blue\)"),
    ("a smiling face with red", "faces", "'red' says nothing without hair, skin or eyes after it"),
    ("a face with purple hair", "faces", "'purple' is not a hair colour the faces know: black, dark brown"),
    ("a smiling frowning face", "faces", r"two expressions \(smiling and frowning\)"),
    ("a face with a hat", "faces", "unknown word 'hat' in the prompt: a faces prompt uses bald, black"),
    ("two rings", "ring8", "measured for digits, shapes and faces models, not ring8")])
def test_bad_prompts_are_one_line_errors(prompt, data, message):
    with pytest.raises(PromptError, match=message) as err:
        parse_prompt(prompt, data)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------------------- the measuring sticks
def test_shapes_reader_is_accurate_on_held_out_real_images():
    acc = check_reader(n=400, size=32)
    assert acc["colour"] >= 0.95 and acc["shape"] >= 0.95 and acc["position"] >= 0.95 and acc["background"] >= 0.98
    assert check_reader(n=150, size=64)["shape"] >= 0.95  # another size, brought to the classifier's 32


def test_shapes_reader_survives_some_pixel_noise(real_shapes):
    data, words = real_shapes
    noisy = (data.tensor + 0.1 * torch.randn(data.tensor.shape, generator=torch.Generator().manual_seed(0)))
    got = read_shapes(noisy.clamp(-1, 1))
    for factor in ("colour", "shape", "position"):
        assert sum(getattr(g, factor) == getattr(w, factor) for g, w in zip(got, words)) / len(words) >= 0.9


def test_a_blank_sample_is_read_as_its_colour_not_a_crash():
    """A sample with no shape in it (one flat colour, as an early checkpoint can draw) reads as that colour."""
    flat = torch.empty(2, 3, 16, 16)
    flat[0] = torch.tensor([0.9, -0.9, -0.9])[:, None, None]  # all red
    flat[1] = 1.0  # all white (clamped)
    got = read_shapes(flat)
    assert [g.colour for g in got] == ["red", "white"] and [g.background for g in got] == ["dark", "light"]


def test_real_images_of_a_prompt_score_full_marks_and_wrong_ones_none(real_shapes):
    red_circles = pick(real_shapes, colour="red", shape="circle")
    right = prompt_accuracy(red_circles, "a red circle", "shapes")
    assert right.factors == {"colour": 1.0, "shape": 1.0} and right.all_right == 1.0
    wrong = prompt_accuracy(pick(real_shapes, colour="blue", shape="square"), "a red circle", "shapes")
    assert wrong.factors == {"colour": 0.0, "shape": 0.0} and wrong.all_right == 0.0
    half = prompt_accuracy(pick(real_shapes, colour="green", shape="circle"), "a red circle", "shapes")
    assert half.factors == {"colour": 0.0, "shape": 1.0}
    left = prompt_accuracy(pick(real_shapes, position="left"), "on the left", "shapes")
    assert left.factors["position"] >= 0.95


def test_digits_prompt_accuracy_on_real_digits_the_classifier_never_saw():
    ref = real_reference([f"a handwritten {d}" for d in range(10)], "digits", n=30)
    for s in ref.scores:
        assert s.factors["digit"] >= 0.9, s.describe()
    sevens = load_dataset("digits", size=16).tensor[load_dataset("digits", size=8).labels == 7][:30]
    assert prompt_accuracy(sevens, "the digit three", "digits").factors["digit"] <= 0.05
    everything = prompt_accuracy(load_dataset("digits", size=16).tensor[:200], "", "digits")
    assert math.isnan(everything.all_right) and len(everything.read["digit"]) == 10  # the empty prompt: all ten


def test_diversity_is_zero_for_copies_and_positive_for_real_images(real_shapes):
    one = pick(real_shapes, shape="star")[:1]
    assert diversity(one.repeat(8, 1, 1, 1)) == pytest.approx(0.0, abs=1e-9)
    assert diversity(pick(real_shapes, shape="star")) > 0.3


def test_accuracy_against_guidance_with_a_sampling_function(real_shapes):
    """A stand-in model: at guidance 0 it draws blue squares whatever the prompt, above 0 what was asked."""
    calls = []

    def sample(prompt, guidance, n, seed):
        calls.append((prompt, guidance, n, seed))
        if guidance == 0:
            return pick(real_shapes, n, colour="blue", shape="square")
        colour, shape = prompt.split()[1:3]
        return pick(real_shapes, n, colour=colour, shape=shape)

    prompts = ["a red circle", "a green triangle"]
    rows = accuracy_vs_guidance(sample, prompts, [0, 3], "shapes", n=10, seed=5)
    assert [r.guidance for r in rows] == [0.0, 3.0] and {c[3] for c in calls} == {5}
    assert rows[0].mean("colour") == 0.0 and rows[1].mean("colour") == 1.0 and rows[1].mean("all") == 1.0
    table = format_rows(rows, real_reference(prompts, "shapes", n=10))
    assert table[0].split() == ["guidance", "colour", "shape", "all", "diversity"]
    assert table[1].split()[:4] == ["0", "0%", "0%", "0%"] and table[3].split()[:4] == ["real", "100%", "100%", "100%"]
    # a bad prompt fails before anything is sampled
    calls.clear()
    with pytest.raises(PromptError):
        accuracy_vs_guidance(sample, ["a red circle", "a red kite"], [1], "shapes")
    assert calls == []


# ---------------------------------------------------------------------------- `genstudio score`, text to image
@pytest.fixture(scope="module")
def t2i_digits_ckpt(tmp_path_factory):
    from genstudio.config import RunConfig
    from genstudio.runs.loop import run_to_end

    cfg = RunConfig(kind="text2image", data="digits", size=16, steps=1, batch=4, lr=1e-3, beta1=0.9, width=8,
                    timesteps=10, log_every=1, preview_every=1000, checkpoint_every=1000, n_preview=4)
    return run_to_end(cfg, tmp_path_factory.mktemp("t2i") / "run").checkpoint


def test_score_reports_prompt_accuracy_against_guidance_for_a_text_to_image_model(t2i_digits_ckpt, capsys):
    from genstudio.cli import main

    assert main(["score", str(t2i_digits_ckpt), "--n", "3", "--steps", "2", "--guidances", "0,3",
                 "--prompt", "a handwritten 7", "--prompt", "the digit two"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("prompt accuracy (ddim 2 steps, 3 per prompt)")
    assert out[1].split() == ["guidance", "digit", "all", "diversity"]
    assert [line.split()[0] for line in out[2:5]] == ["0", "3", "real"]
    assert int(out[4].split()[1].rstrip("%")) >= 80  # 3 real sevens and 3 real twos the classifier never saw
    assert out[-2].startswith("“a handwritten 7”") and out[-1].startswith("“the digit two”")


def test_score_refuses_a_prompt_it_cannot_measure_before_sampling(t2i_digits_ckpt, capsys):
    from genstudio.cli import main

    assert main(["score", str(t2i_digits_ckpt), "--prompt", "a red circle"]) != 0
    err = capsys.readouterr().err
    assert "unknown word 'red' in the prompt" in err and "sampled" not in err


# ---------------------------------------------------------------------------- faces
def test_faces_reader_on_held_out_real_faces():
    from genstudio.faces_reader import check_reader as check_faces

    acc = check_faces(n=300, size=32)
    assert acc["hair_style"] >= 0.95 and acc["hair_colour"] >= 0.9 and acc["skin"] >= 0.95, acc


def test_real_faces_of_a_prompt_score_high_and_wrong_ones_low():
    ref = real_reference(["a face with long red hair", "a smiling face with short black hair", "a bald face"],
                         "faces", n=20)
    for s in ref.scores:
        assert s.all_right >= 0.85, s.describe()
    assert ref.scores[1].unmeasured == ("smiling",) and "[not measured: smiling]" in ref.scores[1].describe()
    from genstudio.faces_reader import truth as face_truth

    data = load_dataset("faces", size=32, num_images=300, seed=2)
    blond = [i for i, t in enumerate(face_truth(data)) if t["hair_colour"] == "blond"][:20]
    assert prompt_accuracy(data.tensor[blond], "a face with red hair", "faces").factors["hair_colour"] <= 0.1
