"""The style-based generator: shapes and sizes, what modulation/demodulation does to variance, style
mixing, truncation in W, a few training steps and the checkpoint round trip."""

from __future__ import annotations

import pytest
import torch

from genstudio.models.stylegan import ModulatedConv2d, StyleGenerator, layer_resolutions
from genstudio.models.stylegan_d import ResidualDiscriminator
from genstudio.stylegan.model import StyleGanModel, crossover_layers


def _tiny(size: int = 16, width: int = 16) -> StyleGenerator:
    torch.manual_seed(0)
    return StyleGenerator(nz=32, w_dim=32, mapping_layers=2, width=width, nc=3, size=size).eval()


@pytest.mark.parametrize("size, num_ws", [(16, 6), (32, 8), (64, 10)])
def test_shapes_and_style_count(size, num_ws):
    G = StyleGenerator(nz=32, w_dim=32, mapping_layers=2, width=16, nc=3, size=size)
    D = ResidualDiscriminator(width=16, nc=3, size=size, mbstd=4)
    x = G(torch.randn(4, 32))
    assert x.shape == (4, 3, size, size)
    assert D(x).shape == (4,)
    assert G.num_ws == num_ws == len(layer_resolutions(size)) + 1
    img, feats = G.synthesis(G.broadcast(G.map(torch.randn(2, 32))), "none", features=True)
    assert [f.shape[-1] for f in feats] == layer_resolutions(size)


def test_parameter_counts_of_the_recipe_fit_the_bundle_budget():
    G = StyleGenerator(nz=128, w_dim=128, mapping_layers=4, width=64, nc=3, size=64)
    D = ResidualDiscriminator(width=64, nc=3, size=64, mbstd=4)
    n_g = sum(p.numel() for p in G.parameters())
    n_d = sum(p.numel() for p in D.parameters())
    assert n_g == 378_335 and n_d == 296_401  # float16 G: well under the 10 MB bundle limit
    assert n_g * 2 < 10e6


def test_demodulation_keeps_unit_output_variance():
    torch.manual_seed(0)
    conv = ModulatedConv2d(64, 64, 3, w_dim=32)
    with torch.no_grad():
        conv.affine.weight.mul_(30)  # styles far from 1: without demodulation the variance would follow them
    x = torch.randn(8, 64, 16, 16)  # unit variance in
    y = conv(x, torch.randn(8, 32))[:, :, 1:-1, 1:-1]  # away from the zero padding
    assert y.var().item() == pytest.approx(1.0, abs=0.1)
    conv.demodulate = False
    assert conv(x, torch.randn(8, 32)).var().item() > 5  # the styles' scale shows through


def test_style_mixing_from_layer_zero_is_the_second_source():
    G = _tiny()
    model = StyleGanModel(G, {"kind": "stylegan"}, torch.device("cpu"))
    ws_a, ws_b = model.ws_of(torch.randn(3, 32)), model.ws_of(torch.randn(3, 32))
    mixed = model.mix(ws_a, ws_b, list(range(0, model.num_ws)))  # crossover at layer 0: every style from B
    assert torch.equal(model.synthesize(mixed), model.synthesize(ws_b))
    coarse = model.mix(ws_a, ws_b, crossover_layers(model.resolutions, "coarse"))
    assert not torch.equal(model.synthesize(coarse), model.synthesize(ws_b))


def test_crossover_bands_split_the_styles():
    res = layer_resolutions(64)
    bands = [crossover_layers(res, b) for b in ("coarse", "middle", "fine")]
    assert bands == [[0, 1, 2], [3, 4, 5, 6], [7, 8, 9]]
    assert sorted(sum(bands, [])) == list(range(len(res) + 1))
    with pytest.raises(ValueError, match="crossover"):
        crossover_layers(res, "medium")


