"""Tests for ganzoo.data: every source, the tf.data pipeline and the errors."""

import gzip
import io
import logging
import os
import pickle
import pickletools
import tarfile
import time

import numpy as np
import pytest
import tensorflow as tf

from ganzoo import data
from ganzoo.data import originals, registry, tfds_source
from ganzoo.errors import GanzooError


@pytest.fixture(autouse=True)
def no_local_copies(tmp_path_factory, monkeypatch):
    """Hide the machine's Keras cache and /usr/share/datasets: tests see their own files.

    Returns `(keras datasets dir, system data dir)`, both empty.
    """
    keras_home = tmp_path_factory.mktemp("keras_home")
    system = tmp_path_factory.mktemp("system_datasets")
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setattr(originals, "SYSTEM_DATA_DIRS", (str(system),))
    return keras_home / "datasets", system


def _elements(ds):
    return list(ds.as_numpy_iterator())


def _write_png(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(np.asarray(pixels, np.uint8)).numpy())


def _ramp(height, width, channels, offset=0):
    """A uint8 image covering 0 and 255."""
    values = np.linspace(0, 255, height * width * channels).round().astype(np.uint8)
    return np.roll(values, offset).reshape(height, width, channels)


# --- built-in sources -----------------------------------------------------------


def test_list_datasets():
    assert data.list_datasets() == ["digits", "grid25", "ring8"]


def test_digits_values_and_labels():
    x, y, info = data.load_numpy("digits", "all")
    assert x.shape == (1797, 8, 8, 1) and x.dtype == np.float32
    assert x.min() == -1.0 and x.max() == 1.0
    assert y.dtype == np.int32 and set(np.unique(y)) == set(range(10))
    assert np.bincount(y).min() > 170
    assert info == data.DatasetInfo(
        name="digits",
        kind="image",
        shape=(8, 8, 1),
        num_classes=10,
        class_names=tuple("0123456789"),
        num_examples=1797,
        split="all",
    )


def test_digits_splits_partition_all():
    x_train, y_train, train = data.load_numpy("digits", "train")
    x_test, y_test, test = data.load_numpy("digits", "test")
    x_all, y_all, _ = data.load_numpy("digits", "all")
    assert (train.num_examples, test.num_examples) == (1437, 360)
    assert (len(x_train), len(x_test)) == (1437, 360)

    def rows(x, y):
        return sorted(xi.tobytes() + bytes([yi]) for xi, yi in zip(x, y))

    # train and test together are exactly "all": disjoint pieces of one permutation.
    assert sorted(rows(x_train, y_train) + rows(x_test, y_test)) == rows(x_all, y_all)
    # fixed permutation: the same order every call
    np.testing.assert_array_equal(data.load_numpy("digits", "train")[0], x_train)


