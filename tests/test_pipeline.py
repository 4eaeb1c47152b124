"""Each stage with a fake of the one before it."""

import numpy as np

from chitieu.extract.decode import decode, word_probabilities
from chitieu.extract.map_back import map_back
from chitieu.extract.prepare import prepare
from chitieu.extract.run import batches
from chitieu.labels import TAG2ID
from tests.fakes import LexiconAdapter

TEXT = "Tỉnh Bến Tre phấn đấu tăng trưởng GRDP từ 9,3% trở lên. " * 30


def one_hot_runner(tag_for_word):
    """A fake model stage: for each window position, certainty on the tag of its word."""

    def run(prepared):
        out = []
        for w in prepared.windows:
            p = np.full((len(w.input_ids), len(TAG2ID)), 0.0, dtype=np.float32)
            for pos, word in enumerate(w.word_ids):
                p[pos, TAG2ID[tag_for_word(prepared, word) if word >= 0 else "O"]] = 1.0
            out.append(p)
        return out

    return run


def gold_tag(prepared, word):
    text = prepared.words[word].text
    if text == "Bến":
        return "B-PROVINCE"
    if text == "Tre":
        return "I-PROVINCE"
    return "O"


def test_prepare_windows_long_text_and_keeps_offsets():
    prepared = prepare(TEXT, LexiconAdapter(max_tokens=40), max_tokens=40, overlap_tokens=8)
    assert len(prepared.windows) > 3
    assert all(prepared.text[w.start : w.end] == w.text for w in prepared.words)


def test_decode_merges_windows_into_whole_entities_once():
    prepared = prepare(TEXT, LexiconAdapter(max_tokens=40), max_tokens=40, overlap_tokens=8)
    entities = decode(prepared, one_hot_runner(gold_tag)(prepared))
    assert [e.text for e in entities] == ["Bến Tre"] * 30
    assert all(TEXT[e.start : e.end] == "Bến Tre" and e.score == 1.0 for e in entities)


def test_decode_reads_each_word_from_its_better_placed_window():
    prepared = prepare(TEXT, LexiconAdapter(max_tokens=40), max_tokens=40, overlap_tokens=8)
    probs = one_hot_runner(gold_tag)(prepared)
    # Corrupt every position that sits on a window edge: the better-placed copy must win.
    for w, p in zip(prepared.windows, probs):
        for pos, word in enumerate(w.word_ids):
            if word >= 0 and word in (w.first_word, w.last_word) and word not in (0, len(prepared.words) - 1):
                p[pos] = 0
                p[pos, TAG2ID["B-OFFICIAL"]] = 1.0
    assert all(e.label == "PROVINCE" for e in decode(prepared, probs))


def test_decode_trims_edge_punctuation_and_maps_nfc_offsets_back():
    decomposed = "Tre\u0302\u0300n, (Be\u0302\u0301n Tre)"
    prepared = prepare(decomposed, LexiconAdapter(max_tokens=64), max_tokens=64, overlap_tokens=4)
    words = [w.text for w in prepared.words]
    tags = {"(": "B-PROVINCE", "Bến": "I-PROVINCE", "Tre": "I-PROVINCE", ")": "I-PROVINCE"}

    def tag(prepared, word):
        return tags.get(words[word], "O") if word > 1 else "O"

    (entity,) = decode(prepared, one_hot_runner(tag)(prepared))
    assert entity.text == prepared.text[entity.start : entity.end] == "Bến Tre"
    (back,), _ = map_back(prepared, [entity], [])
    assert back.text == decomposed[back.start : back.end] == "Be\u0302\u0301n Tre"


def test_batches_pad_and_mask():
    prepared = prepare("a b c. " * 50, LexiconAdapter(max_tokens=20), max_tokens=20, overlap_tokens=4)
    (ids, mask), *_ = batches(prepared.windows, 64, pad_id=1)
    assert ids.shape == mask.shape and ids.shape[0] == len(prepared.windows)
    assert (ids[mask == 0] == 1).all()


def test_word_probabilities_of_an_empty_document():
    prepared = prepare("   ", LexiconAdapter(max_tokens=64), max_tokens=20, overlap_tokens=4)
    assert prepared.windows == [] and decode(prepared, []) == [] and word_probabilities(prepared, []).shape[0] == 0


