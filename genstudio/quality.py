"""The digits quality score: Fréchet distance in the features of a small digits classifier.

The FID recipe of Heusel et al. (2017), with Inception-v3 replaced by a small CNN that GenStudio
trains itself on scikit-learn's real 8x8 digits (no network, no downloaded weights):

1. every image, whatever size the model makes, becomes gray and is resized (antialiased bilinear)
   to the classifier's 16x16 input;
2. the classifier's penultimate layer (64 ReLU features) is read for each image;
3. a Gaussian is fitted to the generated features and to the features of ``n`` real digits, and
   :func:`genstudio.metrics.frechet_distance` compares the two.

A Fréchet distance means little on its own: it shrinks with more samples and depends on the feature
network. So every score comes with the *real-versus-real* figure: a second, disjoint set of ``n``
real digits against the same reference set. A generator is as good as the data can tell when its
score is near that figure.

The classifier is trained once, deterministically, by ``python -m genstudio.quality
--train-classifier``; its weights ship as ``resources/digits_classifier.safetensors``
(the package ``genstudio.resources``).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genstudio.metrics import frechet_distance
from genstudio.reader_training import fit, load_shipped

CLASSIFIER_FILE = "digits_classifier.safetensors"
INPUT_SIZE = 16  # the classifier's input side: the 8x8 digits upsampled once, as the data sets do
FEATURE_DIM = 64  # penultimate width: small enough that ~500 samples fit a full covariance well
SEED = 0  # fixes the held-out split, the initialisation and the batches of the classifier
NUM_HELD_OUT = 300  # digits never seen in training, for the accuracy check
NUM_DIGITS = 1797  # the size of sklearn's digits set
MAX_N = NUM_DIGITS // 2  # two disjoint real sets of n each must fit: n ≤ 898
_LUMA = (0.299, 0.587, 0.114)


class DigitsNet(nn.Module):
    """A small CNN: 16² (32 ch) → 8² (64) → 4² → 64 features → 10 logits."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),  # (B, 32, 16, 16)
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 8, 8)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 64, 4, 4)
        )
        self.hidden = nn.Linear(64 * 4 * 4, FEATURE_DIM)
        self.head = nn.Linear(FEATURE_DIM, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 16, 16) in [-1, 1] → (B, 64) penultimate ReLU features."""
        return F.relu(self.hidden(self.conv(x).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, 10) logits


# ---------------------------------------------------------------------------- images → features
def prepare(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Any (N, C, H, W) images in [-1, 1] (C = 1 or 3) → (N, 1, 16, 16) float32 classifier input.

    Colour becomes gray by BT.601 luminance; the side is resized with antialiased bilinear
    interpolation (the resize the digits data set itself uses); values are clipped to [-1, 1].
    """
    x = torch.as_tensor(np.asarray(images, dtype=np.float32) if isinstance(images, np.ndarray) else images)
    x = x.detach().to("cpu", torch.float32)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"images of shape (N, 1 or 3, H, W) needed, got {tuple(x.shape)}")
    if x.shape[1] == 3:
        x = (x * torch.tensor(_LUMA).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)  # (N, 1, H, W)
    x = torch.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0).clamp(-1.0, 1.0)
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True,
                          align_corners=False).clamp_(-1.0, 1.0)  # (N, 1, 16, 16)
    return x.contiguous()


@functools.lru_cache(maxsize=1)
def load_classifier() -> DigitsNet:
    """The shipped classifier (weights from ``genstudio.resources``), in eval mode on the CPU."""
    return load_shipped(DigitsNet(), CLASSIFIER_FILE, "python -m genstudio.quality --train-classifier")


@torch.inference_mode()
def digit_features(images: torch.Tensor | np.ndarray, batch: int = 512) -> np.ndarray:
    """(N, C, H, W) images in [-1, 1] → (N, 64) float64 classifier features."""
    net = load_classifier()
    x = prepare(images)
    return np.concatenate([net.features(x[i:i + batch]).double().numpy() for i in range(0, len(x), batch)]
                          or [np.zeros((0, FEATURE_DIM))])