@pytest.mark.parametrize("name,modes,radius", [("ring8", 8, 2.0), ("grid25", 25, None)])
def test_mixtures(name, modes, radius):
    centers, std = data.mixture_spec(name)
    assert centers.shape == (modes, 2)
    if radius:
        np.testing.assert_allclose(np.linalg.norm(centers, axis=1), radius)
        assert std == 0.02
    else:
        assert set(centers.ravel()) == {-4.0, -2.0, 0.0, 2.0, 4.0} and std == 0.05
    x, y, info = data.load_numpy(name, "train")
    assert x.shape == (100_000, 2) and x.dtype == np.float32 and y.dtype == np.int32
    assert info.kind == "points" and info.shape == (2,) and info.num_classes == modes
    assert info.class_names[0] == "mode0" and len(info.class_names) == modes
    assert np.all(np.linalg.norm(x - centers[y], axis=1) < 6 * std)
    assert np.all(np.bincount(y, minlength=modes) == 100_000 // modes)
    x_test, y_test, test = data.load_numpy(name, "test")
    assert test.num_examples == len(x_test) == 10_000
    assert np.all(np.bincount(y_test, minlength=modes) == 10_000 // modes)
    assert not np.array_equal(x_test, x[:10_000])
    np.testing.assert_array_equal(data.load_numpy(name, "test")[0], x_test)


def test_mixture_spec_unknown():
    with pytest.raises(GanzooError, match="ring8"):
        data.mixture_spec("digits")


# --- the source registry ---------------------------------------------------------


@pytest.fixture
def scratch_registry(monkeypatch):
    """Sources registered inside a test vanish after it."""
    monkeypatch.setattr(registry, "_SOURCES", dict(registry._SOURCES))


def test_registered_sources_and_their_forms():
    forms = data.list_sources()
    assert forms[:5] == ["digits", "grid25", "ring8", "folder:PATH", "npz:PATH"]
    assert forms[-1].startswith("<TFDS")
    assert data.BUILTIN_DATASETS == ("digits", "grid25", "ring8")
    assert data.get_source("npz").takes_path and data.get_source("digits").bundled
    assert data.get_source("tfds").fallback and data.get_source("tfds").splits is None
    with pytest.raises(GanzooError, match="unknown dataset source 'nope'; accepted: digits"):
        data.get_source("nope")


def test_a_new_source_is_one_function_and_one_registration(scratch_registry, tmp_path):
    @data.register_source("csv", takes_path=True, splits=("train", "all"))
    def csv(request):
        rows = np.loadtxt(request.path, delimiter=",", ndmin=2)
        return data.Examples(rows[:, :-1].astype(np.float32), rows[:, -1].astype(np.int64))

    path = tmp_path / "points.csv"
    path.write_text("0.5,1.5,1\n2.5,3.5,0\n4.5,5.5,1\n")
    x, y, info = data.load_numpy(f"csv:{path}", "all")
    np.testing.assert_array_equal(x, [[0.5, 1.5], [2.5, 3.5], [4.5, 5.5]])
    assert y.dtype == np.int32 and list(y) == [1, 0, 1]
    assert info == data.DatasetInfo(
        name=f"csv:{path}", kind="points", shape=(2,), num_classes=2,
        class_names=("0", "1"), num_examples=3, split="all",
    )
    ds, _ = data.load(f"csv:{path}", shuffle=False, batch_size=3)
    np.testing.assert_array_equal(next(iter(ds))[1], [1, 0, 1])
    assert "csv:PATH" in data.list_sources()
    with pytest.raises(GanzooError, match="train, all"):
        data.load(f"csv:{path}", "test")
    with pytest.raises(GanzooError, match=r"'csv' needs a path, e.g. csv:PATH"):
        data.load("csv")


def test_registration_errors(scratch_registry):
    def reader(request):
        return data.Examples(np.zeros((1, 2), np.float32))

    with pytest.raises(ValueError, match="already registered"):
        data.register_source("digits")(reader)
    with pytest.raises(ValueError, match="already the fallback"):
        data.register_source("other_tfds", fallback=True)(reader)
    for bad in ("", "a:b", " x"):
        with pytest.raises(ValueError, match="without ':'"):
            data.register_source(bad)
    with pytest.raises(ValueError, match="splits"):
        data.register_source("nosplits", splits=())


def test_without_a_fallback_unknown_names_list_the_sources(scratch_registry):
    del registry._SOURCES["tfds"]
    with pytest.raises(GanzooError, match=r"unknown dataset 'svhn_cropped'; accepted: digits, .*"):
        data.load("svhn_cropped")


# --- tf.data pipeline -----------------------------------------------------------


def test_load_elements_match_load_numpy():
    x, y, info = data.load_numpy("digits", "test")
    ds, info2 = data.load("digits", "test", shuffle=False)
    assert info2 == info
    elements = _elements(ds)
    assert len(elements) == 360
    np.testing.assert_array_equal(np.stack([e[0] for e in elements]), x)
    np.testing.assert_array_equal(np.array([e[1] for e in elements]), y)
    assert ds.element_spec[0].dtype == tf.float32 and ds.element_spec[1].dtype == tf.int32


def test_batching_and_drop_remainder():
    ds, _ = data.load("digits", batch_size=100)
    sizes = [len(xb) for xb, _ in _elements(ds)]
    assert sizes == [100] * 14 + [37]
    ds, _ = data.load("digits", batch_size=100, drop_remainder=True)
    assert ds.element_spec[0].shape == (100, 8, 8, 1)
    assert [len(xb) for xb, _ in _elements(ds)] == [100] * 14


def test_shuffle_determinism_and_repeat():
    def first_labels(seed, count=200):
        ds, _ = data.load("digits", batch_size=count, seed=seed, repeat=True)
        return [yb for _, yb in ds.take(9).as_numpy_iterator()]

    a, b, c = first_labels(0), first_labels(0), first_labels(1)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    # repeat goes past one epoch (1437 examples) with full batches
    assert len(a) == 9 and all(len(yb) == 200 for yb in a)
    # reshuffled each epoch: two epochs come in different orders
    ds, _ = data.load("digits", "test", seed=3, repeat=True)
    labels = np.array([e[1] for e in ds.take(720).as_numpy_iterator()])
    assert sorted(labels[:360]) == sorted(labels[360:])
    assert not np.array_equal(labels[:360], labels[360:])


def test_points_pipeline():
    ds, info = data.load("ring8", "test", batch_size=512, drop_remainder=True)
    assert info.num_examples == 10_000
    xb, yb = next(iter(ds))
    assert xb.shape == (512, 2) and xb.dtype == tf.float32 and yb.dtype == tf.int32


def test_image_size_resizes():
    x, _, info = data.load_numpy("digits", image_size=(16, 12), max_examples=50)
    assert x.shape == (50, 16, 12, 1) and info.shape == (16, 12, 1)
    assert info.num_examples == 50
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.max() > 0.9
    ds, info = data.load("digits", image_size=16, batch_size=4)
    assert next(iter(ds))[0].shape == (4, 16, 16, 1) and info.shape == (16, 16, 1)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"name": "digits", "split": "validation"}, "train, test, all"),
        ({"name": "ring8", "split": "all"}, "train, test"),
        ({"name": "digits", "batch_size": 0}, "batch_size"),
        ({"name": "digits", "on_corrupt": "ignore"}, "skip, error"),
        ({"name": "digits", "image_size": (0, 4)}, "image_size"),
        ({"name": "ring8", "image_size": 32}, "points"),
        ({"name": "folder:"}, "path"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(GanzooError, match=match):
        data.load(**kwargs)


def test_load_numpy_bad_max_examples():
    with pytest.raises(GanzooError, match="max_examples"):
        data.load_numpy("digits", max_examples=0)


# --- folder: ---------------------------------------------------------------------


def test_folder_class_subfolders(tmp_path):
    for i in range(3):
        _write_png(tmp_path / "cat" / f"{i}.png", _ramp(6, 5, 3, offset=i))
    for i in range(2):
        _write_png(tmp_path / "dog" / "nested" / f"{i}.PNG", _ramp(6, 5, 3, offset=10 + i))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "empty").mkdir()
    x, y, info = data.load_numpy(f"folder:{tmp_path}")
    assert x.shape == (5, 6, 5, 3) and x.dtype == np.float32
    assert x.min() == -1.0 and x.max() == 1.0
    assert y.dtype == np.int32 and list(y) == [0, 0, 0, 1, 1]
    assert info.class_names == ("cat", "dog") and info.num_classes == 2
    assert info.num_examples == 5 and info.kind == "image"
    np.testing.assert_allclose(x[0], _ramp(6, 5, 3) / 127.5 - 1.0, atol=1e-6)
    ds, _ = data.load(f"folder:{tmp_path}", "all", batch_size=2, drop_remainder=True)
    assert [len(yb) for _, yb in _elements(ds)] == [2, 2]


