"""ganzoo: a Keras 3 model zoo of generative adversarial networks."""

import re

from setuptools import find_packages, setup

with open("ganzoo/__init__.py") as f:
    version = re.search(r'__version__ = "([^"]+)"', f.read()).group(1)
# A short description: the README links to pages of the repository.
long_description = (
    "A Keras 3 (TensorFlow backend) model zoo of generative adversarial networks: "
    "vanilla GAN, DCGAN, WGAN-GP, conditional GAN, SNGAN, R3GAN and PacGAN, each a "
    "keras.Model that model.fit trains, with techniques that compose with any of them, "
    "metrics to compare them on the same data, pretrained generators that load offline, "
    "and a command line that trains within a time budget and resumes after a crash."
)

setup(
    name="ganzoo",
    version=version,
    description="A Keras 3 model zoo of GANs: train, export, evaluate and compare.",
    long_description=long_description,
    long_description_content_type="text/plain",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["ganzoo", "ganzoo.*"]),
    include_package_data=True,
    package_data={
        "ganzoo": [
            "classifiers/*.keras",
            "pretrained/*/*",
            "pretrained/*/*/*",
            "pretrained/*/*/*/*",
        ]
    },
    # `ganzoo train|sample|evaluate|export|compare`: the same as `python -m ganzoo.<command>`.
    entry_points={"console_scripts": ["ganzoo=ganzoo.__main__:main"]},
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.3",
        "tensorflow-datasets>=4.9",
        # tfds 4.9.x imports it without declaring it.
        "importlib_resources",
        "absl-py",
        "numpy",
        # The embedded `digits` dataset ships inside scikit-learn.
        "scikit-learn",
        # Matrix square roots and k-NN for the metrics; already needed by scikit-learn.
        "scipy",
        # compare's figures: curves with seed bands and side-by-side sample grids.
        "matplotlib",
    ],
    extras_require={
        # import-linter checks the layer contract in setup.cfg (tests/test_layers.py).
        # pytest-xdist runs the suite on two workers (setup.cfg addopts).
        "test": ["pytest>=7", "pytest-xdist>=3", "hypothesis>=6", "ruff", "import-linter>=2.1"],
        # tools/benchmark.py --peer=torch: a PyTorch peer of the same networks, for speed only.
        "bench": ["torch"],
    },
)
