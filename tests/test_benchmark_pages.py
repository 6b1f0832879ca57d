"""docs/benchmarks pages are made from their results files, never typed by hand."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import benchmark_pages


def test_every_committed_page_is_what_its_results_file_makes():
    pages = benchmark_pages.pages()
    assert pages, "no results files"
    for path, text in pages.items():
        assert os.path.exists(path), f"{path} is missing: run python tools/benchmark_pages.py"
        with open(path) as f:
            assert f.read() == text, f"{path} differs from its results file: run python tools/benchmark_pages.py"


def test_a_changed_figure_changes_the_page():
    name = min(os.listdir(benchmark_pages.RESULTS_DIR))[: -len(".json")]
    with open(os.path.join(benchmark_pages.RESULTS_DIR, f"{name}.json")) as f:
        results = json.load(f)
    before = benchmark_pages.render(results, name)
    row = results["tables"][0]["rows"][0]
    index = next(i for i, v in enumerate(row) if isinstance(v, (int, float)))
    row[index] = row[index] + 1
    assert benchmark_pages.render(results, name) != before


def test_a_results_file_without_its_machine_is_refused():
    with pytest.raises(ValueError, match="machine"):
        benchmark_pages.render({"title": "t", "summary": "s", "protocol": "p", "command": "c",
                                "date": "d", "commit": "c", "tables": []}, "x")