def test_folder_unlabelled_grayscale(tmp_path):
    for i in range(4):
        _write_png(tmp_path / f"img{i}.png", _ramp(7, 7, 1, offset=i))
    ds, info = data.load(f"folder:{tmp_path}", shuffle=False)
    assert info.num_classes == 0 and info.class_names == () and info.shape == (7, 7, 1)
    elements = _elements(ds)  # unlabelled: x alone, not (x, y)
    assert len(elements) == 4 and elements[0].shape == (7, 7, 1)
    assert min(e.min() for e in elements) == -1.0 and max(e.max() for e in elements) == 1.0
    assert data.load_numpy(f"folder:{tmp_path}")[1] is None


def test_folder_mixed_gray_and_rgb_become_rgb(tmp_path):
    _write_png(tmp_path / "a.png", _ramp(4, 4, 1))
    _write_png(tmp_path / "b.png", _ramp(4, 4, 3))
    x, _, info = data.load_numpy(f"folder:{tmp_path}")
    assert x.shape == (2, 4, 4, 3) and info.shape == (4, 4, 3)
    np.testing.assert_array_equal(x[0, ..., 0], x[0, ..., 2])


def test_folder_corrupt_files(tmp_path, caplog):
    _write_png(tmp_path / "good.png", _ramp(4, 4, 1))
    (tmp_path / "bad.png").write_bytes(b"definitely not a png")
    (tmp_path / "cut.png").write_bytes(tf.io.encode_png(_ramp(4, 4, 1)).numpy()[:20])
    with caplog.at_level(logging.WARNING, logger="ganzoo.data"):
        x, _, info = data.load_numpy(f"folder:{tmp_path}")
    assert len(x) == info.num_examples == 1
    assert "skipped 2 unreadable" in caplog.text and "bad.png" in caplog.text
    with pytest.raises(GanzooError, match=r"bad\.png"):
        data.load(f"folder:{tmp_path}", on_corrupt="error")


def test_folder_mixed_sizes(tmp_path):
    _write_png(tmp_path / "small.png", _ramp(4, 6, 3))
    _write_png(tmp_path / "big.png", _ramp(10, 10, 3))
    with pytest.raises(GanzooError, match=r"4x6, 10x10.*image_size"):
        data.load_numpy(f"folder:{tmp_path}")
    x, _, info = data.load_numpy(f"folder:{tmp_path}", image_size=8)
    assert x.shape == (2, 8, 8, 3) and info.shape == (8, 8, 3)
    assert x.min() >= -1.0 and x.max() <= 1.0


def test_folder_errors(tmp_path):
    with pytest.raises(GanzooError, match="no such directory"):
        data.load(f"folder:{tmp_path / 'missing'}")
    with pytest.raises(GanzooError, match="no image files"):
        data.load(f"folder:{tmp_path}")
    _write_png(tmp_path / "a.png", _ramp(4, 4, 1))
    with pytest.raises(GanzooError, match="train, all"):
        data.load(f"folder:{tmp_path}", split="test")


# --- npz: ------------------------------------------------------------------------


def test_npz_uint8_with_labels(tmp_path):
    path = tmp_path / "d.npz"
    x = np.stack([_ramp(5, 5, 1, offset=i)[..., 0] for i in range(6)])  # rank 3
    np.savez(path, x=x, y=np.array([0, 1, 2, 0, 1, 4], np.int64))
    xs, ys, info = data.load_numpy(f"npz:{path}")
    assert xs.shape == (6, 5, 5, 1) and xs.dtype == np.float32
    assert xs.min() == -1.0 and xs.max() == 1.0
    assert ys.dtype == np.int32 and info.num_classes == 5 and info.class_names[4] == "4"
    ds, _ = data.load(f"npz:{path}", shuffle=False, batch_size=4)
    xb, yb = next(iter(ds))
    np.testing.assert_array_equal(xb, xs[:4])
    np.testing.assert_array_equal(yb, [0, 1, 2, 0])


def test_npz_float_unit_range_without_labels(tmp_path):
    path = tmp_path / "f.npz"
    np.savez(path, x=_ramp(4, 4, 3)[None].repeat(3, axis=0) / 255.0)
    ds, info = data.load(f"npz:{path}", shuffle=False)
    assert info.num_classes == 0 and info.shape == (4, 4, 3)
    x = np.stack(_elements(ds))
    assert x.dtype == np.float32 and x.min() == -1.0 and x.max() == 1.0
    x16, _, info16 = data.load_numpy(f"npz:{path}", image_size=(8, 8))
    assert x16.shape == (3, 8, 8, 3) and info16.shape == (8, 8, 3)


def test_npz_float_already_signed_and_points(tmp_path):
    signed = np.linspace(-1, 1, 2 * 3 * 3).reshape(2, 3, 3, 1)
    np.savez(tmp_path / "s.npz", x=signed)
    np.testing.assert_allclose(data.load_numpy(f"npz:{tmp_path / 's.npz'}")[0], signed)
    points = np.array([[10.0, -3.0, 0.5], [7.0, 8.0, 9.0]])
    np.savez(tmp_path / "p.npz", x=points, y=np.array([1, 0]))
    x, y, info = data.load_numpy(f"npz:{tmp_path / 'p.npz'}")
    np.testing.assert_array_equal(x, points.astype(np.float32))  # raw, not rescaled
    assert info.kind == "points" and info.shape == (3,) and list(y) == [1, 0]


def _npz_bytes(**arrays):
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content,match",
    [
        (_npz_bytes(x=np.zeros((4, 8, 8), np.uint8))[:60], "not a readable .npz"),
        (b"hello, not an npz", "not a readable .npz"),
        (_npz_bytes(images=np.zeros((4, 8, 8), np.uint8)), "no array 'x'.*images"),
        (_npz_bytes(x=np.zeros(5)), "shape"),
        (_npz_bytes(x=np.zeros((2, 2, 3, 3, 1))), "shape"),
        (_npz_bytes(x=np.zeros((2, 1, 8, 8))), "channels last"),
        (_npz_bytes(x=np.zeros((3, 2)), y=np.array([0, 1])), "'y'"),
        (_npz_bytes(x=np.zeros((2, 2)), y=np.array(["0", "1"])), "'y'"),
        (_npz_bytes(x=np.zeros((2, 2)), y=np.array([0, -1])), "negative"),
        (_npz_bytes(x=np.full((2, 4, 4), 200.0)), r"\[0, 1\]"),
        (_npz_bytes(x=np.full((2, 4, 4), -3.0)), r"\[-1, 1\]"),
        (_npz_bytes(x=np.full((2, 4, 4), 300, np.int32)), r"\[0, 255\]"),
    ],
)
def test_npz_errors_name_file_and_problem(tmp_path, content, match):
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(GanzooError, match=match) as err:
        data.load_numpy(f"npz:{path}")
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_npz_missing_file_and_npy(tmp_path):
    with pytest.raises(GanzooError, match="no such file"):
        data.load(f"npz:{tmp_path / 'nope.npz'}")
    np.save(tmp_path / "a.npy", np.zeros((2, 2)))
    with pytest.raises(GanzooError, match="not an .npz"):
        data.load(f"npz:{tmp_path / 'a.npy'}")