# ---------------------------------------------------------------------------- real digits and scores
def real_sets(n: int, size: int = INPUT_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint sets of ``n`` real digits at ``size`` px: (reference, other), each (n, 1, size, size).

    The split is a fixed permutation (seed 0), so the reference set is the same for every score.
    """
    from genstudio.data import load_dataset

    if not 2 <= n <= MAX_N:
        raise ValueError(f"n must lie in [2, {MAX_N}] (two disjoint sets of real digits), not {n}")
    real = load_dataset("digits", size=size).tensor  # (1797, 1, size, size)
    order = torch.from_numpy(np.random.default_rng(SEED).permutation(len(real)))
    return real[order[:n]], real[order[n:2 * n]]


@dataclass(frozen=True)
class DigitsScore:
    """A digits Fréchet distance, read against the same figure for real digits."""

    fd: float  # generated images against the reference set of n real digits
    real_vs_real: float  # n other real digits against the same reference set
    n: int

    @property
    def ratio(self) -> float:
        """fd / real_vs_real: 1 is as close to the data as a second real sample; lower is not possible."""
        return self.fd / self.real_vs_real if self.real_vs_real > 0 else float("inf")

    def describe(self) -> str:
        return (f"digits Fréchet distance {self.fd:.2f} (n={self.n}); real vs real {self.real_vs_real:.2f}; "
                f"ratio {self.ratio:.2f}")


def digits_score(images: torch.Tensor | np.ndarray) -> DigitsScore:
    """Score ``images`` (n, C, H, W) in [-1, 1] against n real digits, with the real-vs-real figure.

    The real digits are drawn at the generated images' own size and go through the same
    :func:`prepare`, so both figures see one pipeline.
    """
    images = torch.as_tensor(images)
    n, size = int(images.shape[0]), int(images.shape[-1])
    reference, other = real_sets(n, size)
    f_ref = digit_features(reference)
    return DigitsScore(fd=frechet_distance(digit_features(images), f_ref),
                       real_vs_real=frechet_distance(digit_features(other), f_ref), n=n)


def score_checkpoint(path: str | Path, n: int = 500, *, sampler: str = "ddim", steps: int = 100,
                     seed: int = 0, device: str = "auto",
                     progress: Callable[[int, int], None] | None = None) -> DigitsScore:
    """Draw ``n`` samples (seed ``seed``) from an image checkpoint trained on digits and score them.

    ``sampler`` (a registered sampler's name: DDPM takes all T steps) and ``steps`` (DDIM's, with
    η = 0) are for a diffusion model; a GAN samples in one pass.
    """
    model, samples = checkpoint_samples(path, n, sampler=sampler, steps=steps, seed=seed, device=device,
                                        progress=progress)
    if model.meta.get("data") != "digits":
        raise ValueError(f"{Path(path).name} was trained on {model.meta.get('data')!r}; "
                         "the digits score is for models trained on digits")
    return digits_score(samples)


def checkpoint_samples(path: str | Path, n: int = 500, *, sampler: str = "ddim", steps: int = 100,
                       seed: int = 0, device: str = "auto",
                       progress: Callable[[int, int], None] | None = None) -> tuple[Any, torch.Tensor]:
    """(the model, ``n`` of its samples (n, C, H, W), as sampled) of an image checkpoint: what
    ``genstudio score`` scores (the digits Fréchet distance, the share of copies)."""
    from genstudio.loading import load_model

    if not 2 <= n <= MAX_N:
        raise ValueError(f"--n must lie in [2, {MAX_N}] (two disjoint sets of real digits), not {n}")
    model = load_model(path, device)
    if model.is_points:
        raise ValueError(f"{Path(path).name} was trained on {model.meta.get('data')!r}; "
                         "the digits score is for models trained on digits, the share of copies for image models")
    from genstudio.families import get_family

    if not get_family(model.kind).uses_samplers:  # one pass (a GAN)
        samples = model.sample(n, seed=seed)
    else:
        from genstudio.sampling import SampleSpec, sample

        spec = SampleSpec(n, seed, sampler, steps, record=False)
        samples = torch.from_numpy(sample(model, spec, progress=progress).final)
    return model, samples


# ---------------------------------------------------------------------------- training the classifier
def held_out_split(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, held-out indices) into the 1,797 digits; 300 are held out."""
    order = np.random.default_rng(seed + 1).permutation(NUM_DIGITS)
    return np.sort(order[NUM_HELD_OUT:]), np.sort(order[:NUM_HELD_OUT])


@torch.inference_mode()
def accuracy(net: DigitsNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of (N, C, H, W) ``images`` classified as ``labels`` (N,)."""
    return float((net(prepare(images)).argmax(1) == labels).double().mean())


def train_classifier(seed: int = SEED, epochs: int = 30, batch: int = 64, lr: float = 1e-3,
                     log: Callable[[str], None] = print) -> tuple[DigitsNet, float]:
    """Train :class:`DigitsNet` on the training split, deterministically; returns (net, held-out accuracy).

    Augmentation: shifts of up to 1 px (at 16 px) and a little pixel noise, so features do not hinge
    on exact stroke placement or perfectly clean backgrounds.
    """
    from genstudio.data import load_dataset

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    data = load_dataset("digits", size=INPUT_SIZE)
    train_idx, test_idx = held_out_split(seed)
    x, y = data.tensor[train_idx], data.labels[train_idx]  # (N, 1, 16, 16), (N,)
    net = DigitsNet()
    padded = F.pad(x, (1, 1, 1, 1), value=-1.0)  # (N, 1, 18, 18)

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        dx, dy = torch.randint(0, 3, (2,), generator=gen).tolist()
        xb = padded[idx, :, dy:dy + INPUT_SIZE, dx:dx + INPUT_SIZE]  # (b, 1, 16, 16), shifted
        xb = (xb + 0.05 * torch.randn(xb.shape, generator=gen)).clamp(-1.0, 1.0)
        return F.cross_entropy(net(xb), y[idx])

    def after_epoch(epoch: int, loss: float) -> None:
        if epoch % 10 == 0:
            net.eval()
            log(f"epoch {epoch}: loss {loss:.4f}, held-out accuracy "
                f"{accuracy(net, data.tensor[test_idx], data.labels[test_idx]):.4f}")

    fit(net, len(x), batch_loss, epochs=epochs, batch=batch, lr=lr, gen=gen, after_epoch=after_epoch)
    return net, accuracy(net, data.tensor[test_idx], data.labels[test_idx])


def save_classifier(net: DigitsNet, path: Path, meta: dict[str, str]) -> None:
    """Write the weights as safetensors (atomically), facts about them in the header."""
    from safetensors.torch import save

    from genstudio.checkpoint import atomic_write_bytes

    tensors = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    atomic_write_bytes(path, save(tensors, metadata=meta))


def main(argv: list[str] | None = None) -> int:
    """``python -m genstudio.quality --train-classifier [--out FILE]``."""
    p = argparse.ArgumentParser(prog="python -m genstudio.quality", description=__doc__.splitlines()[0])
    p.add_argument("--train-classifier", action="store_true", help="train the digits classifier and save it")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "resources" / CLASSIFIER_FILE)
    args = p.parse_args(argv)
    if not args.train_classifier:
        p.print_help()
        return 2
    torch.set_num_threads(1)  # bit-for-bit repeatable, and polite on a shared machine
    start = time.time()
    net, acc = train_classifier()
    meta = {"genstudio": "digits_classifier", "input_size": str(INPUT_SIZE), "feature_dim": str(FEATURE_DIM),
            "seed": str(SEED), "held_out": str(NUM_HELD_OUT), "held_out_accuracy": f"{acc:.4f}",
            "made_by": "python -m genstudio.quality --train-classifier", "torch": torch.__version__}
    save_classifier(net, args.out, meta)
    print(json.dumps({"out": str(args.out), "held_out_accuracy": acc, "seconds": round(time.time() - start, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
