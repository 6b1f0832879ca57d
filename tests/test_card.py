"""Model cards (ganzoo/savedmodel/card.py): Hugging Face-style front matter, intended
use and limitations, on every card the writer renders and every shipped card."""

import json
import os

import pytest

from ganzoo import hub, savedmodel
from ganzoo.savedmodel import card

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = hub.list_pretrained()
REGENERATE = ('python -c "from ganzoo import hub, savedmodel; [savedmodel.write_model_card('
              'hub.pretrained_path(n)) for n in hub.list_pretrained()]"')


def parse_front_matter(text):
    """The YAML front matter the card writer emits, read back: block mappings and
    lists by indentation, each value a JSON scalar or a JSON flow mapping."""
    assert text.startswith("---\n"), text[:80]
    lines = text[4:].split("\n---\n", 1)[0].splitlines()

    def block(start, indent):
        items, is_list, i = None, None, start
        while i < len(lines) and len(lines[i]) - len(lines[i].lstrip()) >= indent:
            line = lines[i][indent:]
            if line.startswith("- "):
                items, is_list = items if is_list else [], True
                # A "- key: value" item is a mapping whose keys sit at indent + 2.
                if ":" in line and not line[2:].startswith(('"', "{", "[")):
                    lines[i] = " " * (indent + 2) + line[2:]
                    value, i = block(i, indent + 2)
                else:
                    value, i = json.loads(line[2:]), i + 1
                items.append(value)
                continue
            key, _, rest = line.partition(":")
            items, is_list = items if is_list is False else {}, False
            if rest.strip():
                items[key], i = json.loads(rest.strip()), i + 1
            else:
                items[key], i = block(i + 1, indent + 2)
        return items, i

    return block(0, 0)[0]


def check_card(text, meta):
    fields = parse_front_matter(text)
    assert fields["license"] == "apache-2.0" and fields["library_name"] == "ganzoo"
    assert "gan" in fields["tags"] and meta["model"] in fields["tags"]
    assert fields["datasets"] == [meta["dataset"]]
    evaluated = [r for r in (meta.get("evaluation") or {}).values() if "metrics" in r]
    assert bool(evaluated) == bool(fields["metrics"])
    for result in fields.get("model-index", [{}])[0].get("results", []):
        for metric in result["metrics"]:
            assert metric["type"] in fields["metrics"]
            if metric["type"] == "fid":  # an FID says which network's features it is in
                extractor = metric["args"]["extractor"]
                assert f"({extractor} extractor)" in metric["name"]
    body = text.split("\n---\n", 1)[1]
    for section in ("## Intended use", "## Limitations"):
        assert f"\n{section}\n" in body
    return fields


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_card_has_front_matter_use_and_limits_and_is_up_to_date(name):
    path = hub.pretrained_path(name)
    meta = savedmodel.read_metadata(path)
    with open(os.path.join(path, savedmodel.MODEL_CARD_FILE), encoding="utf-8") as f:
        text = f.read()
    fields = check_card(text, meta)
    if "fid" in fields["metrics"]:
        assert "comparable only with FIDs from the same extractor" in text  # not paper FIDs
    assert text == savedmodel.render_model_card(meta), f"stale card; regenerate: {REGENERATE}"


def test_fid_cards_say_which_fids_compare_with_papers():
    meta = savedmodel.read_metadata(hub.pretrained_path("dcgan-digits"))
    result = next(iter(meta["evaluation"].values()))
    for extractor, says in (("inception", "not a paper FID"),
                            ("fid_inception", "comparable with papers' FIDs")):
        stamp = {**result["stamp"], "extractor": extractor}
        meta["evaluation"] = {f"digits/{extractor}": {**result, "stamp": stamp}}
        text = savedmodel.render_model_card(meta)
        fields = check_card(text, meta)
        (entry,) = [m for m in fields["model-index"][0]["results"][0]["metrics"]
                    if m["type"] == "fid"]
        assert entry["args"]["extractor"] == extractor and says in text


def test_an_unevaluated_card_has_front_matter_without_metrics():
    meta = savedmodel.read_metadata(hub.pretrained_path("cgan-digits"))
    meta["evaluation"] = {}
    fields = check_card(savedmodel.render_model_card(meta), meta)
    assert fields["metrics"] == [] and "model-index" not in fields
    assert "conditional" in fields["tags"]


def test_yaml_writer_quotes_what_yaml_would_misread():
    lines = card._yaml({"a": ["yes", "1.0", "x: y", None, True, 3], "b": {"c": "#"}})
    assert lines == ['a:', '  - "yes"', '  - "1.0"', '  - "x: y"', "  - null", "  - true",
                     "  - 3", 'b: {"c": "#"}']


def test_license_is_the_apache_2_text():
    with open(os.path.join(ROOT, "LICENSE"), encoding="utf-8") as f:
        text = f.read()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) > 190
