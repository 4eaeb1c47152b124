"""The quoting tool resolves spans written as words to the offsets the corpus stores."""

import importlib.util
import sys
from pathlib import Path

import pytest

from chitieu.annotate.corpus import Document, read_documents, write_documents

ROOT = Path(__file__).resolve().parents[1]


def _quotes():
    spec = importlib.util.spec_from_file_location("quotes", ROOT / "annotations" / "tools" / "quotes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["quotes"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


TEXT = "Công ty Bến Tre báo lãi. Bí thư Tỉnh ủy Bến Tre Lê Đức Thọ đề nghị tăng trưởng GRDP từ 9,3% trở lên, Bến Tre giữ 9,3%."


def test_repeated_mentions_resolve_in_order_and_context_pins_a_later_one(tmp_path):
    quotes = _quotes()
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "d1.tsv").write_text(
        "# comment\nPROVINCE\tBến Tre\tTỉnh ủy Bến Tre\nOFFICIAL\tLê Đức Thọ\nINDICATOR\ttăng trưởng GRDP\n"
        "TARGET_VALUE\ttừ 9,3% trở lên\nPROVINCE\tBến Tre\n",
        encoding="utf-8",
    )
    docs = tmp_path / "docs.jsonl"
    write_documents([Document(id="d1", text=TEXT)], docs)
    out = tmp_path / "out.jsonl"
    assert quotes.apply(folder, docs, out) == 0
    [doc] = read_documents(out)
    got = [(TEXT[s.start : s.end], s.label) for s in doc.spans]
    assert got == [
        ("Bến Tre", "PROVINCE"), ("Lê Đức Thọ", "OFFICIAL"), ("tăng trưởng GRDP", "INDICATOR"),
        ("từ 9,3% trở lên", "TARGET_VALUE"), ("Bến Tre", "PROVINCE"),
    ]
    # the first span is the one the context names, not the company's
    assert doc.spans[0].start == TEXT.index("Tỉnh ủy Bến Tre") + len("Tỉnh ủy ")
    review = "\n".join(quotes.review(doc))
    assert "UNLABELLED" in review and "Công ty Bến Tre" in review


@pytest.mark.parametrize(
    "line, message",
    [("TARGET_VALUE\t9,4%", "not found"), ("VALUE\t9,3%", "unknown label"), ("PROVINCE\tBến\tLong An", "does not contain")],
)
def test_a_line_that_cannot_be_placed_names_file_and_line(tmp_path, line, message):
    quotes = _quotes()
    path = tmp_path / "d1.tsv"
    path.write_text("OFFICIAL\tLê Đức Thọ\n" + line + "\n", encoding="utf-8")
    with pytest.raises(quotes.QuoteError, match=message) as err:
        quotes.resolve(TEXT, quotes.parse_tsv(path), str(path))
    assert ":2:" in str(err.value)


def test_order_matters_a_span_is_never_placed_before_the_previous_one(tmp_path):
    quotes = _quotes()
    path = tmp_path / "d1.tsv"
    path.write_text("TARGET_VALUE\ttừ 9,3% trở lên\nOFFICIAL\tLê Đức Thọ\n", encoding="utf-8")
    with pytest.raises(quotes.QuoteError, match="document order"):
        quotes.resolve(TEXT, quotes.parse_tsv(path), str(path))