# --- labels that cannot be classes -------------------------------------------------


def _npz_dataset(path, y, x=None):
    """`npz:PATH` of len(y) 2-D points (or `x`) with labels `y`."""
    y = np.asarray(y)
    np.savez(path, x=np.zeros((len(y), 2)) if x is None else x, y=y)
    return f"npz:{path}"


def _refusal(name, **kwargs):
    """The one-line message `load_numpy` and `load` both refuse `name` with."""
    with pytest.raises(GanzooError) as err:
        data.load_numpy(name, **kwargs)
    message = str(err.value)
    with pytest.raises(GanzooError) as err2:
        data.load(name, **kwargs)
    assert str(err2.value) == message and "\n" not in message
    return message


def test_a_label_of_a_billion_is_refused_before_any_model(tmp_path):
    path = tmp_path / "x.npz"
    y = np.zeros(200, np.int64)
    y[17] = 1_000_000_000
    start = time.monotonic()
    message = _refusal(_npz_dataset(path, y))
    assert time.monotonic() - start < 10
    assert message == (
        f"npz:{path}: largest label 1000000000 means 1000000001 classes for 200 examples;"
        " accepted: labels 0..K-1 with K <= 200 (the number of examples) and K <= 10000,"
        " or num_classes=N (--set num_classes=N) for labels that are sparse on purpose"
    )


def test_more_classes_than_examples_is_refused(tmp_path):
    y = np.arange(200) * 5 + 4  # labels up to 999 on 200 examples: not 1,000 classes
    message = _refusal(_npz_dataset(tmp_path / "x.npz", y))
    assert "largest label 999 means 1000 classes for 200 examples" in message
    # as many classes as examples is still accepted
    _, ys, info = data.load_numpy(_npz_dataset(tmp_path / "ok.npz", np.arange(200)[::-1]))
    assert info.num_classes == 200 and ys.dtype == np.int32 and ys[0] == 199


def test_more_classes_than_the_limit_is_refused(tmp_path):
    n = data.MAX_CLASSES + 5
    y = np.arange(n) % (data.MAX_CLASSES + 1)  # every label 0..MAX_CLASSES used
    message = _refusal(_npz_dataset(tmp_path / "x.npz", y))
    assert f"largest label {data.MAX_CLASSES} means {data.MAX_CLASSES + 1} classes" in message
    assert f"K <= {data.MAX_CLASSES}" in message
    info = data.load_numpy(_npz_dataset(tmp_path / "ok.npz", y % data.MAX_CLASSES))[2]
    assert info.num_classes == data.MAX_CLASSES


@pytest.mark.parametrize(
    "y,match",
    [
        ([0, 1, -3, 2], "negative label -3;"),
        ([0.0, 1.0, -2.0, 1.0], "negative label -2;"),
        ([0.0, np.nan, 1.0, 1.0], "label nan is not a class number"),
        ([0.0, 2.5, 1.0, 1.0], "label 2.5 is not a class number"),
        ([0.0, np.inf, 1.0, 1.0], "label inf is not a class number"),
        ([0.0, 1e30, 1.0, 1.0], "largest label 1000000000000000019884624838656 means"),
    ],
)
def test_label_values_that_are_not_classes_are_named(tmp_path, y, match):
    path = tmp_path / "bad.npz"
    message = _refusal(_npz_dataset(path, y))
    assert match in message and str(path) in message


def test_integral_float_labels_are_classes(tmp_path):
    _, y, info = data.load_numpy(_npz_dataset(tmp_path / "f.npz", [0.0, 2.0, 1.0, 2.0]))
    assert y.dtype == np.int32 and list(y) == [0, 2, 1, 2] and info.num_classes == 3
    ds, _ = data.load(_npz_dataset(tmp_path / "u.npz", np.array([3, 0, 1, 2], np.uint64)))
    assert ds.element_spec[1].dtype == tf.int32


def test_num_classes_declares_sparse_labels(tmp_path):
    name = _npz_dataset(tmp_path / "sparse.npz", [0, 500, 999])
    assert "1000 classes for 3 examples" in _refusal(name)
    _, y, info = data.load_numpy(name, num_classes=1000)
    assert list(y) == [0, 500, 999] and info.num_classes == 1000
    assert len(info.class_names) == 1000 and info.class_names[999] == "999"
    ds, info2 = data.load(name, num_classes=1000, shuffle=False)
    assert info2 == info and [int(e[1]) for e in _elements(ds)] == [0, 500, 999]
    # fewer classes than the largest label: named, with what is accepted
    message = _refusal(name, num_classes=999)
    assert "label 999 is outside 0..998 (num_classes=999)" in message
    # dense labels may declare more classes than they use
    assert data.load_numpy("digits", num_classes=12)[2].class_names[9:] == ("9", "10", "11")
    assert data.load_numpy("digits", num_classes=10)[2] == data.load_numpy("digits")[2]
    assert "label 9 is outside 0..4" in _refusal("digits", num_classes=5)


@pytest.mark.parametrize("bad", [0, -1, data.MAX_CLASSES + 1, 2.0, "10", True])
def test_bad_num_classes(bad):
    message = _refusal("digits", num_classes=bad)
    assert message.startswith(f"bad num_classes={bad!r}; accepted: an integer from 1 to 10000")


