"""Captions for text-to-image: what each data set says, held-out combinations, captioned folders."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from genstudio.data import DataError, load_dataset
from genstudio.data.captions import (caption_notice, captioned, captions_for, colour_name, holds, parse_hold_out,
                                     position_name)
from genstudio.data.shapes import SHAPES


@pytest.fixture(scope="module")
def shapes():
    return load_dataset("shapes", size=16, num_images=600, seed=0)


def test_digits_say_the_label_four_ways():
    data = load_dataset("digits", size=8, num_images=50, seed=1)
    caps = captions_for(data)
    assert len(caps) == len(data)
    for label, c in zip(data.labels.tolist(), caps):
        word = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")[label]
        assert c == (f"a handwritten {label}", str(label), word, f"the digit {word}")


@pytest.mark.parametrize("rgb, name", [
    ((230, 20, 30), "red"), ((255, 140, 0), "orange"), ((250, 230, 40), "yellow"), ((30, 200, 60), "green"),
    ((40, 60, 240), "blue"), ((140, 40, 230), "purple"), ((250, 90, 190), "pink"), ((20, 220, 220), "cyan"),
    ((120, 70, 20), "brown"), ((15, 10, 30), "black"), ((240, 240, 235), "white"), ((128, 128, 135), "gray")])
def test_colours_are_named_as_a_person_would(rgb, name):
    assert colour_name(rgb) == name


def test_positions_follow_the_centre():
    assert position_name(0.5, 0.55) == "centre"
    assert position_name(0.2, 0.45) == "left" and position_name(0.8, 0.6) == "right"
    assert position_name(0.45, 0.2) == "top" and position_name(0.55, 0.85) == "bottom"


def test_shapes_captions_say_colour_shape_position_and_background(shapes):
    caps = captions_for(shapes)
    f = shapes.info["factors"]
    for i, c in enumerate(caps):
        shape, colour = SHAPES[int(f["shape"][i])], colour_name(f["colour"][i])
        where = position_name(float(f["x"][i]), float(f["y"][i]))
        assert c[0].startswith(f"a {colour} {shape} ") and c[0].endswith(" background")
        assert where in c[0] and f"a {colour} {shape}" in c and f"a {shape}" in c
        assert ("light" in c[0]) == (f["background"][i].astype(float) @ (0.299, 0.587, 0.114) > 127.5)
    words = {c[0].split()[1] for c in caps}
    assert {"red", "orange", "yellow", "green", "blue", "purple", "pink"} <= words
    assert {c[0].split()[2] for c in caps} == set(SHAPES)


def test_held_out_combinations_are_absent_from_training_items(shapes):
    data = captioned(shapes)
    assert data.info["held_out"] == ("blue triangle", "yellow cross")
    removed = data.info["held_out_removed"]
    assert removed > 0 and len(data) == len(shapes) - removed
    for c in data.info["captions"]:
        assert not any(holds(text, p) for text in c for p in data.info["held_out"])
    kept_colours = [colour_name(c) for c in data.info["factors"]["colour"]]
    assert not any(k == "blue" and SHAPES[s] == "triangle" for k, s in zip(kept_colours, data.labels.tolist()))
    assert "blue triangle" in caption_notice(data) and str(removed) in caption_notice(data)
    # the kept images are the data set's own, untouched, and factors/labels/captions stay aligned
    full = captions_for(shapes)
    keep = [i for i, c in enumerate(full) if not any(holds(c[0], p) for p in data.info["held_out"])]
    assert torch.equal(data.tensor, shapes.tensor[keep]) and torch.equal(data.labels, shapes.labels[keep])
    assert data.info["captions"] == [full[i] for i in keep] and captions_for(data) == data.info["captions"]
    # holding nothing out keeps everything; a phrase of the user's is honoured
    assert len(captioned(shapes, hold_out=())) == len(shapes)
    assert parse_hold_out(" Red  Circle, green star ") == ("red circle", "green star")
    assert all("red circle" not in c[0] for c in captioned(shapes, hold_out=("red circle",)).info["captions"])


def test_train_hold_out_keeps_its_phrases_out_of_every_caption_the_trainer_draws(shapes, tmp_path):
    """``genstudio train text2image --hold-out "Red Circle, green star"``: no caption the trainer holds or
    draws into a batch says "red circle" or "green star", though the data set has both."""
    from genstudio.cli import build_parser
    from genstudio.cli_train import config_from_args
    from genstudio.text2image.trainer import Text2ImageTrainer

    full = [c[0] for c in captions_for(shapes)]
    assert any(holds(c, "red circle") for c in full) and any(holds(c, "green star") for c in full)

    def trainer(*flags: str) -> Text2ImageTrainer:
        args = build_parser().parse_args(["train", "text2image", "--data", "shapes", "--size", "16", "--width", "8",
                                          "--out", str(tmp_path / "run"), *flags])
        return Text2ImageTrainer(config_from_args(args), shapes, torch.device("cpu"))

    t = trainer("--hold-out", "Red Circle, green star")
    assert t.config.extra["hold_out"] == ["red circle", "green star"]
    assert t.extra_meta()["held_out"] == ["red circle", "green star"]  # the checkpoint says so, for `score`
    drawn = [" ".join(t.tokenizer.decode(ids)) for ids in t.caption_ids]
    drawn += [" ".join(t.tokenizer.decode(ids)) for _ in range(20) for ids in t.next_batch().ids]
    assert not any(holds(c, p) for c in drawn for p in ("red circle", "green star"))
    assert any(holds(c, "blue triangle") for c in drawn)  # the default phrases are given back to training
    assert len(trainer("--hold-out", "").data) == len(shapes)  # "" holds nothing out


@pytest.mark.parametrize("argv, message", [
    (["train", "text2image", "--hold-out", ", ,"], "names no phrase"),
    (["train", "diffusion", "--hold-out", "red circle"], "--hold-out is not a setting of diffusion runs"),
    (["train", "gan", "--min-snr", "5"], "--min-snr is not a setting of gan runs"),
    (["train", "text2image", "--min-snr", "-1"], "--min-snr must be a number ≥ 0"),
])
def test_a_bad_hold_out_is_one_line(argv, message, tmp_path, capsys):
    from genstudio.cli import main

    assert main([*argv, "--data", "shapes", "--out", str(tmp_path / "run")]) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_faces_say_smile_hair_skin_and_eyes():
    data = load_dataset("faces", size=16, num_images=60, seed=0)
    f = data.info["factors"]
    names = data.info["factor_names"]
    for i, c in enumerate(captions_for(data)):
        mouth = float(f["mouth_curve"][i])
        assert ("smiling" in c[0]) == (mouth > 0.3) and ("frowning" in c[0]) == (mouth < -0.3)
        style, hair = names["hair_style"][f["hair_style"][i]], names["hair_colour"][f["hair_colour"][i]]
        assert (f"{style} {hair} hair" in c[0]) if style != "bald" else c[0].startswith("a bald")
        assert f"{names['skin'][f['skin'][i]]} skin" in c[0]
        assert f"{names['eye_colour'][f['eye_colour'][i]]} eyes" in c[0]
    assert any(c[0].startswith("a smiling face with long") for c in captions_for(data))


def test_point_sets_have_no_captions():
    with pytest.raises(DataError, match="no captions"):
        captions_for(load_dataset("ring8", num_points=10))


def _png(path, colour):
    Image.new("RGB", (12, 12), colour).save(path)


def test_folder_captions_from_txt_and_jsonl_and_uncaptioned_images_reported(tmp_path):
    _png(tmp_path / "a.png", (255, 0, 0))
    (tmp_path / "a.txt").write_text("a red square\n\nred\n")
    (tmp_path / "sub").mkdir()
    _png(tmp_path / "sub" / "b.png", (0, 0, 255))
    _png(tmp_path / "c.png", (0, 255, 0))  # no caption anywhere
    _png(tmp_path / "d.png", (0, 0, 0))
    (tmp_path / "captions.jsonl").write_text(
        json.dumps({"file": "sub/b.png", "text": "a blue square"}) + "\n\n"
        + json.dumps({"file": "d.png", "text": "black"}) + "\n" + json.dumps({"file": "d.png", "text": "night"}) + "\n")
    data = load_dataset(f"folder:{tmp_path}", size=8)
    assert captions_for(data) == [("a red square", "red"), (), ("black", "night"), ("a blue square",)]
    ready = captioned(data)
    assert len(ready) == 3 and ready.info["uncaptioned"] == 1 and ready.info["uncaptioned_example"] == "c.png"
    assert ready.info["paths"] == ["a.png", "d.png", "sub/b.png"]
    # the caption travels with its image: the blue one says blue
    blue = ready.info["paths"].index("sub/b.png")
    assert ready.tensor[blue, 2].mean() > 0.9 and ready.info["captions"][blue] == ("a blue square",)
    assert caption_notice(ready) == f"1 image in {tmp_path} has no caption and was left out (e.g. c.png)"
    assert ready.notice == caption_notice(ready)  # what the CLI's note and the app's status bar say


def test_folder_without_captions_or_with_a_bad_jsonl_line_is_a_clear_error(tmp_path):
    _png(tmp_path / "a.png", (255, 0, 0))
    with pytest.raises(DataError, match=r"no captions in .*name\.txt beside name\.png"):
        captions_for(load_dataset(f"folder:{tmp_path}", size=8))
    (tmp_path / "captions.jsonl").write_text('{"file": "a.png", "text": "red"}\n{"name": "a.png"}\n')
    with pytest.raises(DataError, match="captions.jsonl line 2 is not"):
        captions_for(load_dataset(f"folder:{tmp_path}", size=8))


def test_captioned_refuses_when_nothing_is_left(shapes):
    with pytest.raises(DataError, match="no item of shapes is left"):
        captioned(shapes, hold_out=("a",))
