"""README.md is for users: short, no measurement history, and its links resolve."""

import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..")
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as _f:
    README = _f.read()

CPU_NAMES = r"\b(EPYC|Xeon|Ryzen|Threadripper|Opteron|Graviton|Core i[3579]|Apple M[1-9])\b"


def test_at_most_400_lines():
    assert README.count("\n") <= 400


def test_no_dates_cpu_names_or_commit_hashes():
    text = README
    assert not re.findall(r"\b(19|20)\d\d-\d\d-\d\d\b", text)
    assert not re.findall(CPU_NAMES, text)
    hexes = [w for w in re.findall(r"\b[0-9a-f]{7,40}\b", text)
             if re.search(r"[0-9]", w) and re.search(r"[a-f]", w)]
    assert not hexes, hexes


def test_local_links_resolve():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" not in target:
            assert os.path.exists(os.path.join(ROOT, target)), target


def test_the_checks_catch_what_they_look_for():
    assert re.findall(CPU_NAMES, "a 2-core AMD EPYC")
    assert re.findall(r"\b(19|20)\d\d-\d\d-\d\d\b", "on 2026-12-08")
