"""Import/export round trips for Label Studio, doccano and CoNLL, and real export samples."""

import json
from pathlib import Path

import pytest

from chitieu.annotate.corpus import Document, Span, load_corpus
from chitieu.annotate.formats import conll, doccano, labelstudio
from chitieu.annotate.formats.common import ImportFormatError, codepoint_to_utf16, utf16_to_codepoint
from chitieu.annotate.label_config import parse_label_config
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
    # Code-point offsets on every 4th document, UTF-16 offsets (where astral characters
    # shift them) on the whole corpus: the round trip of both took 6-8 s on the whole corpus.
    for utf16 in (False, True):
        docs = corpus if utf16 else corpus[::4]
        path = tmp_path / "ls.json"
        path.write_text(json.dumps(labelstudio.export_tasks(docs, utf16=utf16), ensure_ascii=False))
        back, report = labelstudio.import_tasks(path, offsets="utf16" if utf16 else "codepoint")
        assert report.problems == []
        assert spans_of(back) == spans_of(docs)
        assert [d.text for d in back] == [d.text for d in docs]


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


# --- Label Studio exports as users produce them ------------------------------------------

TEXT = "UBND tỉnh Bến Tre họp mặt. Bí thư đề nghị đạt tăng trưởng GRDP từ 9,3% trở lên."


def _region(text, piece, label, from_name="label", to_name="text"):
    start = text.index(piece)
    value = {"start": start, "end": start + len(piece), "text": piece, "labels": [label]}
    return {"from_name": from_name, "to_name": to_name, "type": "labels", "value": value}


def _annotation(ann_id, result, updated, **flags):
    return {"id": ann_id, "completed_by": 1, "result": result, "was_cancelled": False, "ground_truth": False,
            "created_at": updated, "updated_at": updated, **flags}


def _write_tasks(tmp_path, tasks):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path


def test_labelstudio_tasks_without_a_kept_annotation_are_skipped_and_counted(tmp_path):
    province = [_region(TEXT, "Bến Tre", "PROVINCE")]
    tasks = [
        {"id": 1, "data": {"text": TEXT, "doc_id": "kept"}, "annotations": [_annotation(11, province, "2024-01-01")]},
        {"id": 2, "data": {"text": TEXT}, "annotations": []},  # a "download all tasks" export
        {"id": 3, "data": {"text": TEXT}},
        {"id": 4, "data": {"text": TEXT}, "annotations": [_annotation(12, [], "2024-01-02", was_cancelled=True)]},
        {"id": 5, "data": {"text": TEXT, "doc_id": "none-here"}, "annotations": [_annotation(13, [], "2024-01-03")]},
        {"id": 6, "data": {"body": TEXT}, "annotations": [_annotation(14, province, "2024-01-04")]},
    ]
    docs, report = labelstudio.import_tasks(_write_tasks(tmp_path, tasks))
    # A submitted annotation with no region is gold (a document holding none); no annotation is not.
    assert [(d.id, len(d.spans)) for d in docs] == [("kept", 1), ("none-here", 0)]
    assert [(s.where, s.reason) for s in report.skipped] == [
        ("task 2 (ls-2)", "with no annotation"),
        ("task 3 (ls-3)", "with no annotation"),
        ("task 4 (ls-4)", "with only cancelled (skipped) annotations"),
        ("task 6", "with no text in data.text"),
    ]
    summary = report.summary()
    assert "2 documents, 1 spans (1 documents annotated with no span)" in summary
    assert "4 tasks skipped (2 with no annotation, 1 with only cancelled (skipped) annotations, 1 with no text in data.text)" in summary


def test_labelstudio_several_annotations_keep_ground_truth_then_latest_and_report_the_rest(tmp_path):
    older_truth = _annotation(21, [_region(TEXT, "Bến Tre", "PROVINCE")], "2024-01-01", ground_truth=True)
    newer = _annotation(22, [_region(TEXT, "tăng trưởng GRDP", "INDICATOR")], "2024-02-01")
    newest_cancelled = _annotation(23, [], "2024-03-01", was_cancelled=True)
    path = _write_tasks(tmp_path, [{"id": 7, "data": {"text": TEXT}, "annotations": [newer, older_truth, newest_cancelled]}])

    (doc,), report = labelstudio.import_tasks(path)
    assert [s.label for s in doc.spans] == ["PROVINCE"]
    (line,) = report.dropped
    assert "kept annotation 21" in line and "ground truth" in line and "dropped 22" in line and "23" not in line
    assert "1 tasks had several annotations" in report.summary()

    (doc,), report = labelstudio.import_tasks(path, rule="latest")
    assert [s.label for s in doc.spans] == ["INDICATOR"]
    assert "kept annotation 22" in report.dropped[0] and "by the latest rule" in report.dropped[0]


def test_labelstudio_json_min_export_is_refused_saying_which_export_to_use(tmp_path):
    json_min = [{"text": TEXT, "id": 1, "label": [{"start": 10, "end": 17, "text": "Bến Tre", "labels": ["PROVINCE"]}],
                 "annotator": 1, "annotation_id": 11, "created_at": "x", "updated_at": "x", "lead_time": 2.0}]
    with pytest.raises(ImportFormatError, match="export JSON, not JSON_MIN"):
        labelstudio.import_tasks(_write_tasks(tmp_path, json_min))
    with pytest.raises(ImportFormatError, match="export JSON"):
        labelstudio.import_tasks(_write_tasks(tmp_path, [{"text": TEXT}]))


def test_labelstudio_import_reads_a_projects_own_names_back_with_its_config(tmp_path):
    config = ('<View><Text name="doc" value="$content"/><Labels name="ner" toName="doc">'
              '<Label value="Province"/><Label value="Giá trị" alias="TARGET_VALUE"/></Labels></View>')
    result = [_region(TEXT, "Bến Tre", "Province", "ner", "doc"), _region(TEXT, "từ 9,3% trở lên", "Giá trị", "ner", "doc")]
    path = _write_tasks(tmp_path, [{"id": 8, "data": {"content": TEXT}, "annotations": [_annotation(31, result, "2024-01-01")]}])
    (doc,), _ = labelstudio.import_tasks(path, mapping=parse_label_config(config))
    assert [(s.text, s.label) for s in doc.spans] == [("Bến Tre", "PROVINCE"), ("từ 9,3% trở lên", "TARGET_VALUE")]


def test_label_studio_conll2003_export_is_refused_saying_which_export_to_use():
    # What Label Studio 1.2x writes: one -DOCSTART- for all tasks, Treebank tokens, `-X- _` columns.
    content = "-DOCSTART- -X- O\nUBND -X- _ O\ntỉnh -X- _ O\nBến -X- _ B-PROVINCE\nTre -X- _ I-PROVINCE\n\n"
    with pytest.raises(ImportFormatError, match="export JSON from Label Studio instead"):
        conll.import_text(content)
    with pytest.raises(ImportFormatError, match="CONLL2003 export"):
        conll.import_text("Bến -X- _ B-PROVINCE\nTre -X- _ I-PROVINCE\n")


def test_conll_with_more_columns_reads_the_token_first_and_the_tag_last():
    content = "-DOCSTART- O\n\ntỉnh NN B-NP O\nBình_Định NNP I-NP B-PROVINCE\nđạt VB B-VP O\n"
    (doc,), _ = conll.import_text(content)
    assert doc.text == "tỉnh Bình Định đạt"
    assert [(s.text, s.label) for s in doc.spans] == [("Bình Định", "PROVINCE")]
