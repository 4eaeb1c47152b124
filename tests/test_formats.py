"""Import/export round trips for Label Studio, doccano and CoNLL, and real export samples."""

import json
from pathlib import Path

import pytest

from chitieu.corpus import Document, Span, load_corpus
from chitieu.formats import conll, doccano, labelstudio
from chitieu.formats.common import codepoint_to_utf16, utf16_to_codepoint
from chitieu.paths import annotations_dir
from chitieu.text import Token, split_words

FIXTURES = Path(__file__).parent / "fixtures" / "formats"


def spans_of(docs):
    return {d.id: [(s.start, s.end, s.label) for s in d.spans] for d in docs}


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(annotations_dir())


def test_labelstudio_sample_export_imports_latest_kept_annotation_and_utf16_offsets():
    docs, report = labelstudio.import_tasks(FIXTURES / "labelstudio_export.json")
    assert report.problems == []
    first, second = docs
    assert [(s.text, s.label) for s in first.spans] == [
        ("Bến Tre", "PROVINCE"), ("tăng trưởng GRDP", "INDICATOR"), ("từ 9,3% trở lên", "TARGET_VALUE")
    ]
    # The second task's text starts with an emoji: Label Studio counted UTF-16 units.
    assert [(s.text, s.label) for s in second.spans] == [
        ("Long An", "PROVINCE"), ("thu ngân sách", "INDICATOR"), ("34.000 tỷ đồng", "TARGET_VALUE")
    ]
    assert second.spans[0].start == 2


def test_labelstudio_explicit_codepoint_mode_reports_regions_it_cannot_place(tmp_path):
    tasks = json.loads((FIXTURES / "labelstudio_export.json").read_text())
    tasks[1]["annotations"][0]["result"][0]["value"]["text"] = "Long Ab"
    path = tmp_path / "t.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False))
    docs, report = labelstudio.import_tasks(path)
    assert len(report.problems) == 1 and "Long Ab" in report.problems[0]
    assert len(docs[1].spans) == 2


def test_utf16_conversions_are_inverse():
    text = "a🎉b𝔘c"
    for i in range(len(text) + 1):
        assert utf16_to_codepoint(text, codepoint_to_utf16(text, i)) == i


def test_doccano_samples_in_both_forms():
    (label_doc,), _ = doccano.import_lines(FIXTURES / "doccano_label.jsonl")
    assert [(s.text, s.label) for s in label_doc.spans] == [
        ("Trà Vinh", "PROVINCE"), ("Lê Văn Hẳn", "OFFICIAL"), ("520 doanh nghiệp", "TARGET_VALUE")
    ]
    assert label_doc.id == "7" and label_doc.meta["Comments"] == []
    (entity_doc,), _ = doccano.import_lines(FIXTURES / "doccano_entities.jsonl")
    assert [s.text for s in entity_doc.spans] == ["Long An", "tăng trưởng GRDP", "từ 8 - 8,5%"]


def test_labelstudio_round_trip_keeps_every_span(corpus, tmp_path):
    for utf16 in (False, True):
        path = tmp_path / "ls.json"
        path.write_text(json.dumps(labelstudio.export_tasks(corpus, utf16=utf16), ensure_ascii=False))
        back, report = labelstudio.import_tasks(path, offsets="utf16" if utf16 else "codepoint")
        assert report.problems == []
        assert spans_of(back) == spans_of(corpus)
        assert [d.text for d in back] == [d.text for d in corpus]


@pytest.mark.parametrize("form", ["label", "entities"])
def test_doccano_round_trip_keeps_every_span(corpus, tmp_path, form):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(l, ensure_ascii=False) + "\n" for l in doccano.export_lines(corpus, form)))
    back, _ = doccano.import_lines(path)
    assert spans_of(back) == spans_of(corpus)
    assert [d.meta for d in back] == [d.meta for d in corpus]


def test_conll_round_trip_keeps_aligned_spans_and_counts_the_rest(corpus):
    sample = corpus[:6]
    content, report = conll.export_documents(sample)
    back, _ = conll.import_text(content)
    assert [d.text for d in back] == [d.text for d in sample]
    lost = sum(len(set(spans_of([a])[a.id]) - set(spans_of([b])[b.id])) for a, b in zip(sample, back))
    assert lost == len(report.problems)
    assert report.spans == sum(len(d.spans) for d in sample)


def test_conll_reports_a_span_inside_a_token():
    doc = Document(id="x", text="Bến Tre đạt 9,3%.", spans=[Span(start=0, end=3, label="PROVINCE")])
    def words(text):  # a segmenter that keeps "Bến Tre" as one token
        return [Token(0, 7, "Bến Tre")] + [w for w in split_words(text) if w.start >= 7]

    content, report = conll.export_documents([doc], words=words)
    assert len(report.problems) == 1 and "does not fall on token boundaries" in report.problems[0]


def test_conll_without_text_comment_rebuilds_text_from_tokens():
    content = "-DOCSTART- O\n\ntỉnh O\nBình_Định B-PROVINCE\nGRDP B-INDICATOR\n8 B-TARGET_VALUE\n% I-TARGET_VALUE\n"
    (doc,), _ = conll.import_text(content)
    assert doc.text == "tỉnh Bình Định GRDP 8 %"
    assert [(s.text, s.label) for s in doc.spans] == [("Bình Định", "PROVINCE"), ("GRDP", "INDICATOR"), ("8 %", "TARGET_VALUE")]


def test_decomposed_imports_are_normalised_with_their_spans(tmp_path):
    import unicodedata

    text = unicodedata.normalize("NFD", "Tỉnh Bến Tre đạt 9,3%")
    start = text.index("B")
    end = start + len(unicodedata.normalize("NFD", "Bến Tre"))
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": 1, "text": text, "label": [[start, end, "PROVINCE"]]}, ensure_ascii=False) + "\n")
    (doc,), _ = doccano.import_lines(path)
    assert doc.text == "Tỉnh Bến Tre đạt 9,3%"
    assert [(s.text, s.start, s.end) for s in doc.spans] == [("Bến Tre", 5, 12)]