def test_viterbi_keeps_a_span_whole_where_argmax_would_break_it():
    from chitieu.extract.decode import viterbi_tags

    p = np.full((3, len(TAG2ID)), 0.01, dtype=np.float32)
    p[0, TAG2ID["B-TARGET_VALUE"]] = 0.9
    p[1, TAG2ID["O"]], p[1, TAG2ID["I-TARGET_VALUE"]] = 0.45, 0.40  # unsure inner word
    p[2, TAG2ID["I-TARGET_VALUE"]] = 0.9
    assert viterbi_tags(p) == ["B-TARGET_VALUE", "I-TARGET_VALUE", "I-TARGET_VALUE"]
    q = np.full((2, len(TAG2ID)), 0.01, dtype=np.float32)
    q[0, TAG2ID["O"]], q[1, TAG2ID["I-PROVINCE"]] = 0.9, 0.6
    q[1, TAG2ID["B-PROVINCE"]] = 0.3
    assert viterbi_tags(q) == ["O", "B-PROVINCE"], "an I- after O is not valid BIO"


def test_decomposed_input_gives_the_same_result_in_its_own_offsets():
    """Refine and link read NFC; results must not change when the caller sends NFD."""
    import unicodedata

    from chitieu.extract.extractor import Extractor
    from tests.fakes import TEXT, LexiconAdapter, LexiconRunner

    extractor = Extractor(LexiconAdapter(), LexiconRunner(), {"name": "fake"}, max_tokens=32, overlap_tokens=4)
    nfd = unicodedata.normalize("NFD", TEXT)
    composed, decomposed = extractor.extract(TEXT), extractor.extract(nfd)
    assert len(composed["targets"]) == len(decomposed["targets"]) == 1
    a, b = composed["targets"][0], decomposed["targets"][0]
    assert unicodedata.normalize("NFC", b["value"]["text"]) == a["value"]["text"] == "9,3% trở lên"
    assert b["value"]["text"] == nfd[b["value"]["start"] : b["value"]["end"]]
    assert (b["value"]["comparator"], b["value"]["number"], b["official"]["role"]) == (">=", 9.3, a["official"]["role"])
    assert [unicodedata.normalize("NFC", e["text"]) for e in decomposed["entities"]] == [e["text"] for e in composed["entities"]]
    assert all(nfd[e["start"] : e["end"]] == e["text"] for e in decomposed["entities"])


def test_extractor_uses_the_overlap_the_model_was_trained_with():
    from chitieu.extract.extractor import Extractor
    from tests.fakes import LexiconAdapter, LexiconRunner

    meta = {"options": {"max_tokens": 24, "overlap_tokens": 4}}
    extractor = Extractor(LexiconAdapter(max_tokens=24), LexiconRunner(), meta)
    assert (extractor.max_tokens, extractor.overlap_tokens) == (24, 4)
    assert extractor.extract(TEXT)["entities"]


def test_sentences_are_read_once_in_prepare_and_carried_to_every_later_stage(monkeypatch):
    """refine, the goal vote, the indicator chooser and linking use `Prepared.sentences`."""
    from chitieu.extract import goals, indicators, link, refine
    from chitieu.extract.extractor import Extractor
    from chitieu.extract.indicators import IndicatorChooser
    from tests.fakes import TEXT, LexiconAdapter, LexiconRunner

    class Goals:
        trained_on = {}

        def goals(self, text, candidates):
            return {(c.start, c.end): 0.9 for c in candidates}

    extractor = Extractor(
        LexiconAdapter(), LexiconRunner(), {"name": "fake"}, max_tokens=32, overlap_tokens=4,
        goal_classifier=Goals(), indicator_chooser=IndicatorChooser({}, 0.0, {}),
    )
    expected = extractor.extract(TEXT)

    def no_second_reading(text):
        raise AssertionError("sentences read again after prepare")

    prepared = extractor.prepare(TEXT)
    for module in (goals, indicators, link, refine):
        monkeypatch.setattr(module, "sentences", no_second_reading)
    assert extractor.finish(prepared, extractor.run(prepared.windows)) == expected
    assert expected["targets"], "the fake text has a target, so every stage ran"


def test_the_stages_are_declared_in_order_and_read_only_what_an_earlier_stage_wrote():
    """`stages.STAGES` is the order `Extractor.extraction` walks; every field a stage reads
    is a field of `Article` or `Prepared` that prepare, run or an earlier stage wrote."""
    from dataclasses import fields

    from chitieu.extract.prepare import Prepared
    from chitieu.extract.stages import STAGE_NAMES, STAGES, Article

    assert STAGE_NAMES == ("prepare", "run", "decode", "refine", "officials", "indicators", "link", "map_back")
    article_fields = {f.name for f in fields(Article)} - {"prepared"}
    prepared_fields = {f"prepared.{f.name}" for f in fields(Prepared)}
    written = prepared_fields | {"probs"}
    for stage in STAGES:
        assert set(stage.reads) <= written, (stage.name, set(stage.reads) - written)
        assert set(stage.writes) <= article_fields, stage.name
        written |= set(stage.writes)
