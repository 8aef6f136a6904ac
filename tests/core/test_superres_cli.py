"""Super-resolution from the command line: the two training stages, ``score`` and ``upscale`` on
images of any mode and size, and checkpoints through the same safe loader as every family."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from genstudio.checkpoint import CheckpointError, load_checkpoint, read_header, save_checkpoint
from genstudio.cli import main
from genstudio.loading import load_model
from genstudio.runs.folder import RunDir
from genstudio.superres.model import SRModel


@pytest.fixture(scope="module")
def two_stages(tmp_path_factory):
    """A 3-step SRResNet on shapes, and a 2-step SRGAN fine-tuned from it."""
    root = tmp_path_factory.mktemp("sr")
    common = ["--data", "shapes", "--size", "32", "--width", "8", "--blocks", "1", "--batch", "4",
              "--log-every", "1", "--quiet", "--device", "cpu"]
    assert main(["train", "srresnet", *common, "--steps", "3", "--out", str(root / "a")]) == 0
    first = RunDir(root / "a").last_checkpoint
    assert main(["train", "srgan", *common, "--steps", "2", "--init", str(first), "--content", "random",
                 "--out", str(root / "b")]) == 0
    return first, RunDir(root / "b").last_checkpoint


def test_srgan_starts_from_the_srresnet_and_its_header_says_how_it_was_trained(two_stages):
    first, second = two_stages
    a, b = read_header(first), read_header(second)
    assert a["kind"] == "srresnet" and set(a["models"]) == {"G"}
    assert b["kind"] == "srgan" and set(b["models"]) == {"G", "D"}
    assert b["content"] == {"kind": "random"} and b["adv_weight"] == 1e-3
    assert b["init"]["file"] == first.name and b["init"]["kind"] == "srresnet" and b["init"]["step"] == 3
    assert b["models"]["G"]["args"] == a["models"]["G"]["args"]
    model = load_model(second, "cpu")
    assert isinstance(model, SRModel) and model.kind == "srgan" and "random" in model.describe()
    metrics = RunDir(second.parent.parent).read_metrics()
    assert {"loss_G", "content", "adv", "loss_D", "D(x)", "D(G(z))"} <= set(metrics[-1])


def test_sr_checkpoints_are_refused_clearly_when_foreign_or_damaged(two_stages, tmp_path):
    first, _ = two_stages
    with pytest.raises(CheckpointError, match="holds a SRResNet model, not a GAN model"):
        read_header(first, kind="gan")
    tensors, meta = load_checkpoint(first)
    meta["models"]["G"]["arch"] = "sr_d"  # an SRGAN discriminator claimed to be an SRResNet's
    save_checkpoint(tmp_path / "swapped.safetensors", tensors, meta)
    with pytest.raises(CheckpointError, match="does not belong in a SRResNet checkpoint"):
        load_checkpoint(tmp_path / "swapped.safetensors")
    _, meta = load_checkpoint(first)
    meta["models"]["G"]["args"]["width"] = 16  # weights of another width
    save_checkpoint(tmp_path / "wide.safetensors", tensors, meta)
    with pytest.raises(CheckpointError, match="has shape"):
        load_checkpoint(tmp_path / "wide.safetensors")
    _, meta = load_checkpoint(first)
    meta["adv_weight"] = [1]  # a header value info and the app would print
    save_checkpoint(tmp_path / "odd.safetensors", tensors, meta)
    with pytest.raises(CheckpointError, match="invalid adv_weight"):
        read_header(tmp_path / "odd.safetensors")
    data = first.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated|damaged"):
        load_model(tmp_path / "cut.safetensors", "cpu")
    (tmp_path / "gan.safetensors").write_bytes(b"\x80\x04not a checkpoint")
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(tmp_path / "gan.safetensors", "cpu")


def test_score_prints_psnr_and_ssim_beside_bicubic_and_writes_crops(two_stages, tmp_path, capsys):
    first, second = two_stages
    crops = tmp_path / "crops.png"
    assert main(["score", str(first), "--also", str(second), "--n", "8", "--device", "cpu",
                 "--crops", str(crops)]) == 0
    out = capsys.readouterr().out
    assert "bicubic" in out and "srresnet (" in out and "srgan (" in out and "PSNR" in out and "SSIM" in out
    assert "8 held-out shapes images, 8 → 32 px" in out
    with Image.open(crops) as img:  # 4 rows of bicubic | srresnet | srgan | original, each 32 px × 3
        assert img.size == (4 * (96 + 2) + 2, 4 * (96 + 2) + 2)
    assert main(["score", str(first), "--sampler", "ddim"]) == 1
    assert "super-resolution model upscales in one pass" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "I;16"])
def test_upscale_keeps_the_mode_and_quadruples_the_size(two_stages, tmp_path, mode, capsys):
    first, _ = two_stages
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (13, 21, 4), dtype=np.uint8)
    img = Image.fromarray(rgba)  # RGBA
    img = {"RGB": lambda: img.convert("RGB"), "L": lambda: img.convert("L"), "RGBA": lambda: img,
           "P": lambda: img.convert("RGB").convert("P"),
           "I;16": lambda: Image.fromarray(rgba[..., 0].astype(np.uint16) * 257)}[mode]()
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    img.save(src)
    assert main(["upscale", str(first), str(src), "--out", str(dst), "--device", "cpu"]) == 0
    with Image.open(dst) as f:
        out = f.copy()
    assert out.size == (84, 52)
    assert out.mode == {"RGB": "RGB", "L": "L", "RGBA": "RGBA", "P": "RGB", "I;16": "L"}[mode]
    if mode == "RGBA":  # alpha upscaled bicubically
        want = Image.fromarray(rgba[..., 3]).resize((84, 52), Image.Resampling.BICUBIC)
        assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(want))
    assert "wrote" in capsys.readouterr().out


def test_tiled_upscaling_equals_the_untiled_result(two_stages):
    first, _ = two_stages
    model = load_model(first, "cpu")
    lr = torch.rand(1, 3, 40, 37) * 2 - 1
    whole = model.upscale(lr, tile=1000)
    tiled = model.upscale(lr, tile=8)  # 5 × 5 tiles with margins of the receptive radius
    assert tiled.shape == (1, 3, 160, 148)
    assert torch.allclose(whole, tiled, atol=1e-5)


def test_upscale_refuses_other_models_and_bad_input_in_one_line(two_stages, tmp_path, capsys):
    first, _ = two_stages
    (tmp_path / "bad.png").write_bytes(b"not a png")
    assert main(["upscale", str(first), str(tmp_path / "bad.png"), "--out", str(tmp_path / "o.png")]) == 1
    assert "cannot be read as an image" in capsys.readouterr().err
    Image.new("RGB", (4, 4)).save(tmp_path / "ok.png")
    assert main(["upscale", str(first), str(tmp_path / "ok.png"), "--out", str(tmp_path / "o.jpg")]) == 1
    assert "lossless" in capsys.readouterr().err


def test_sr_flags_are_refused_for_other_families(tmp_path, capsys):
    assert main(["train", "gan", "--data", "ring8", "--steps", "1", "--content", "ae", "--out", str(tmp_path)]) == 1
    assert "--content is not a setting of gan runs" in capsys.readouterr().err
    assert main(["train", "srgan", "--data", "shapes", "--size", "32", "--steps", "1", "--content", "vgg",
                 "--out", str(tmp_path / "x")]) == 1
    assert "content loss must be one of" in capsys.readouterr().err


def test_a_users_vgg19_file_is_read_as_the_content_space(tmp_path):
    from safetensors.torch import save_file

    from genstudio.superres import content

    net = content.vgg19_features.__globals__["_VGG19"]  # the layer plan: build a random VGG19 file
    tensors, c_in, i = {}, 3, 0
    for v in net:
        if v == "M":
            i += 1
            continue
        tensors[f"features.{i}.weight"] = torch.randn(v, c_in, 3, 3) * 0.01
        tensors[f"features.{i}.bias"] = torch.zeros(v)
        c_in, i = v, i + 2
    save_file(tensors, str(tmp_path / "vgg19.safetensors"))
    phi = content.vgg19_features(str(tmp_path / "vgg19.safetensors"), 3)
    assert phi(torch.zeros(1, 3, 32, 32)).shape == (1, 512, 2, 2)  # φ5,4 after four pools
    save_file({"features.0.weight": torch.zeros(1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(Exception, match="does not hold VGG19's features"):
        content.vgg19_features(str(tmp_path / "other.safetensors"), 3)
    assert json.dumps({"ok": True})
