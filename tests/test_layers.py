"""The package's structure: its layer contract, and the rules that keep it simple."""

import ast
import configparser
import os
import pkgutil
import re
import shutil
import subprocess
import sys

import ganzoo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "ganzoo")


def _sources():
    for directory, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as f:
                    yield os.path.relpath(path, ROOT), ast.parse(f.read())


def test_import_linter_contracts_are_kept():
    beside_python = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    command = beside_python if os.path.exists(beside_python) else shutil.which("lint-imports")
    assert command, "lint-imports is missing: pip install -e '.[test]'"
    done = subprocess.run([command, "--no-cache"], check=False, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_module_has_a_layer():
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, "setup.cfg"))
    layered = set(re.findall(r"ganzoo\.(\w+)", config["importlinter:contract:layers"]["layers"]))
    modules = {m.name for m in pkgutil.iter_modules(ganzoo.__path__)}
    assert modules == layered


def test_metrics_import_no_tensorflow():
    code = "import ganzoo.metrics, sys; assert 'tensorflow' not in sys.modules, 'tensorflow loaded'"
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_no_ganzoo_import_inside_a_function():
    # An import inside a function is how a cycle hides; the layers make them needless.
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    names = []
                    if isinstance(inner, ast.Import):
                        names = [alias.name for alias in inner.names]
                    elif isinstance(inner, ast.ImportFrom) and inner.level == 0:
                        names = [inner.module or ""]
                    found += [f"{path}:{inner.lineno} {n}" for n in names if n.split(".")[0] == "ganzoo"]
    assert not found, found


def test_only_fileio_renames_files():
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr in ("replace", "rename")
                    and isinstance(node.value, ast.Name) and node.value.id == "os"):
                found.append(f"{path}:{node.lineno} os.{node.attr}")
    assert found and all(item.startswith(os.path.join("ganzoo", "fileio.py")) for item in found), found