def test_num_classes_needs_labels(tmp_path):
    np.savez(tmp_path / "u.npz", x=np.zeros((3, 2)))
    message = _refusal(f"npz:{tmp_path / 'u.npz'}", num_classes=3)
    assert "has no labels; num_classes=3 applies to labelled datasets only" in message


def test_every_labelled_source_is_checked(monkeypatch, scratch_registry):
    @data.register_source("stray")
    def stray(request):
        return data.Examples(np.zeros((4, 2), np.float32), np.array([0, 1, 7, 1]))

    assert "largest label 7 means 8 classes for 4 examples" in _refusal("stray")

    @data.register_source("named")
    def named(request):
        return data.Examples(np.zeros((2, 2), np.float32), np.array([0, 2]), ("a", "b"))

    assert "label 2 is outside its 2 named classes (0..1)" in _refusal("named")

    @data.register_source("misshaped")
    def misshaped(request):
        return data.Examples(np.zeros((2, 2), np.float32), np.array([[0], [1]]))

    assert "labels must have shape (2,), one per example" in _refusal("misshaped")

    @data.register_source("flat")
    def flat(request):
        return data.Examples(np.zeros(3))

    assert "returned x of shape (3,); expected (N, D) points" in _refusal("flat")


# --- split slices ----------------------------------------------------------------


def test_npz_slices_partition_the_file_in_order(tmp_path):
    path = tmp_path / "d.npz"
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20) % 4
    np.savez(path, x=x, y=y)
    name = f"npz:{path}"
    head, _, info_head = data.load_numpy(name, "train[:90%]")
    tail, y_tail, info_tail = data.load_numpy(name, "train[90%:]")
    np.testing.assert_array_equal(np.concatenate([head, tail]), x)  # the file's order
    assert (info_head.num_examples, info_tail.num_examples) == (18, 2)
    assert info_tail.split == "train[90%:]" and list(y_tail) == [2, 3]
    # the classes are those of the whole file, whatever the slice holds
    assert info_head.num_classes == info_tail.num_classes == 4
    np.testing.assert_array_equal(data.load_numpy(name, "all[5:7]")[0], x[5:7])
    np.testing.assert_array_equal(data.load_numpy(name, "train[-3:]")[0], x[-3:])
    np.testing.assert_array_equal(data.load_numpy(name, "train[-10%:-5%]")[0], x[18:19])
    np.testing.assert_array_equal(data.load_numpy(name, "train[12.5%:25%]")[0], x[2:5])
    ds, info = data.load(name, "train[:5]", shuffle=False)
    assert info.num_examples == 5 and info.split == "train[:5]"
    np.testing.assert_array_equal(np.stack([e[0] for e in _elements(ds)]), x[:5])


def test_digits_slices():
    x, _, info = data.load_numpy("digits", "test[10%:20%]")
    x_test = data.load_numpy("digits", "test")[0]
    np.testing.assert_array_equal(x, x_test[36:72])
    assert info.num_examples == 36 and info.num_classes == 10
    assert data.load_numpy("digits", "train[:1000]")[2].num_examples == 1000


def test_folder_slices_hold_every_class(tmp_path):
    for label in ("a", "b"):
        for i in range(10):
            _write_png(tmp_path / label / f"{i}.png", _ramp(3, 3, 1, offset=i))
    name = f"folder:{tmp_path}"
    _, y_all, _ = data.load_numpy(name)
    assert list(y_all) == [0] * 10 + [1] * 10  # class order, unchanged
    _, y_train, _ = data.load_numpy(name, "train[:70%]")
    _, y_held, info = data.load_numpy(name, "train[70%:]")
    assert info.num_examples == 6 and set(y_held) == {0, 1}  # not just the last class
    assert sorted(np.concatenate([y_train, y_held])) == sorted(y_all)
    np.testing.assert_array_equal(data.load_numpy(name, "train[70%:]")[1], y_held)


@pytest.mark.parametrize(
    "split,match",
    [
        ("train[1:2:3]", "bad split"),
        ("train[]", "bad split"),
        ("train[:]", "bad split"),
        ("train[10:50%]", "bad split"),
        ("train[1.5:]", "bad split"),
        ("train[five:]", "bad split"),
        ("train[:2000]", "reaches past its 1437 'train' examples"),
        ("train[-150%:]", "reaches past"),
        ("train[50%:40%]", "selects no examples"),
        ("validation[:10%]", "available splits: train, test, all"),
    ],
)
def test_bad_slices_name_the_accepted_forms(split, match):
    message = _refusal("digits", split=split)
    assert match in message and "accepted: " in message
    if "bad split" in message or "available" in message:
        assert "train[:90%], train[90%:], train[:1000], test[10%:20%]" in message


# --- original files: MNIST family and CIFAR ----------------------------------------


def _idx(array):
    """The IDX encoding of a uint8 array."""
    array = np.asarray(array, np.uint8)
    return bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes() + array.tobytes()


def _write_mnist_format(directory, split, images, labels, compress):
    """The IDX files of one split, as the authors name them."""
    prefix = {"train": "train", "test": "t10k"}[split]
    directory.mkdir(parents=True, exist_ok=True)
    for stem, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte",
                                                                  labels)):
        content = _idx(array)
        if compress:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(content))
        else:
            (directory / stem).write_bytes(content)


def _tiny_images(n, height=6, width=5, offset=0):
    images = np.stack([_ramp(height, width, 1, offset=offset + i)[..., 0] for i in range(n)])
    return images, (np.arange(n) + offset) % 10


