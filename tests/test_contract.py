"""The extraction contract (CLI, evaluator and service) against its JSON schema."""

import json
from pathlib import Path

import jsonschema
import pytest

from chitieu.annotate.corpus import load_corpus
from chitieu.extract.extractor import Extractor
from chitieu.paths import annotations_dir
from chitieu.serve.schemas import ExtractResponse
from tests.fakes import TEXT, LexiconAdapter, LexiconRunner


def fake_extractor() -> Extractor:
    meta = {"name": "fake", "version": "1", "base": {"name": "lexicon"}}
    return Extractor(LexiconAdapter(), LexiconRunner(), meta, max_tokens=32, overlap_tokens=4)


SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "contract" / "extraction.schema.json").read_text())


def check(result: dict, text: str) -> None:
    jsonschema.validate(result, SCHEMA)
    ExtractResponse.model_validate(result)
    for e in result["entities"]:
        assert text[e["start"] : e["end"]] == e["text"]
    for t in result["targets"]:
        assert text[t["value"]["start"] : t["value"]["end"]] == t["value"]["text"]
        if t["indicator"]:
            assert text[t["indicator"]["start"] : t["indicator"]["end"]] == t["indicator"]["text"]
        if t["value"]["comparator"] == "range":
            assert t["value"]["number"] is None and t["value"]["min"] <= t["value"]["max"]


def test_fake_pipeline_output_follows_the_schema():
    result = fake_extractor().extract(TEXT, "doc-1")
    check(result, TEXT)
    assert result["targets"], "the fake lexicon yields one target"


def test_schema_rejects_a_result_missing_a_field():
    result = fake_extractor().extract(TEXT, "doc-1")
    del result["targets"][0]["sentence"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(result, SCHEMA)


def test_default_model_output_on_the_seeds_follows_the_schema(default_model_dir):
    extractor = Extractor.load(default_model_dir, device="cpu")
    seeds = [d for d in load_corpus(annotations_dir()) if d.id.startswith("seed-")]
    for doc, result in zip(seeds, extractor.extract_many([(d.id, d.text) for d in seeds])):
        check(result, doc.text)


def test_the_ablation_scores_the_model_with_each_component_off_from_one_tagger_run(tmp_path):
    from chitieu.annotate.corpus import Document, Span
    from chitieu.evaluate.cli import ablation_systems
    from chitieu.extract.stages import COMPONENTS

    extractor = fake_extractor()
    full = extractor.extract(TEXT, "d")
    gold = Document(id="d", text=TEXT, spans=[Span(start=e["start"], end=e["end"], label=e["label"]) for e in full["entities"]])
    calls = []
    runner = extractor.runner
    extractor.runner = lambda windows: calls.append(len(windows)) or runner(windows)
    systems = ablation_systems(extractor, tmp_path, [gold])
    assert len(calls) == 1, "the tagger runs once for every variant"
    assert [s["name"].split(" ", 1)[1] for s in systems] == [*(f"- {c}" for c in COMPONENTS), "tagger alone"]
    assert all(s["kind"] == "ablation" for s in systems)
    assert max(s["metrics"]["strict"]["micro"]["f1"] for s in systems) == 1.0