def test_truncation_psi_zero_is_the_mean_w_image_for_any_z():
    G = _tiny()
    with torch.no_grad():
        G.w_avg.copy_(torch.randn(32))
    model = StyleGanModel(G, {"kind": "stylegan"}, torch.device("cpu"))
    images = model.synthesize(model.ws_of(torch.randn(5, 32), psi=0.0))
    mean_image = model.synthesize(G.broadcast(G.w_avg[None]))
    assert torch.allclose(images, mean_image.expand_as(images), atol=1e-4)  # batched vs single conv rounding
    assert not torch.allclose(model.synthesize(model.ws_of(torch.randn(2, 32))), mean_image.expand(2, -1, -1, -1), atol=1e-2)


def test_a_tiny_model_trains_a_few_steps_without_nan_and_round_trips(tmp_path):
    from genstudio.checkpoint import save_checkpoint
    from genstudio.data import load_dataset
    from genstudio.loading import load_model
    from genstudio.recipes import recipe_config
    from genstudio.stylegan.trainer import R1_EVERY, StyleGanTrainer

    config = recipe_config("stylegan", "faces", size=16, width=16, latent_dim=16, batch=8, n_preview=4,
                           device="cpu")
    trainer = StyleGanTrainer(config, load_dataset("faces", size=16, num_images=32), torch.device("cpu"))
    for step in range(R1_EVERY + 1):  # steps 0 and 16 take the lazy R1 penalty
        trainer.step = step
        metrics = trainer.train_step(trainer.next_batch())
        assert all(torch.isfinite(v) for v in metrics.values()), (step, metrics)
    assert trainer.preview().data.shape == (4, 3, 16, 16)
    path = save_checkpoint(tmp_path / "last.safetensors", *trainer.state())
    model = load_model(path, "cpu")
    assert model.kind == "stylegan" and model.latent_dim == 16
    assert torch.equal(model.w_avg, trainer.G_ema.w_avg)  # the mean w went into the file
    assert model.w_avg.abs().sum() > 0
    a = model.sample(3, seed=5)
    assert a.shape == (3, 3, 16, 16) and torch.isfinite(a).all()
    assert torch.equal(a, load_model(path, "cpu").sample(3, seed=5))  # z and noise fixed: same images
    assert trainer.G.skips_from == model.G.skips_from == 16 and len(model.G.to_rgbs) == 1  # the recipe's, at 16 px


@pytest.mark.parametrize("skips_from, n_rgb", [(4, 4), (8, 3), (16, 2), (32, 1)])
def test_toRGB_skips_start_where_asked_and_the_coarse_styles_paint_only_through_them(skips_from, n_rgb):
    """Without a toRGB at 4², the style row that fed it (row 1) reaches the picture only through the
    8² conv it also feeds: zeroing that conv's modulation removes row 1's effect entirely."""
    torch.manual_seed(0)
    G = StyleGenerator(nz=16, w_dim=16, mapping_layers=2, width=16, nc=3, size=32, skips_from=skips_from).eval()
    assert len(G.to_rgbs) == n_rgb and G.num_ws == 8
    ws = G.broadcast(G.map(torch.randn(2, 16)))
    other = ws.clone()
    other[:, 1] = G.map(torch.randn(2, 16))  # a different style in row 1 only
    with torch.no_grad():
        G.convs[1].conv.affine.weight.zero_()  # the 8² conv ignores its style (row 1)
        same = torch.equal(G.synthesis(ws, "none"), G.synthesis(other, "none"))
    assert same == (skips_from > 4)  # only the 4² toRGB still reads row 1