@pytest.mark.parametrize("compress", [True, False])
def test_idx_files_in_data_dir(tmp_path, offline, compress):
    images, labels = _tiny_images(7)
    _write_mnist_format(tmp_path / "fashion-mnist", "train", images, labels, compress)
    test_images, test_labels = _tiny_images(3, offset=20)
    _write_mnist_format(tmp_path / "fashion-mnist", "test", test_images, test_labels, compress)
    x, y, info = data.load_numpy("fashion_mnist", data_dir=str(tmp_path))
    np.testing.assert_array_equal(x, images[..., None] / np.float32(127.5) - 1)
    assert y.dtype == np.int32 and list(y) == list(labels)
    assert info.shape == (6, 5, 1) and info.num_classes == 10 and info.num_examples == 7
    assert info.class_names[0] == "T-shirt/top" and info.class_names[9] == "Ankle boot"
    x_test, y_test, test = data.load_numpy("fashion_mnist", "test", data_dir=str(tmp_path))
    assert test.num_examples == 3 and list(y_test) == [0, 1, 2]
    ds, _ = data.load("fashion_mnist", "test[1:]", data_dir=str(tmp_path), shuffle=False)
    np.testing.assert_array_equal(np.stack([e[0] for e in _elements(ds)]), x_test[1:])
    assert offline == []  # found locally: TFDS and the network are never asked


def test_idx_files_directly_in_data_dir(tmp_path):
    images, labels = _tiny_images(4)
    _write_mnist_format(tmp_path, "train", images, labels, compress=False)
    x, _, info = data.load_numpy("kmnist", data_dir=str(tmp_path))
    assert len(x) == 4 and info.class_names[:2] == ("o", "ki")


def test_idx_search_order(tmp_path, no_local_copies):
    keras_datasets, system = no_local_copies
    places = {"data_dir": tmp_path / "mine", "keras": keras_datasets, "system": system}
    for offset, root in enumerate(places.values()):
        images, labels = _tiny_images(3, offset=offset)
        _write_mnist_format(root / "mnist", "train", images, labels, compress=True)

    def first_label(data_dir):
        return data.load_numpy("mnist", data_dir=data_dir)[1][0]

    assert first_label(str(places["data_dir"])) == 0
    assert first_label(None) == 1  # Keras's cache ($KERAS_HOME/datasets)
    for file in (keras_datasets / "mnist").iterdir():
        file.unlink()
    assert first_label(str(tmp_path / "elsewhere")) == 2  # the system directory


def test_keras_mnist_npz(no_local_copies):
    keras_datasets, _ = no_local_copies
    keras_datasets.mkdir(parents=True)
    images, labels = _tiny_images(5, height=28, width=28)
    np.savez(keras_datasets / "mnist.npz", x_train=images, y_train=labels.astype(np.uint8),
             x_test=images[:2], y_test=labels[:2].astype(np.uint8))
    x, y, info = data.load_numpy("mnist")
    assert x.shape == (5, 28, 28, 1) and list(y) == list(labels) and info.class_names[3] == "3"
    assert data.load_numpy("mnist", "test")[2].num_examples == 2


@pytest.mark.parametrize(
    "images,labels,match",
    [
        (b"\0\0\x08\x01" + b"\0" * 8, _idx([1, 2]), "not an IDX file of 3-D unsigned bytes"),
        (_idx(np.zeros((2, 3, 3)))[:-1], _idx([1, 2]), "truncated or padded: 17 bytes"),
        (_idx(np.zeros((2, 3, 3))), _idx([1, 2, 3]), "holds 2 images but .* 3 labels"),
        (b"", _idx([1, 2]), "magic missing"),
        (_idx(np.zeros((2, 3, 3))), _idx([1, 12]), "label 12 is outside its 10 named classes"),
    ],
)
def test_broken_idx_files(tmp_path, images, labels, match):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(images)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(labels)
    with pytest.raises(GanzooError, match=match) as err:
        data.load_numpy("mnist", data_dir=str(tmp_path))
    assert "\n" not in str(err.value)


def test_broken_gzip(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx([1])))
    with pytest.raises(GanzooError, match=r"cannot read .*train-images-idx3-ubyte\.gz: Not a gz"):
        data.load_numpy("mnist", data_dir=str(tmp_path))


def _cifar_images(n, offset):
    """n images as CIFAR rows: the red plane a ramp, green its reverse, blue the index."""
    ramp = np.arange(1024) % 256
    rows = [np.concatenate([ramp, 255 - ramp, np.full(1024, offset + i)]) for i in range(n)]
    return np.asarray(rows, np.uint8)


def _cifar_pickle(content, numpy1=False):
    """A pickle of `content`; `numpy1`: naming numpy 1's modules, as the originals do."""
    blob = pickle.dumps(content, protocol=4)
    if not numpy1:
        return blob
    # Drop the frames (optional) so that a name may change length, then rename.
    ops = list(pickletools.genops(blob))
    ends = [pos for _, _, pos in ops[1:]] + [len(blob)]
    blob = b"".join(blob[pos:end] for (op, _, pos), end in zip(ops, ends) if op.name != "FRAME")
    renamed = blob.replace(b"\x8c\x16numpy._core.multiarray", b"\x8c\x15numpy.core.multiarray")
    assert renamed != blob
    return renamed


def _cifar_files(name):
    """{member: bytes} of a tiny CIFAR archive: 2 images per train batch, 3 test images."""
    if name == "cifar10":
        members = {f"data_batch_{i}": _cifar_images(2, 2 * i) for i in range(1, 6)}
        members["test_batch"] = _cifar_images(3, 100)
        label_key, meta, names_key = b"labels", "batches.meta", b"label_names"
        names = [f"c{i}".encode() for i in range(10)]
    else:
        members = {"train": _cifar_images(4, 0), "test": _cifar_images(3, 100)}
        label_key, meta, names_key = b"fine_labels", "meta", b"fine_label_names"
        names = [f"fine{i}".encode() for i in range(100)]
    files = {
        m: _cifar_pickle({b"data": rows, label_key: [int(v) % 7 for v in rows[:, -1]]},
                         numpy1=True)
        for m, rows in members.items()
    }
    files[meta] = pickle.dumps({names_key: names}, protocol=4)
    return files


def _write_cifar_dir(directory, name):
    directory.mkdir(parents=True)
    for member, blob in _cifar_files(name).items():
        (directory / member).write_bytes(blob)


