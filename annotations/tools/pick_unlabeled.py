"""Pick articles from ../shared/corpus_unlabeled to annotate, the way the `vnnews-*` test
documents of 2026-12-01 were picked.

An article qualifies when it is 1,200-9,000 characters long, has at least three goal cues
followed by a figure within 80 characters (`phấn đấu`, `chỉ tiêu`, `mục tiêu`, `kế hoạch`,
`dự toán`, `đề ra`, `đặt ra`), at least three words of provincial or Party government
(`UBND`, `HĐND`, `Tỉnh ủy`, `Bí thư`, `Nghị quyết`, `Sở ...`) and at least two province
mentions. The qualifying articles are shuffled with a fixed seed and taken in that order,
skipping any that shares more than 5% of its 8-word shingles, or three or more
distinctive figures (`430.000`, `9,3`), with a corpus document or an article already
taken: the 2017 pool holds several outlets' versions of one story, and a story must not
sit in two splits.

    python annotations/tools/pick_unlabeled.py --count 24 --out picked.jsonl

writes the articles as corpus documents with empty spans, ready to annotate. The result
depends on the corpus it is run against (documents already in it are excluded): the test
documents of 2026-12-01 were picked against the corpus of commit 6404d07, seed 20261201.
"""

from __future__ import annotations

import argparse
import random
import re
import unicodedata
from pathlib import Path

from chitieu.corpus import Document, read_documents, write_documents
from chitieu.encoders.e5 import unlabeled_articles
from chitieu.paths import annotations_dir, shared_dir
from chitieu.provinces import find_mentions

SOURCE = "github:magizbox/scraper/vn_news/data (corpus_unlabeled/vn_news_2017.jsonl.gz)"
GOAL_CUE = re.compile(r"(phấn đấu|chỉ tiêu|mục tiêu|kế hoạch|dự toán|đề ra|đặt ra)[^.\n]{0,80}?\d", re.IGNORECASE)
GOVERNMENT = re.compile(r"UBND|HĐND|Tỉnh ủy|Tỉnh uỷ|Thành ủy|Thành uỷ|Chủ tịch tỉnh|Bí thư|Nghị quyết|Sở [A-ZĐ]")
FIGURE = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+,\d+")


def shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + 8]) for i in range(len(words) - 7)}


def qualifies(text: str) -> bool:
    return (
        1200 <= len(text) <= 9000
        and len(GOVERNMENT.findall(text)) >= 3
        and len(GOAL_CUE.findall(text)) >= 3
        and len(find_mentions(text)) >= 2
    )


def pick(corpus: Path, shared: Path, count: int, seed: int) -> list[Document]:
    documents = read_documents(corpus)
    used = {d.id for d in documents}
    seen = [(shingles(d.text), set(FIGURE.findall(d.text))) for d in documents]
    candidates = []
    for article_id, raw in unlabeled_articles(shared):
        text = unicodedata.normalize("NFC", raw)
        if article_id not in used and qualifies(text):
            candidates.append((article_id, text))
    random.Random(seed).shuffle(candidates)
    picked: list[Document] = []
    for article_id, text in candidates:
        own, figures = shingles(text), set(FIGURE.findall(text))
        if any(len(own & s) > 0.05 * max(1, min(len(own), len(s))) or len(figures & f) >= 3 for s, f in seen):
            continue
        seen.append((own, figures))
        origin = f"corpus_unlabeled/vn_news_2017.jsonl.gz#{article_id}"
        picked.append(Document(id=article_id, text=text, meta={"source": SOURCE, "origin": origin, "date": "2017"}))
        if len(picked) == count:
            break
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--corpus", type=Path, default=annotations_dir() / "corpus.jsonl")
    parser.add_argument("--shared", type=Path, default=shared_dir(), help="the folder holding corpus_unlabeled/")
    args = parser.parse_args()
    picked = pick(args.corpus, args.shared, args.count, args.seed)
    write_documents(picked, args.out)
    print(f"{len(picked)} articles -> {args.out}")


if __name__ == "__main__":
    main()
