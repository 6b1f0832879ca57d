"""Sample from a generator: `ganzoo sample` (or `python -m ganzoo.sample`).

    ganzoo sample --workdir=runs/wgan_gp-digits --out=g.png
    python -m ganzoo.sample --pretrained=wgan_gp-digits --num_samples=64 --out=grid.png
    python -m ganzoo.sample --model_path=exported/cgan-digits --label=7 --out=sevens.png
    python -m ganzoo.sample --pretrained=cgan-fashion_mnist --label=Sneaker --out=s.png
    python -m ganzoo.sample --pretrained=dcgan-digits --interpolate --out=strip.png
    python -m ganzoo.sample --model_path=https://host/run.tar.gz --sha256=HEX --npz=x.npz

The generator is a training run (`--workdir`: its newest checkpoint that loads),
an export (`--model_path`) or a shipped one (`--pretrained`). A grid PNG goes to
`--out` (2-D data: a scatter plot over the dataset's points). `--label` is a
class name or number.
Conditional models without `--label` get one row per class, and the columns
share their latents. `--interpolate` writes `--rows` rows of `--frames` frames,
each row a spherical interpolation (slerp, which keeps the latents at the norm
typical of a Gaussian) between two random latents. `--npz` also saves the raw
samples as `x` (the data's scale: images in [-1, 1]), the latents as `z` and,
for conditional models, the labels as `y`, so `npz:PATH` reads them back as a
dataset. `--latents=FILE` generates from given latents (a .npy array, or the
`z` of an .npz written by `--npz`). The same `--seed` gives the same output.
"""

import sys

import numpy as np
from absl import flags

from ganzoo import checks, cli, data, hub, images
from ganzoo.data import pixels
from ganzoo.errors import GanzooError, first_line, os_reason

MAX_NUM = 10_000  # samples one command draws: --num_samples, --rows x --frames, latents