def _write_cifar_archive(path, name, folder, leave_out=()):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for member, blob in _cifar_files(name).items():
            if member in leave_out:
                continue
            entry = tarfile.TarInfo(f"{folder}/{member}")
            entry.size = len(blob)
            tar.addfile(entry, io.BytesIO(blob))


def _scaled(pixels):
    return np.asarray(pixels, np.float32) / np.float32(127.5) - np.float32(1)


def _check_cifar(x, y, info, first_blue, n):
    """Channels last, each plane's rows in order, labels as `_cifar_files` wrote them."""
    assert x.shape == (n, 32, 32, 3) and info.shape == (32, 32, 3)
    red = (np.arange(1024) % 256).reshape(32, 32)
    np.testing.assert_array_equal(x[..., 0], np.broadcast_to(_scaled(red), (n, 32, 32)))
    np.testing.assert_array_equal(x[..., 1], np.broadcast_to(_scaled(255 - red), (n, 32, 32)))
    blue = _scaled(np.arange(first_blue, first_blue + n))
    np.testing.assert_array_equal(x[..., 2], np.broadcast_to(blue[:, None, None], (n, 32, 32)))
    assert list(y) == [int(b) % 7 for b in range(first_blue, first_blue + n)]


def test_cifar10_extracted_in_data_dir(tmp_path, offline):
    _write_cifar_dir(tmp_path / "cifar-10-batches-py", "cifar10")
    x, y, info = data.load_numpy("cifar10", data_dir=str(tmp_path))
    _check_cifar(x, y, info, first_blue=2, n=10)  # batches 1..5 in order
    assert info.num_classes == 10 and info.class_names[:2] == ("c0", "c1")
    x, y, info = data.load_numpy("cifar10", "test", data_dir=str(tmp_path / "cifar-10-batches-py"))
    _check_cifar(x, y, info, first_blue=100, n=3)
    assert offline == []


def test_cifar10_archive_in_keras_cache(no_local_copies):
    keras_datasets, _ = no_local_copies
    _write_cifar_archive(keras_datasets / "cifar-10-python.tar.gz", "cifar10", "cifar-10-batches-py")
    x, y, info = data.load_numpy("cifar10", "train[-4:]")
    _check_cifar(x, y, info, first_blue=8, n=4)
    ds, info = data.load("cifar10", "test", batch_size=3)
    assert next(iter(ds))[0].shape == (3, 32, 32, 3) and info.num_examples == 3


def test_cifar10_keras3_folder_and_missing_meta(no_local_copies):
    keras_datasets, _ = no_local_copies
    folder = keras_datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    _write_cifar_dir(folder, "cifar10")
    (folder / "batches.meta").unlink()
    info = data.load_numpy("cifar10", "test")[2]
    assert info.class_names[0] == "airplane" and info.class_names[9] == "truck"


def test_cifar100_fine_labels(tmp_path, no_local_copies):
    _, system = no_local_copies
    _write_cifar_dir(system / "cifar-100-python", "cifar100")
    x, y, info = data.load_numpy("cifar100")
    _check_cifar(x, y, info, first_blue=0, n=4)
    assert info.num_classes == 100 and info.class_names[99] == "fine99"
    _write_cifar_archive(tmp_path / "cifar-100-python.tar.gz", "cifar100", "cifar-100-python")
    x_archive = data.load_numpy("cifar100", "test", data_dir=str(tmp_path))[0]
    np.testing.assert_array_equal(x_archive, data.load_numpy("cifar100", "test")[0])


def test_cifar_archive_missing_a_batch(tmp_path):
    _write_cifar_archive(tmp_path / "cifar-10-python.tar.gz", "cifar10", "cifar-10-batches-py",
                         leave_out=("data_batch_3",))
    with pytest.raises(GanzooError, match=r"lacks cifar-10-batches-py/data_batch_3"):
        data.load_numpy("cifar10", data_dir=str(tmp_path))
    assert data.load_numpy("cifar10", "test", data_dir=str(tmp_path))[2].num_examples == 3


