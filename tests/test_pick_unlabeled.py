"""The test documents picked from corpus_unlabeled must be re-pickable: their provenance
(annotations/GUIDELINES.md) says which script, corpus and seed chose them."""

import gzip
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from chitieu.corpus import load_corpus

ROOT = Path(__file__).resolve().parents[1]
PICKED_AGAINST = "6404d07"  # the corpus commit the GUIDELINES.md provenance names


def _pick_module():
    spec = importlib.util.spec_from_file_location("pick_unlabeled", ROOT / "annotations" / "tools" / "pick_unlabeled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_added_test_documents_are_what_the_pick_script_chooses(shared, tmp_path):
    shown = subprocess.run(["git", "show", f"{PICKED_AGAINST}:annotations/corpus.jsonl"], cwd=ROOT, capture_output=True, text=True)
    if shown.returncode != 0:
        pytest.skip(f"no git history with commit {PICKED_AGAINST} here: {shown.stderr.strip()}")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(shown.stdout, encoding="utf-8")
    earlier = {json.loads(line)["id"] for line in shown.stdout.splitlines() if line.strip()}

    module = _pick_module()
    picked = module.pick(corpus, shared, 24, 20261201)

    added = {d.id: d for d in load_corpus(ROOT / "annotations", "test") if d.id not in earlier}
    assert [d.id for d in picked] and {d.id for d in picked} == set(added)
    assert all(added[d.id].text == d.text for d in picked), "the committed texts are the unlabeled articles, NFC"


def _article(words: list[str], figures: list[str]) -> str:
    """A qualifying article: provinces, government words and goal cues near figures, then
    its own words."""
    lines = [
        f"UBND tỉnh Bến Tre và Tỉnh ủy Long An họp; Bí thư phát biểu. Nghị quyết đề ra chỉ tiêu {figures[0]} tỷ đồng.",
        f"Mục tiêu là đạt {figures[1]}% và kế hoạch năm sau là {figures[2]} lao động.",
    ]
    lines += [" ".join(words[k : k + 12]) + "." for k in range(0, len(words), 12)]
    return "\n".join(lines)


def test_the_pick_skips_near_duplicates_and_stories_sharing_figures(tmp_path):
    module = _pick_module()
    # 700 own words each, so the two shared template lines stay under 5% of the shingles.
    vocab = [f"từ{i}" for i in range(2100)]
    kept = _article(vocab[:700], ["1.111", "2,2", "3.333"])
    same_story = kept.replace("từ5 ", "chữ ")  # another outlet's copy of it
    known = _article(vocab[700:1400], ["4.444", "5,5", "6.666"])
    sharing_figures = _article(vocab[1400:], ["4.444", "5,5", "6.666"])
    assert all(module.qualifies(t) for t in (kept, same_story, known, sharing_figures))

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"id": "known", "text": known, "spans": []}, ensure_ascii=False) + "\n", encoding="utf-8")
    unlabeled = tmp_path / "corpus_unlabeled" / "vn_news_2017.jsonl.gz"
    unlabeled.parent.mkdir()
    with gzip.open(unlabeled, "wt", encoding="utf-8") as fh:
        for i, text in enumerate([kept, same_story, sharing_figures]):
            fh.write(json.dumps({"id": f"a{i}", "text": text}, ensure_ascii=False) + "\n")

    for seed in range(5):  # whichever of the two copies comes first, only one is taken
        picked = module.pick(corpus, tmp_path, 10, seed)
        assert len(picked) == 1 and picked[0].id in {"a0", "a1"}
        assert picked[0].spans == [] and picked[0].meta["origin"].endswith(picked[0].id)
