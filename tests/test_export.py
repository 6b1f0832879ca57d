"""SavedModel export, `ganzoo.load`, `python -m ganzoo.sample` and the pretrained zoo."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import textwrap
import zipfile

import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_hparams

import ganzoo
from ganzoo import export, fileio, sample, savedmodel, train
from ganzoo.config import TrainConfig
from ganzoo.errors import GanzooError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRETRAINED = ["cgan-digits", "cgan-fashion_mnist", "dcgan-digits", "dcgan-fashion_mnist",
              "pacgan-fashion_mnist", "r3gan-fashion_mnist", "sngan-fashion_mnist", "vanilla-digits", "vanilla-fashion_mnist", "vanilla-ring8", "wgan_gp-digits",
              "wgan_gp-fashion_mnist", "wgan_gp-ring8"]
REQUIRED_FIELDS = ["format", "ganzoo_version", "model", "model_config", "train_config",
                   "dataset", "data_shape", "latent_dim", "num_classes", "class_names",
                   "steps", "evaluation", "signatures"]


def make_model(name, data_shape=(8, 8, 1), seed=0):
    """A tiny `name` model with random weights, so generated examples vary."""
    extra = {"num_classes": 10} if name == "cgan" else {}
    model = ganzoo.create_model(name, data_shape=data_shape, seed=seed, **tiny_hparams(name),
                                **extra)
    rng = np.random.default_rng(seed)
    for weight in model.generator.weights:
        value = rng.normal(0.0, 0.3, weight.shape)
        if "variance" in weight.path:
            value = np.abs(value) + 0.5
        weight.assign(value.astype(weight.dtype))
    return model


def run_cli(main, argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip().splitlines()


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def files_under(path):
    return sorted(os.path.relpath(os.path.join(d, f), path)
                  for d, _, files in os.walk(path) for f in files)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Tiny exports: {key: (model, path)} for every model on digits, and vanilla on points."""
    root = tmp_path_factory.mktemp("exports")
    made = {}
    cases = [(name, (8, 8, 1)) for name in ganzoo.list_models()] + [("vanilla", (2,))]
    for name, shape in cases:
        key = name if len(shape) == 3 else f"{name}-points"
        model = make_model(name, shape)
        path = str(root / key)
        dataset = "digits" if len(shape) == 3 else "ring8"
        savedmodel.export_generator(model, path, {"dataset": dataset})
        made[key] = (model, path)
    return made


# -- 1. plain TensorFlow in a fresh process gets exactly ganzoo's images ------------------

FRESH_PROCESS = textwrap.dedent("""
    import json, sys
    # Any import of ganzoo or keras now fails: only TensorFlow and NumPy run the model.
    sys.modules["ganzoo"] = None
    sys.modules["keras"] = None
    import numpy as np
    import tensorflow as tf

    results = {}
    for key, case in json.load(open(sys.argv[1])).items():
        data = np.load(case["npz"])
        fn = tf.saved_model.load(case["path"]).signatures["serving_default"]
        inputs = {"z": tf.constant(data["z"])}
        if "labels" in data:
            inputs["labels"] = tf.constant(data["labels"])
        out = fn(**inputs)
        (name, value), = out.items()
        half = {k: v[:3] for k, v in inputs.items()}
        specs = fn.structured_input_signature[1]
        results[key] = {
            "output": name, "dtype": value.dtype.name, "shape": value.shape.as_list(),
            "max_diff": float(np.abs(value.numpy() - data["expected"]).max()),
            "batch3": fn(**half)[name].shape.as_list(),
            "inputs": {k: [s.name, s.dtype.name, s.shape.as_list()] for k, s in specs.items()},
            "min": float(value.numpy().min()), "max": float(value.numpy().max()),
        }
    assert not any(m.startswith(("ganzoo", "keras")) and sys.modules[m] is not None
                   for m in sys.modules)
    json.dump(results, open(sys.argv[2], "w"))
""")