def test_runs_and_checkpoints_from_before_the_option_keep_StyleGAN2s_skips(tmp_path):
    """A saved config without ``skips_from`` (a run folder from before) builds StyleGAN2's G again, so it
    resumes; a file whose G args do not name it loads that way too."""
    from genstudio.checkpoint import save_checkpoint
    from genstudio.config import RunConfig
    from genstudio.data import load_dataset
    from genstudio.loading import load_model
    from genstudio.stylegan.trainer import StyleGanTrainer

    config = RunConfig(kind="stylegan", data="faces", size=16, width=16, latent_dim=16, batch=4, device="cpu",
                       steps=1).validate()
    trainer = StyleGanTrainer(config, load_dataset("faces", size=16, num_images=8), torch.device("cpu"))
    assert trainer.G.skips_from == 4 and len(trainer.G.to_rgbs) == 3
    tensors, meta = trainer.state()
    del meta["models"]["G"]["args"]["skips_from"]
    model = load_model(save_checkpoint(tmp_path / "old.safetensors", tensors, meta), "cpu")
    assert model.G.skips_from == 4 and torch.isfinite(model.sample(2, seed=0)).all()


def test_the_faces_score_of_real_faces_is_near_real_vs_real():
    from genstudio.data import load_dataset
    from genstudio.faces_score import faces_score

    real = load_dataset("faces", size=32, num_images=120, seed=3).tensor
    score = faces_score(real)
    assert score.n == 120 and 0.6 < score.ratio < 1.6  # another real set scores as a real set does
    noise = faces_score(torch.rand(120, 3, 32, 32) * 2 - 1)
    assert noise.ratio > 3  # noise is far from faces


def test_mixing_agreement_reads_every_factor():
    from genstudio.stylegan.mixing_score import FACTORS, mixing_agreement

    model = StyleGanModel(_tiny(), {"kind": "stylegan"}, torch.device("cpu"))
    result = mixing_agreement(model, "coarse", n=12, seed=0)
    assert set(result.rates) == set(FACTORS) and "coarse seed 0" in result.line()
    for as_a, as_b, k in result.rates.values():
        assert k == 0 or (0 <= as_a <= 1 and 0 <= as_b <= 1 and as_a + as_b <= 1)


@pytest.mark.parametrize("size", [32, 64])
def test_the_background_read_from_the_corners_is_the_faces_known_background(size):
    from genstudio.data import load_dataset
    from genstudio.stylegan.mixing_score import background_colour

    data = load_dataset("faces", size=size, num_images=200, seed=7)
    truth = torch.as_tensor(data.info["factors"]["background"]).float() / 127.5 - 1  # (200, 3) in [-1, 1]
    assert torch.allclose(background_colour(data.tensor), truth, atol=1e-5)


def test_stylegan_options_are_checked_in_one_line():
    from genstudio.config import ConfigError
    from genstudio.recipes import recipe_config
    from genstudio.stylegan.trainer import defining

    with pytest.raises(ConfigError, match="mbstd"):
        defining(recipe_config("stylegan", "faces", extra={"mbstd": 3}))  # does not divide 16
    with pytest.raises(ConfigError, match="style_mixing"):
        defining(recipe_config("stylegan", "faces", extra={"style_mixing": 2}))
    with pytest.raises(ConfigError, match="skips start.*4, 8, 16, 32 px, not 64"):
        defining(recipe_config("stylegan", "faces", size=32, extra={"skips_from": 64}))


def test_r1_gamma_defaults_to_the_measured_one_for_the_size_and_the_flag_wins():
    from genstudio.data import load_dataset
    from genstudio.recipes import recipe_config
    from genstudio.stylegan.trainer import StyleGanTrainer

    data = load_dataset("faces", size=16, num_images=8)
    for size, gamma in ((16, 0.5), (32, 0.5), (64, 1.0)):
        config = recipe_config("stylegan", "faces", size=size, width=16, latent_dim=16, batch=4, device="cpu")
        assert StyleGanTrainer(config, data, torch.device("cpu")).r1 == gamma
    given = recipe_config("stylegan", "faces", size=16, width=16, latent_dim=16, batch=4, device="cpu",
                          extra={"r1": 0.05})
    assert StyleGanTrainer(given, data, torch.device("cpu")).r1 == 0.05