def test_cifar_pickles_cannot_run_code(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    _write_cifar_dir(tmp_path / "cifar-10-batches-py", "cifar10")
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(
        pickle.dumps({b"data": Payload(), b"labels": []}, protocol=2)
    )
    with pytest.raises(GanzooError, match=r"test_batch is not a CIFAR python pickle: refusing"):
        data.load_numpy("cifar10", "test", data_dir=str(tmp_path))
    assert not marker.exists()
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(GanzooError, match="holds a list, not a CIFAR dict"):
        data.load_numpy("cifar10", "test", data_dir=str(tmp_path))
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(
        pickle.dumps({b"data": np.zeros((2, 5), np.uint8), b"labels": [0, 1]})
    )
    with pytest.raises(GanzooError, match=r"not a CIFAR batch: .*found data \(2, 5\)"):
        data.load_numpy("cifar10", "test", data_dir=str(tmp_path))


@pytest.mark.parametrize(
    "name,expected",
    [
        ("fashion_mnist", "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]"),
        ("cifar10", "cifar-10-python.tar.gz or cifar-10-batches-py/data_batch_1..data_batch_5"),
        ("cifar100", "cifar-100-python.tar.gz or cifar-100-python/train"),
    ],
)
def test_originals_offline_name_every_place(tmp_path, offline, no_local_copies, name, expected):
    keras_datasets, system = no_local_copies
    start = time.monotonic()
    with pytest.raises(GanzooError) as err:
        data.load(name, data_dir=str(tmp_path))
    assert time.monotonic() - start < 20
    message = str(err.value)
    assert "\n" not in message and expected in message and "not found offline" in message
    assert str(tmp_path) in message and str(keras_datasets) in message and str(system) in message
    assert "--data_dir" in message and "digits" in message and "npz:PATH" in message
    assert offline  # TFDS was the last resort, and the network probe ran
    with pytest.raises(GanzooError, match=r"no --data_dir given"):
        data.load_numpy(name, "test")


@pytest.mark.slow
def test_real_fashion_mnist_from_the_system_directory(monkeypatch):
    """Debian's dataset-fashion-mnist files, when installed: pytest -m slow."""
    system = "/usr/share/datasets"
    if not os.path.isfile(f"{system}/fashion-mnist/train-images-idx3-ubyte.gz"):
        pytest.skip("dataset-fashion-mnist is not installed")
    monkeypatch.setattr(originals, "SYSTEM_DATA_DIRS", (system,))
    start = time.monotonic()
    x, y, info = data.load_numpy("fashion_mnist")
    seconds = time.monotonic() - start
    assert x.shape == (60_000, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == -1.0 and x.max() == 1.0
    assert np.all(np.bincount(y) == 6000) and info.class_names[-1] == "Ankle boot"
    assert seconds < 30, f"reading Fashion-MNIST took {seconds:.1f} s"
    ds, info = data.load("fashion_mnist", "test", batch_size=1000)
    assert info.num_examples == 10_000 and sum(len(xb) for xb, _ in ds) == 10_000


# --- TFDS ------------------------------------------------------------------------


@pytest.fixture
def offline(monkeypatch):
    """Make the network probe report 'offline' and record that it ran."""
    calls = []
    monkeypatch.setattr(
        tfds_source, "network_available", lambda *a, **k: calls.append(a) or False
    )
    return calls


@pytest.fixture
def mock_mnist(tmp_path, offline):
    """Mocked mnist: real metadata (20 train / 10 test) written to tmp_path, random data.

    The pip package of TFDS ships no metadata for `MockPolicy.USE_FILES`, and
    `USE_CODE` knows no split names, so the fixture writes the metadata itself.
    """
    import tensorflow_datasets as tfds

    builder = tfds.builder("mnist", data_dir=tmp_path)
    builder.info.set_splits(
        tfds.core.SplitDict(
            [
                tfds.core.SplitInfo(name="train", shard_lengths=[20], num_bytes=0),
                tfds.core.SplitInfo(name="test", shard_lengths=[10], num_bytes=0),
            ]
        )
    )
    builder.data_path.mkdir(parents=True)
    builder.info.write_to_directory(builder.data_dir)
    with tfds.testing.mock_data(
        num_examples=20, policy=tfds.testing.MockPolicy.USE_FILES, data_dir=str(tmp_path)
    ):
        yield str(tmp_path)
    assert offline == []  # a prepared dataset never probes the network


def test_tfds_mnist_mocked(mock_mnist):
    ds, info = data.load("mnist", data_dir=mock_mnist, batch_size=8, seed=1)
    assert info.name == "mnist" and info.kind == "image" and info.shape == (28, 28, 1)
    assert info.num_classes == 10 and info.class_names == tuple("0123456789")
    assert info.num_examples == 20 and info.split == "train"
    batches = _elements(ds)
    assert [len(xb) for xb, _ in batches] == [8, 8, 4]
    x = np.concatenate([xb for xb, _ in batches])
    y = np.concatenate([yb for _, yb in batches])
    # mock pixels are random uint8 in [0, 255): scaled as x / 127.5 - 1
    assert x.dtype == np.float32 and x.min() == -1.0 and x.max() > 0.98
    np.testing.assert_allclose((x + 1) * 127.5, np.round((x + 1) * 127.5), atol=1e-3)
    assert y.dtype == np.int32 and y.min() >= 0 and y.max() < 10
    ds_again, _ = data.load("mnist", data_dir=mock_mnist, batch_size=8, seed=1)
    np.testing.assert_array_equal(next(iter(ds_again))[0], batches[0][0])


def test_tfds_load_numpy_and_resize(mock_mnist):
    x, y, info = data.load_numpy("mnist", "test[:50%]", data_dir=mock_mnist, max_examples=6)
    assert x.shape == (6, 28, 28, 1) and y.shape == (6,) and info.num_examples == 6
    ds, info = data.load("mnist", data_dir=mock_mnist, image_size=14, repeat=True, batch_size=32)
    xb, _ = next(iter(ds))
    assert xb.shape == (32, 14, 14, 1) and info.shape == (14, 14, 1)
    assert float(tf.reduce_min(xb)) >= -1.0 and float(tf.reduce_max(xb)) <= 1.0


def test_tfds_num_classes(mock_mnist):
    _, info = data.load("mnist", data_dir=mock_mnist, num_classes=12)
    assert info.num_classes == 12 and info.class_names[-3:] == ("9", "10", "11")
    assert data.load_numpy("mnist", data_dir=mock_mnist, num_classes=10)[2].num_classes == 10
    with pytest.raises(GanzooError, match="has 10 classes; num_classes=4 cannot hold them"):
        data.load("mnist", data_dir=mock_mnist, num_classes=4)


def test_tfds_bad_split_lists_available(mock_mnist):
    with pytest.raises(GanzooError, match="available splits: train, test"):
        data.load("mnist", "validation", data_dir=mock_mnist)


def test_tfds_offline_fails_fast(tmp_path, offline):
    start = time.monotonic()
    with pytest.raises(GanzooError, match="--data_dir") as err:
        data.load("mnist", data_dir=str(tmp_path))
    assert time.monotonic() - start < 20
    message = str(err.value)
    assert "\n" not in message and "digits" in message and "npz:PATH" in message
    assert offline and "storage.googleapis.com" in offline[0][0]


def test_network_probe_is_fast_for_unreachable_host():
    start = time.monotonic()
    assert tfds_source.network_available(("ganzoo-test.invalid",), timeout=1.0) is False
    assert time.monotonic() - start < 10


def test_tfds_without_image_feature(offline):
    with pytest.raises(GanzooError, match="no 'image' feature"):
        data.load("iris")
    assert offline == []


def test_unknown_dataset_lists_accepted_forms(offline):
    with pytest.raises(GanzooError, match="digits.*folder:PATH.*npz:PATH") as err:
        data.load("no_such_dataset_xyz")
    assert "\n" not in str(err.value)
