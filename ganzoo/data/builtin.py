"""Bundled datasets: scikit-learn's 8x8 digits and two 2-D Gaussian mixtures.

* ``digits``: 1,797 images, 10 labels, scaled from [0, 16] to [-1, 1].
  Splits: a fixed permutation (seed 0); ``train`` = first 80 % (1,437),
  ``test`` = the other 360, ``all`` = everything.
* ``ring8``: 8 Gaussians on a circle of radius 2, std 0.02 (VEEGAN).
  ``grid25``: 25 Gaussians on {-4, -2, 0, 2, 4}^2, std 0.05 (PacGAN).
  ``train`` = 100,000 points (numpy seed 0), ``test`` = 10,000 points
  (seed 1); every mode gets exactly the same number of points, in shuffled
  order. Labels are mode indices; see `mixture_spec`.
"""

import numpy as np
from sklearn.datasets import load_digits

from ganzoo.data.registry import Examples, register_source
from ganzoo.errors import check_choice

_MIXTURE_SIZES = {"train": (100_000, 0), "test": (10_000, 1)}  # split: (N, seed)


def mixture_spec(name):
    """`(centers [K, 2], std)` of the Gaussian mixture `ring8` or `grid25`."""
    check_choice("mixture dataset", name, ["grid25", "ring8"])
    if name == "ring8":
        angles = 2 * np.pi * np.arange(8) / 8
        return 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.02
    ticks = np.arange(-4.0, 5.0, 2.0)
    return np.array([(a, b) for a in ticks for b in ticks]), 0.05


# The quickstart's settings (`preset=auto`): the paper's Algorithm 1 (n_critic=5,
# Adam(1e-4, 0, 0.9)) needs about 3,000 steps for FID 10.4 on digits, more than
# a 2-core AVX2 CPU runs in the 2-minute default budget (FID 15.7 at its 1,200).
# One critic update per step at a 4x faster rate than the generator's, and the
# generator's weights averaged, reach about 3,000 steps in the budget and FID
# 7.2 (the probes are in docs/benchmarks/quickstart_presets.md).
DIGITS_PRESETS = {
    "wgan_gp": {"n_critic": 1, "learning_rate": 2e-4, "d_learning_rate": 8e-4,
                "beta_1": 0.0, "beta_2": 0.9, "ema": 0.999},
}


@register_source("digits", splits=("train", "test", "all"), bundled=True, presets=DIGITS_PRESETS)
def digits(request):
    """scikit-learn's 8x8 digits scaled from [0, 16] to [-1, 1]."""
    data = load_digits()
    x = (data.images.astype(np.float32) / 8.0 - 1.0)[..., None]
    order = np.random.RandomState(0).permutation(len(x))
    n_train = int(0.8 * len(x))
    order = {"train": order[:n_train], "test": order[n_train:], "all": order}[request.split]
    names = tuple(str(i) for i in range(10))
    return Examples(x[order], data.target[order], class_names=names)


def _mixture(request):
    """Points of a 2-D Gaussian mixture, equally many per mode, shuffled."""
    centers, std = mixture_spec(request.name)
    n, seed = _MIXTURE_SIZES[request.split]
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % len(centers))
    x = (centers[y] + std * rng.standard_normal((n, 2))).astype(np.float32)
    return Examples(x, y, class_names=tuple(f"mode{i}" for i in range(len(centers))))


for _name in ("grid25", "ring8"):
    register_source(_name, splits=tuple(_MIXTURE_SIZES), bundled=True)(_mixture)