def grid_samples(generator, num=64, seed=0, label=None):
    """`(x, labels, z, columns)` for a sample grid.

    Conditional models with `label=None` get one row per class (`num //
    num_classes` columns, at least 1) and each column shares one latent.
    """
    if generator.conditional and label is None:
        per_class = max(1, num // generator.num_classes)
        columns_z = generator.latents(per_class, seed)
        z = np.tile(columns_z, (generator.num_classes, 1))
        labels = np.repeat(np.arange(generator.num_classes), per_class).astype("int32")
        return generator.generate(z, labels), labels, z, per_class
    z = generator.latents(num, seed)
    labels = generator.check_labels(label, num)
    return generator.generate(z, labels), labels, z, None


def slerp(a, b, t):
    """Spherical interpolation between the rows of `a` and `b` at fractions `t`.

    Returns `(len(a), len(t), dim)`; falls back to linear interpolation for
    (nearly) parallel vectors.
    """
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    t = np.asarray(t, "float64")[None, :, None]
    unit_a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    unit_b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    omega = np.arccos(np.clip(np.sum(unit_a * unit_b, axis=-1), -1.0, 1.0))[:, None, None]
    sin = np.sin(omega)
    safe = np.where(sin < 1e-6, 1.0, sin)
    spherical = (np.sin((1 - t) * omega) * a[:, None] + np.sin(t * omega) * b[:, None]) / safe
    linear = (1 - t) * a[:, None] + t * b[:, None]
    return np.where(sin < 1e-6, linear, spherical).astype("float32")


def interpolation(generator, rows=8, frames=10, seed=0, label=None):
    """`(x, labels, z, columns)` for `rows` slerp strips of `frames` frames each.

    Row i interpolates between two random latents; conditional models use
    `label` for every row, or class `i % num_classes` for row i.
    """
    rows, frames = _strips(rows, frames)
    ends = generator.latents(2 * rows, seed)
    z = slerp(ends[:rows], ends[rows:], np.linspace(0.0, 1.0, frames)).reshape(rows * frames, -1)
    labels = None
    if generator.conditional:
        per_row = np.arange(rows) % generator.num_classes if label is None else np.full(rows, label)
        labels = generator.check_labels(np.repeat(per_row, frames), rows * frames)
    else:
        generator.check_labels(label, rows * frames)
    return generator.generate(z, labels), labels, z, frames


def from_latents(generator, path, label=None):
    """`(x, labels, z, columns)` for the latents saved in `path` (.npy, or .npz `z`)."""
    try:
        stored = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise GanzooError(f"cannot read latents from {path}: {first_line(e)}") from None
    y = None
    if isinstance(stored, np.lib.npyio.NpzFile):
        with stored:
            if "z" not in stored.files:
                raise GanzooError(f"{path} has no 'z' array; accepted: a .npy of latents or an "
                                  ".npz written by --npz")
            z = stored["z"]
            y = stored["y"] if "y" in stored.files else None
    else:
        z = stored
    z = generator.check_latents(z, source=path)
    if not 1 <= len(z) <= MAX_NUM:
        raise GanzooError(f"{path} holds {len(z)} latents; accepted: 1 to {MAX_NUM} (MAX_NUM)")
    labels = label if label is not None else (y if generator.conditional else None)
    labels = generator.check_labels(labels, len(z))
    check_fits(generator, len(z))
    return generator.generate(z, labels), labels, z, None


def _count(name, value, minimum, maximum=MAX_NUM):
    """`value` as an int in [minimum, maximum], or a one-line error."""
    if isinstance(value, np.integer):
        value = int(value)
    return checks.int_from_to(minimum, maximum).check(name, value)


def _strips(rows, frames):
    rows, frames = _count("rows", rows, 1), _count("frames", frames, 2)
    if rows * frames > MAX_NUM:
        raise GanzooError(f"bad rows={rows} x frames={frames}: {rows * frames} samples; accepted: "
                          f"at most {MAX_NUM} (MAX_NUM) in all")
    return rows, frames


def check_fits(generator, num):
    """Refuse to generate `num` samples whose float32 values alone would not fit
    in the memory available."""
    needed = num * int(np.prod(generator.data_shape)) * 4 * 2  # the samples and their picture
    available = pixels.available_memory()
    if available is not None and needed > available:
        raise GanzooError(
            f"{num} samples of shape {generator.data_shape} need about {needed / 2**30:.1f} GiB, "
            f"more than the {available / 2**30:.1f} GiB of memory available; accepted: fewer "
            "samples (--num_samples, --rows x --frames, or fewer latents)"
        )


def reference_points(generator, max_examples=2000):
    """Real points to draw behind generated ones, when the dataset is known."""
    dataset = generator.metadata.get("dataset")
    if not images.draws_points(generator.data_shape) or not dataset:
        return None
    data_dir = (generator.metadata.get("train_config") or {}).get("data_dir")
    try:
        return data.load_numpy(dataset, "test", data_dir=data_dir, max_examples=max_examples)[0]
    except (GanzooError, OSError):
        return None


def write_png(generator, samples, path, columns=None):
    """A grid (images) or scatter plot (2-D points) of `samples` at `path`."""
    samples = np.asarray(samples)
    if samples.ndim == 2 and images.draws_points(samples.shape[1:]):
        return images.save_samples(samples, path, reference=reference_points(generator))
    try:
        return images.save_samples(samples, path, columns)
    except ValueError as e:
        raise GanzooError(f"cannot draw {generator.name!r} samples: {e}") from None
    except OSError as e:
        raise GanzooError(f"cannot write {path}: {os_reason(e)}") from None


def save_npz(path, x, z, labels=None):
    arrays = {"x": np.asarray(x), "z": np.asarray(z)}
    if labels is not None:
        arrays["y"] = np.asarray(labels, "int32")
    try:
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    except OSError as e:
        raise GanzooError(f"cannot write {path}: {os_reason(e)}") from None
    return path


def make_flags():
    fv = cli.new_flags()
    flags.DEFINE_string("workdir", None, "A training run directory: its newest checkpoint that "
                        "loads, and the dataset and data directory in its config.json.",
                        flag_values=fv)
    flags.DEFINE_string("model_path", None, "An exported generator: a directory from "
                        "`ganzoo export`, or the URL of a .zip/.tar.gz of one (with --sha256).",
                        flag_values=fv)
    flags.DEFINE_string("pretrained", None, "A shipped pretrained generator, e.g. "
                        "wgan_gp-digits.", flag_values=fv)
    flags.DEFINE_string("sha256", None, "SHA-256 of the archive at a --model_path URL.",
                        flag_values=fv)
    flags.DEFINE_string("cache_dir", None, "Where --model_path URLs are downloaded to "
                        "(default ~/.keras).", flag_values=fv)
    flags.DEFINE_integer("num_samples", 64, "Number of generated samples to draw (not with "
                         "--interpolate).", flag_values=fv)
    cli.define_deprecated(fv, "num", "num_samples")
    flags.DEFINE_string("out", "samples.png", "Output: the PNG file to write (a grid of images, "
                        "or a scatter plot of 2-D points).", flag_values=fv)
    flags.DEFINE_string("label", None, "Class of every sample (conditional models): a class "
                        "name such as Sneaker, or a number.", flag_values=fv)
    flags.DEFINE_bool("interpolate", False, "Write latent interpolation strips instead.",
                      flag_values=fv)
    flags.DEFINE_integer("rows", 8, "Interpolation strips (with --interpolate).", flag_values=fv)
    flags.DEFINE_integer("frames", 10, "Frames per interpolation strip.", flag_values=fv)
    flags.DEFINE_string("latents", None, "Generate from these latents: a .npy (N, latent_dim) "
                        "or an .npz with 'z'.", flag_values=fv)
    flags.DEFINE_string("npz", None, "Also save the raw samples (x), latents (z) and labels "
                        "(y) here.", flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Seed of the randomness: the latents drawn.", flag_values=fv)
    flags.DEFINE_string("precision", "float32", "float32, mixed_bfloat16 or mixed_float16: the "
                        "dtype policy the generator computes in.", flag_values=fv)
    return fv


# Flags that one of the other would silently ignore: (a, b, why, accepted).
CONFLICTS = (
    ("latents", "interpolate", "given latents are drawn as they are, not interpolated",
     "one of them"),
    ("latents", "num_samples", "the latents decide how many samples there are", "one of them"),
    ("latents", "seed", "the seed only draws latents, and these are given", "one of them"),
    ("interpolate", "num_samples", "interpolation draws --rows x --frames samples",
     "--num_samples for a grid, or --interpolate with --rows and --frames"),
    ("pretrained", "sha256", "--sha256 checks what a --model_path URL downloads",
     "--sha256 with a --model_path URL"),
    ("pretrained", "cache_dir", "a shipped generator is not downloaded",
     "--cache_dir with a --model_path URL"),
    ("workdir", "sha256", "--sha256 checks what a --model_path URL downloads",
     "--sha256 with a --model_path URL"),
    ("workdir", "cache_dir", "a training run is read where it is",
     "--cache_dir with a --model_path URL"),
)


def check_flags(fv):
    """Refuse flags given together where one would be ignored, before any work."""
    cli.refuse_together(fv, CONFLICTS)
    for name in ("rows", "frames"):
        if cli.given(fv, name) and not fv["interpolate"].value:
            raise GanzooError(f"--{name} without --interpolate: it sizes interpolation strips "
                              f"only; accepted: --{name} with --interpolate (--num_samples for a grid)")


SOURCES = ("workdir", "model_path", "pretrained")


def open_generator(model_path=None, pretrained=None, sha256=None, cache_dir=None, workdir=None):
    """The generator named by exactly one of `workdir`, `model_path` and `pretrained`."""
    given = [f"--{name}" for name, value in zip(SOURCES, (workdir, model_path, pretrained))
             if value]
    if len(given) != 1:
        shipped = ', '.join(hub.list_pretrained()) or 'none installed'
        one = f"exactly one of --workdir=RUN, --model_path=PATH and --pretrained=NAME " \
              f"(pretrained: {shipped})"
        if given:
            raise GanzooError(f"{' and '.join(given)} given together: each names the generator; "
                              f"accepted: {one}")
        raise GanzooError(f"pass {one}")
    if workdir or pretrained:
        for name, value, why in (("sha256", sha256, "it checks what a --model_path URL downloads"),
                                 ("cache_dir", cache_dir, "only --model_path URLs are downloaded")):
            if value:
                raise GanzooError(f"{given[0]} and --{name} given together: {why}; accepted: "
                                  f"--{name} with a --model_path URL")
        return hub.load_run(workdir) if workdir else hub.load_path(hub.pretrained_path(pretrained))
    if hub.is_url(model_path):
        return hub.load_path(hub.download(model_path, sha256, cache_dir))
    for name, value, why in (("sha256", sha256, "it checks what a URL downloads"),
                             ("cache_dir", cache_dir, "a local export is read where it is")):
        if value:
            raise GanzooError(f"--{name} and a local --model_path given together: {why}; "
                              f"accepted: --{name} with a --model_path URL")
    return hub.load_path(model_path)


def _run(fv):
    # Flags and sizes first: a conflict or a bad count is refused before any TensorFlow work.
    check_flags(fv)
    if fv["interpolate"].value and not fv["latents"].value:
        _strips(fv["rows"].value, fv["frames"].value)
    elif not fv["latents"].value:
        _count("num_samples", fv["num_samples"].value, 1)
    generator = open_generator(fv["model_path"].value, fv["pretrained"].value, fv["sha256"].value,
                               fv["cache_dir"].value, fv["workdir"].value
                               ).at_precision(fv["precision"].value)
    label, seed = fv["label"].value, fv["seed"].value
    if label is not None:
        label = generator.label_index(label)
    if fv["latents"].value:
        x, labels, z, columns = from_latents(generator, fv["latents"].value, label)
    elif fv["interpolate"].value:
        check_fits(generator, fv["rows"].value * fv["frames"].value)
        x, labels, z, columns = interpolation(generator, fv["rows"].value, fv["frames"].value,
                                              seed, label)
    else:
        check_fits(generator, fv["num_samples"].value)
        x, labels, z, columns = grid_samples(generator, fv["num_samples"].value, seed, label)
    if fv["npz"].value:
        save_npz(fv["npz"].value, x, z, labels)
    out = write_png(generator, x, fv["out"].value, columns)
    extra = f" and {fv['npz'].value}" if fv["npz"].value else ""
    print(f"wrote {len(x)} samples of {generator.name} to {out}{extra}")


main = cli.command(make_flags, _run, "python -m ganzoo.sample")


if __name__ == "__main__":
    sys.exit(main())