@pytest.fixture(scope="module")
def fresh_process_results(exports, tmp_path_factory):
    root = tmp_path_factory.mktemp("fresh")
    cases = {}
    rng = np.random.default_rng(1)
    for key, (model, path) in exports.items():
        z = rng.standard_normal((7, model.latent_dim)).astype("float32")
        labels = np.arange(7, dtype="int32") % 10 if model.conditional else None
        x = model.generate(z, labels).numpy()
        expected = (x + 1.0) / 2.0 if len(model.data_shape) == 3 else x
        arrays = {"z": z, "expected": expected}
        if labels is not None:
            arrays["labels"] = labels
        np.savez(root / f"{key}.npz", **arrays)
        cases[key] = {"path": path, "npz": str(root / f"{key}.npz")}
    (root / "cases.json").write_text(json.dumps(cases))
    script = root / "check.py"
    script.write_text(FRESH_PROCESS)
    done = subprocess.run(
        [sys.executable, str(script), str(root / "cases.json"), str(root / "results.json")],
        cwd=str(root), capture_output=True, text=True, timeout=120, check=False,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((root / "results.json").read_text())


@pytest.mark.parametrize("key", [*ganzoo.list_models(), "vanilla-points"])
def test_plain_tensorflow_gets_ganzoos_output(key, exports, fresh_process_results):
    model, _ = exports[key]
    result = fresh_process_results[key]
    assert result["max_diff"] <= 1e-6, result
    assert result["dtype"] == "float32"
    assert result["shape"] == [7, *model.data_shape] and result["batch3"] == [3, *model.data_shape]
    expected_inputs = {"z": ["z", "float32", [None, model.latent_dim]]}
    if model.conditional:
        expected_inputs["labels"] = ["labels", "int32", [None]]
    assert result["inputs"] == expected_inputs
    if len(model.data_shape) == 3:
        assert result["output"] == "images" and 0.0 <= result["min"] < result["max"] <= 1.0
    else:
        assert result["output"] == "samples"


def test_load_samples_like_the_model(exports):
    for model, path in exports.values():
        generator = ganzoo.load(path)
        labels = 4 if model.conditional else None
        np.testing.assert_allclose(generator.sample(6, seed=3, labels=labels),
                                   model.sample(6, labels=labels, seed=3), atol=1e-6)
        assert generator.sample(5, seed=1, labels=labels).shape == (5, *model.data_shape)
        assert (generator.latent_dim, generator.data_shape) == (model.latent_dim, model.data_shape)
        assert generator.num_classes == (10 if model.conditional else 0)
    assert ganzoo.load(exports["cgan"][1]).class_names == tuple(str(i) for i in range(10))


# -- 2. each variable is stored once ------------------------------------------------------


@pytest.mark.parametrize("name, hparams", [("wgan_gp", {}), ("cgan", tiny_hparams("cgan"))])
def test_variables_are_stored_once(name, hparams, tmp_path):
    extra = {"num_classes": 10} if name == "cgan" else {}
    model = ganzoo.create_model(name, data_shape=(8, 8, 1), **hparams, **extra)
    path = str(tmp_path / "g")
    savedmodel.export_generator(model, path)
    weights = savedmodel.weight_bytes(model.generator)
    stored = [(key, shape) for key, shape in tf.train.list_variables(
        os.path.join(path, "variables", "variables")) if "OBJECT_GRAPH" not in key]
    assert len(stored) == len(model.generator.weights)
    assert sum(4 * int(np.prod(shape)) for _, shape in stored) == weights
    # The data file holds the weights once plus a small object graph; twice would be 2x.
    size = savedmodel.variables_bytes(path)
    assert weights <= size <= 1.05 * weights + 4096, (size, weights)


# -- 3. the shipped zoo is installed as package data ---------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_pretrained_models_ship_with_the_package(no_network):
    assert ganzoo.list_pretrained() == PRETRAINED
    package = os.path.dirname(os.path.abspath(ganzoo.__file__))
    # The whole package, pretrained zoo and classifiers included, stays under 30 MB.
    shipped = [f for f in files_under(package) if "__pycache__" not in f]
    assert sum(os.path.getsize(os.path.join(package, f)) for f in shipped) < 30e6
    for name in PRETRAINED:
        path = os.path.join(package, "pretrained", name)
        assert {"saved_model.pb", "MODEL_CARD.md", "samples.png", "assets/ganzoo.json",
                "variables/variables.index"} <= set(files_under(path))
        assert sum(os.path.getsize(os.path.join(path, f)) for f in files_under(path)) < 5e6
        generator = ganzoo.load(name)
        meta = generator.metadata
        assert [f for f in REQUIRED_FIELDS if f not in meta] == []
        assert meta["name"] == name and f"{meta['model']}-{meta['dataset']}" == name
        budget = meta["train_config"]
        assert meta["steps"] > 0
        # A step budget is reached exactly; a time budget (no steps set) stops where it ends.
        if budget["steps"]:
            assert meta["steps"] == budget["steps"]
        else:
            assert budget["minutes"] > 0
        card = meta["model_card"]
        assert {"command", "training_seconds", "machine", "date"} <= set(card)
        x = generator.sample(3, seed=0, labels=[1, 2, 3] if generator.conditional else None)
        assert x.shape == (3, *generator.data_shape) and np.isfinite(x).all()
        if len(generator.data_shape) == 3:
            assert x.min() >= -1.0 and x.max() <= 1.0
        text = read_text(os.path.join(path, "MODEL_CARD.md"))
        assert card["command"] in text and "## Evaluation" in text
        # A card exported from a comparison cannot know the load when training
        # began; the export's own would read as if it were.
        if "--from_compare" in text:
            assert "load average" not in text and "load_average" not in card["machine"]
    assert ganzoo.load("cgan-digits").class_names == tuple(str(i) for i in range(10))


def _package_data_patterns():
    import ast

    tree = ast.parse(read_text(os.path.join(ROOT, "setup.py")))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "package_data":
            return ast.literal_eval(node.value)["ganzoo"]
    return []


def test_setup_package_data_covers_every_pretrained_file():
    import glob

    package = os.path.join(ROOT, "ganzoo")
    covered = {os.path.relpath(p, package)
               for pattern in _package_data_patterns()
               for p in glob.glob(os.path.join(package, pattern)) if os.path.isfile(p)}
    shipped = {os.path.join("pretrained", name, f)
               for name in PRETRAINED for f in files_under(os.path.join(package, "pretrained", name))}
    assert shipped and shipped <= covered, sorted(shipped - covered)


def _build_wheel(tmp_path):
    """A wheel of a copy of the repository (building writes build/ into its source)."""
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    source = tmp_path / "src"
    source.mkdir()
    for name in ("setup.py", "setup.cfg", "README.md"):
        shutil.copy(os.path.join(ROOT, name), source / name)
    shutil.copytree(os.path.join(ROOT, "ganzoo"), source / "ganzoo",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("ganzoo-*.whl")
    return str(wheel)


def test_the_wheel_carries_every_pretrained_file(tmp_path):
    with zipfile.ZipFile(_build_wheel(tmp_path)) as wheel:
        packaged = set(wheel.namelist())
    package = os.path.join(ROOT, "ganzoo")
    shipped = {f"ganzoo/pretrained/{name}/{f}"
               for name in PRETRAINED for f in files_under(os.path.join(package, "pretrained", name))}
    assert shipped and shipped <= packaged, sorted(shipped - packaged)


@pytest.mark.slow
def test_a_non_editable_install_loads_every_pretrained_model(tmp_path):
    """`pip install` of the wheel into a fresh virtualenv; run by hand: pytest -m slow."""
    wheel = _build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=300)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel],
                   check=True, timeout=300)
    script = textwrap.dedent(f"""
        import socket
        def refuse(*args, **kwargs):
            raise OSError("no network")
        socket.socket.connect = refuse
        import ganzoo
        assert ganzoo.__file__.startswith({str(venv)!r}), ganzoo.__file__
        assert ganzoo.list_pretrained() == {PRETRAINED!r}, ganzoo.list_pretrained()
        for name in ganzoo.list_pretrained():
            g = ganzoo.load(name)
            x = g.sample(4, seed=0, labels=1 if g.conditional else None)
            assert x.shape == (4, *g.data_shape), x.shape
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([python, "-c", script], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]


# -- 4. a URL with a pinned sha256 ----------------------------------------------------------


def _archive(path, out, kind):
    if kind == "zip":
        with zipfile.ZipFile(out, "w") as z:
            for f in files_under(path):
                z.write(os.path.join(path, f), os.path.join("model", f))
    else:
        with tarfile.open(out, "w:gz") as t:
            t.add(path, arcname="model")
    return out


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_load_from_url_with_checksum(kind, exports, tmp_path):
    path = exports["wgan_gp"][1]
    archive = _archive(path, str(tmp_path / f"g.{kind}"), kind)
    with open(archive, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    url = f"file://{archive}"
    generator = ganzoo.load(url, sha256=digest, cache_dir=str(tmp_path / "cache"))
    np.testing.assert_array_equal(generator.sample(4, seed=2), ganzoo.load(path).sample(4, seed=2))
    with pytest.raises(GanzooError, match=f"checksum mismatch for {url}: sha256 {digest}"):
        ganzoo.load(url, sha256="0" * 64, cache_dir=str(tmp_path / "cache"))
    assert not os.path.exists(tmp_path / "cache" / "ganzoo" / ("0" * 64) / f"g.{kind}")
    with pytest.raises(GanzooError, match="needs its checksum"):
        ganzoo.load(url, cache_dir=str(tmp_path / "cache"))


# -- 5. bad input: one line, exit code 2, no traceback ---------------------------------------


@pytest.fixture(scope="module")
def bad_exports(exports, tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    plain = str(root / "plain")  # a SavedModel that is not a ganzoo generator
    module = tf.Module()
    module.v = tf.Variable(1.0)
    module.f = tf.function(lambda x: x * module.v, input_signature=[tf.TensorSpec([None])])
    tf.saved_model.save(module, plain, signatures={"serving_default": module.f})
    unsigned = str(root / "unsigned")  # ganzoo.json but no serving signature
    tf.saved_model.save(tf.Module(), unsigned)
    os.makedirs(os.path.join(unsigned, "assets"), exist_ok=True)
    shutil.copy(savedmodel.metadata_path(exports["wgan_gp"][1]), savedmodel.metadata_path(unsigned))
    np.save(root / "z.npy", np.zeros((4, 3), "float32"))
    nan = np.zeros((4, 8), "float32")
    nan[2, 5] = np.nan
    np.save(root / "nan.npy", nan)
    np.savez(root / "inf.npz", z=np.full((3, 8), np.inf, "float32"))
    np.save(root / "empty.npy", np.zeros((0, 8), "float32"))
    archive = _archive(exports["wgan_gp"][1], str(root / "g.tar.gz"), "tar.gz")
    return {"plain": plain, "unsigned": unsigned, "z": str(root / "z.npy"),
            "url": f"file://{archive}", "root": str(root), "nan": str(root / "nan.npy"),
            "inf": str(root / "inf.npz"), "empty": str(root / "empty.npy")}


BAD_SAMPLE_INPUT = [
    (["--model_path={root}/nowhere"], "error: no such file or directory: {root}/nowhere"),
    (["--model_path={plain}"], "error: {plain} is not a ganzoo generator: no assets/ganzoo.json"),
    (["--model_path={unsigned}"],
     "error: {unsigned} is not a ganzoo generator: no 'serving_default' signature"),
    (["--model_path={wgan_gp}", "--latents={z}"],
     "error: bad latent of shape (4, 3) in {z}; accepted: shape (N, 8)"),
    (["--model_path={wgan_gp}", "--latents={nan}"],
     "error: bad latent in {nan}: z[2, 5] is nan (1 non-finite value(s)); accepted: finite numbers"),
    (["--model_path={wgan_gp}", "--latents={inf}"], "error: bad latent in {inf}: z[0, 0] is inf"),
    (["--model_path={wgan_gp}", "--latents={empty}"],
     "error: {empty} holds 0 latents; accepted: 1 to 10000"),
    (["--model_path={cgan}", "--label=12"], "error: label 12 is out of range; accepted: 0 to 9"),
    (["--model_path={cgan}", "--label=-1", "--interpolate"],
     "error: label -1 is out of range; accepted: 0 to 9"),
    (["--model_path={wgan_gp}", "--label=1"], "error: model 'wgan_gp-digits' is unconditional"),
    (["--model_path={url}", f"--sha256={'ab' * 32}", "--cache_dir={root}/cache"],
     "error: checksum mismatch for file://"),
    (["--model_path={url}", "--cache_dir={root}/cache"], "error: loading file://"),
    (["--pretrained=stylegan-faces"],
     "error: unknown pretrained model 'stylegan-faces'; accepted: " + ", ".join(PRETRAINED)),
    ([], ("error: pass exactly one of --workdir=RUN, --model_path=PATH and "
          "--pretrained=NAME")),
    (["--model_path={wgan_gp}", "--num_samples=0"],
     "error: bad num_samples=0; accepted: an integer from 1 to 10000"),
    (["--model_path={wgan_gp}", "--num_samples=100000000"],
     "error: bad num_samples=100000000; accepted: an integer from 1 to 10000"),
    (["--model_path={wgan_gp}", "--interpolate", "--rows=1000", "--frames=1000"],
     "error: bad rows=1000 x frames=1000: 1000000 samples; accepted: at most 10000"),
    (["--model_path={wgan_gp}", "--interpolate", "--frames=1"], "error: bad frames=1"),
    (["--model_path={wgan_gp}", "--num_samples=abc"], "error: flag --num_samples=abc"),
]


@pytest.mark.parametrize("argv, message", BAD_SAMPLE_INPUT)
def test_sample_cli_bad_input_gets_one_line(argv, message, exports, bad_exports, tmp_path,
                                            capsys):
    names = {**bad_exports, **{key: path for key, (_, path) in exports.items()}}
    argv = [a.format(**names) for a in argv] + [f"--out={tmp_path / 'x.png'}"]
    code, _, err = run_cli(sample.main, argv, capsys)
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith(message.format(**names)), err
    assert "Traceback" not in err[0]
    assert not os.path.exists(tmp_path / "x.png")


def test_export_cli_bad_input_gets_one_line(tmp_path, capsys):
    empty = tmp_path / "empty_run"
    empty.mkdir()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("keep me")
    cases = [
        ([f"--workdir={tmp_path / 'nope'}", f"--out={tmp_path / 'o'}"], "error: no such workdir"),
        ([f"--workdir={empty}", f"--out={tmp_path / 'o'}"], f"error: workdir {empty} has no checkpoint"),
        ([f"--workdir={empty}"], "error: missing --out"),
        ([f"--out={tmp_path / 'o'}"], "error: nothing to export"),
        ([f"--checkpoint={tmp_path / 'x.keras'}", f"--out={tmp_path / 'o'}"], "error: no such file"),
        ([f"--checkpoint={tmp_path / 'x.keras'}", f"--out={taken}"],
         f"error: {taken} exists and is not a ganzoo export"),
    ]
    for argv, message in cases:
        code, _, err = run_cli(export.main, argv, capsys)
        assert code == 2 and len(err) == 1 and err[0].startswith(message), (argv, err)
    assert (taken / "notes.txt").read_text() == "keep me"


def test_export_command_in_a_real_process_prints_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT}
    done = subprocess.run(
        [sys.executable, "-m", "ganzoo.export", f"--workdir={tmp_path / 'nope'}",
         f"--out={tmp_path / 'out'}"],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"error: no such workdir: {tmp_path / 'nope'}"]


def test_library_errors_are_one_line(exports, tmp_path):
    generator = ganzoo.load(exports["cgan"][1])
    (tmp_path / "notes.txt").write_text("not an export")
    cases = [
        (lambda: ganzoo.load("stylegan-faces"), "unknown pretrained model 'stylegan-faces'"),
        (lambda: ganzoo.load(str(tmp_path / "missing")), "no such file or directory"),
        (lambda: generator.generate(np.zeros((2, 5)), labels=[0, 1]), r"bad latent of shape \(2, 5\)"),
        (lambda: generator.sample(2, labels=[0, 10]), "label 10 is out of range"),
        (lambda: generator.sample(2), "is conditional; accepted: labels from 0 to 9"),
        (lambda: ganzoo.load("http://example.org/x.tar.gz", sha256="xyz"), "bad sha256"),
        (lambda: ganzoo.load("http://example.org/x.bin", sha256="a" * 64), "archive of an export"),
        (lambda: savedmodel.export_generator(exports["cgan"][0], str(tmp_path)),
         "exists and is not a ganzoo export"),
    ]
    for call, message in cases:
        with pytest.raises(GanzooError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


# -- 6. atomic writes ---------------------------------------------------------------------------


def _interrupt_save(monkeypatch):
    real_save = tf.saved_model.save

    def interrupted(obj, directory, **kwargs):
        real_save(obj, directory, **kwargs)
        with open(os.path.join(directory, "saved_model.pb"), "r+b") as f:
            f.truncate(100)  # half-written
        raise KeyboardInterrupt

    monkeypatch.setattr(tf.saved_model, "save", interrupted)


def test_interrupted_export_keeps_the_old_one(tmp_path, monkeypatch):
    old_model, new_model = make_model("dcgan", seed=1), make_model("dcgan", seed=2)
    path = str(tmp_path / "g")
    savedmodel.export_generator(old_model, path, {"name": "old"})
    before = ganzoo.load(path).sample(3, seed=0)
    _interrupt_save(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        savedmodel.export_generator(new_model, path, {"name": "new"})
    generator = ganzoo.load(path)
    assert generator.name == "old"
    np.testing.assert_array_equal(generator.sample(3, seed=0), before)
    assert os.listdir(tmp_path) == ["g"]
    with pytest.raises(KeyboardInterrupt):
        savedmodel.export_generator(new_model, str(tmp_path / "fresh"))
    assert os.listdir(tmp_path) == ["g"]


def test_failed_swap_puts_the_old_export_back(tmp_path, monkeypatch):
    path = str(tmp_path / "g")
    savedmodel.export_generator(make_model("vanilla"), path, {"name": "old"})
    real_rename = os.rename

    def rename(src, dst):
        if os.path.basename(src).startswith(".g.tmp-"):
            raise OSError(28, "No space left on device")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(GanzooError, match="cannot write export .*No space left on device"):
        savedmodel.export_generator(make_model("vanilla", seed=5), path, {"name": "new"})
    assert ganzoo.load(path).name == "old" and os.listdir(tmp_path) == ["g"]


def test_successful_export_replaces_and_leaves_no_temporaries(tmp_path):
    path = str(tmp_path / "g")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".g.tmp-{dead.pid}-abc"  # left by an export that was killed
    stale.mkdir()
    savedmodel.export_generator(make_model("vanilla", seed=1), path, {"name": "first"})
    savedmodel.export_generator(make_model("vanilla", seed=2), path, {"name": "second"})
    assert os.listdir(tmp_path) == ["g"]
    assert ganzoo.load(path).name == "second"
    assert oct(os.stat(path).st_mode & 0o777) != oct(0o700)
    # Killed between renaming the old export aside and the new one in: it comes back.
    os.rename(path, tmp_path / f".g.old-{dead.pid}-xyz")
    fileio.remove_stale(path)
    assert os.listdir(tmp_path) == ["g"] and ganzoo.load(path).name == "second"


# -- 7. metadata -------------------------------------------------------------------------------


def test_workdir_export_metadata_round_trip(tmp_path, capsys):
    config = TrainConfig(model="cgan", dataset="digits", steps=2, batch_size=16,
                         steps_per_epoch=2, jit_compile=False, hparams=tiny_hparams("cgan"))
    result = train.train(config, str(tmp_path / "run"), verbose=0)
    out = str(tmp_path / "exported")
    code, stdout, err = run_cli(export.main, [f"--workdir={result.workdir}", f"--out={out}"], capsys)
    assert code == 0, err
    assert stdout.startswith(f"exported the cgan generator (step 2) from {result.workdir}")
    meta = savedmodel.read_metadata(out)
    with open(os.path.join(result.workdir, "config.json")) as f:
        assert meta["train_config"] == json.load(f)
    assert meta["model_config"] == json.loads(json.dumps(result.model.get_config()))
    assert meta["ganzoo_version"] == ganzoo.__version__
    assert (meta["model"], meta["dataset"], meta["name"]) == ("cgan", "digits", "cgan-digits")
    assert (meta["data_shape"], meta["latent_dim"], meta["steps"]) == ([8, 8, 1], 8, 2)
    assert meta["num_classes"] == 10 and meta["class_names"] == [str(i) for i in range(10)]
    assert meta["evaluation"] == {}
    generator = ganzoo.load(out)
    assert generator.metadata == meta and generator.steps == 2
    np.testing.assert_allclose(generator.sample(4, seed=0, labels=2),
                               result.model.sample(4, labels=2, seed=0), atol=1e-6)

    savedmodel.write_model_card(out)
    new = savedmodel.update_metadata(out, evaluation={"fid": 12.5, "label_accuracy": 0.9})
    assert new == {**meta, "evaluation": {"fid": 12.5, "label_accuracy": 0.9}}
    assert savedmodel.read_metadata(out) == new
    assert os.listdir(os.path.join(out, "assets")) == ["ganzoo.json"]
    assert "- fid: 12.5" in read_text(os.path.join(out, "MODEL_CARD.md"))
    # Metric columns keep evaluate's order, not the sorted order ganzoo.json stores.
    scored = {"metrics": {"recall": 0.5, "fid": 3.0, "zeta": 1.0, "kid": 2.0}, "stamp": {}}
    savedmodel.update_metadata(out, evaluation={"digits/digits": scored})
    assert "| fid | kid | recall | zeta |" in read_text(os.path.join(out, "MODEL_CARD.md"))
    with pytest.raises(GanzooError, match="is not a ganzoo generator: no assets/ganzoo.json"):
        savedmodel.update_metadata(str(tmp_path / "run"), evaluation={})


# -- sampling command --------------------------------------------------------------------------


def test_sample_cli_writes_grids_strips_and_npz(exports, tmp_path, capsys):
    cgan = exports["cgan"][1]
    png, npz = str(tmp_path / "grid.png"), str(tmp_path / "x.npz")
    code, out, err = run_cli(sample.main, [f"--model_path={cgan}", "--num_samples=20",
                                           f"--out={png}", f"--npz={npz}"], capsys)
    assert code == 0, err
    assert out.startswith(f"wrote 20 samples of cgan-digits to {png}")
    grid = tf.io.decode_png(tf.io.read_file(png)).numpy()
    cell = 32 + 1  # 8x8 upscaled to 32, plus padding
    assert ((grid.shape[0] - 1) // cell, (grid.shape[1] - 1) // cell) == (10, 2)  # a row per class
    with np.load(npz) as saved:
        x, z, y = saved["x"], saved["z"], saved["y"]
    assert x.shape == (20, 8, 8, 1) and z.shape == (20, 8) and y.tolist() == sorted(y.tolist())
    # --latents reproduces the samples from the saved latents and labels.
    again = str(tmp_path / "again.npz")
    assert sample.main([f"--model_path={cgan}", f"--latents={npz}", f"--npz={again}",
                        f"--out={tmp_path / 'again.png'}"]) == 0
    with np.load(again) as saved:
        np.testing.assert_array_equal(saved["x"], x)

    strip = str(tmp_path / "strip.png")
    assert sample.main([f"--model_path={exports['wgan_gp'][1]}", "--interpolate", "--rows=3",
                        "--frames=9", f"--out={strip}", "--seed=4"]) == 0
    image = tf.io.decode_png(tf.io.read_file(strip)).numpy()
    assert ((image.shape[0] - 1) // cell, (image.shape[1] - 1) // cell) == (3, 9)
    points = str(tmp_path / "points.png")
    assert sample.main([f"--model_path={exports['vanilla-points'][1]}", "--num_samples=50",
                        f"--out={points}"]) == 0
    assert tf.io.decode_png(tf.io.read_file(points)).shape[-1] == 3


def test_interpolation_rows_run_between_their_ends(exports):
    generator = ganzoo.load(exports["cgan"][1])
    x, labels, z, columns = sample.interpolation(generator, rows=2, frames=5, seed=1)
    ends = generator.latents(4, seed=1)
    np.testing.assert_allclose(z.reshape(2, 5, -1)[:, 0], ends[:2], atol=1e-5)
    np.testing.assert_allclose(z.reshape(2, 5, -1)[:, -1], ends[2:], atol=1e-5)
    assert labels.tolist() == [0] * 5 + [1] * 5 and columns == 5 and x.shape == (10, 8, 8, 1)
    a, b = np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]])
    np.testing.assert_allclose(sample.slerp(a, b, [0.5])[0, 0], [np.sqrt(0.5), np.sqrt(2.0)],
                               atol=1e-6)
    np.testing.assert_allclose(sample.slerp(a, 2 * a, [0.5])[0, 0], [1.5, 0.0])


def test_sampling_at_bfloat16_precision_matches_float32_closely(capsys, tmp_path):
    generator = ganzoo.load("dcgan-digits")
    full = generator.sample(32, seed=0)
    half = generator.at_precision("mixed_bfloat16").sample(32, seed=0)
    assert half.dtype == np.float32 and half.shape == full.shape
    difference = np.abs(full - half).max()
    assert 0 < difference < 0.05  # really computed in bf16, and still the same images
    out = tmp_path / "bf16.png"
    assert sample.main(["--pretrained=dcgan-digits", "--precision=mixed_bfloat16", f"--out={out}"]) == 0
    assert out.exists()
    assert sample.main(["--pretrained=dcgan-digits", "--precision=fp8", f"--out={out}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "error: unknown precision 'fp8'; accepted: float32, mixed_bfloat16, mixed_float16"
