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

The campaign of 2026-12-05 (`--campaign`) casts a wider net, because only 58 of the 35,152
articles pass the filter above: an article qualifies when it is 800-9,000 characters long
with at least two goal cues followed by a figure (the cues above plus `Nghị quyết`,
`định hướng`) and two words of government at any level (the words above plus `Bộ ...`,
`Bộ trưởng`, `Thủ tướng`, `Chính phủ`, `Quốc hội`, `Chủ tịch`). Half the picks are where
the current model is least sure (`uncertainty_scores`): value expressions on which the tagger, the rule goal check and the
goal classifier disagree, plus words whose TARGET_VALUE or INDICATOR probability sits
between 0.2 and 0.8; the other half is taken round-robin across article kinds (`kind_of`)
so the set does not drift toward one kind. Both halves pass the same near-duplicate check.

    python annotations/tools/pick_unlabeled.py --campaign --count 270 --out picked.jsonl \
        --scores annotations/tools/campaign-20261205-scores.json

picks the 2026-12-05 campaign again from the committed scores (the corpus of commit 3b76d8f,
seed 20261205). For the next batch: score the pool with the promoted model
(`--score-with models/NAME --save-scores new-scores.json`, a few minutes on 2 cores), run
with the new scores, a new seed and the current corpus, and record the commit and seed in
`annotations/GUIDELINES.md`.

The round of 2026-12-06b was chosen by the model's target counts, because the rule goal
check had promised ~300 values in the 120 articles of the round before and they held 96:

    python annotations/tools/pick_unlabeled.py --write-pool pool.jsonl
    CHITIEU_ENGINE=int8 chitieu batch pool.jsonl --output scored      # 874 articles, 17 min
    python annotations/tools/pick_unlabeled.py --predicted-from scored \
        --save-predicted annotations/tools/round-20261206b-predicted-targets.json
    python annotations/tools/pick_unlabeled.py --campaign --count 0 --topup-campaign 2026-12-06b \
        --predicted annotations/tools/round-20261206b-predicted-targets.json --min-targets 1 \
        --predicted-test 12 --predicted-train 200 --seed 202612062 --out picked.jsonl

(against the corpus of commit 50c155b). That pool was then spent, so the round of
2026-12-06c read a wider one (`--pool wide`: one goal cue or future year before a figure,
up to 20,000 characters) and, after the articles with a predicted target, the ones with the
most rule goals and the ones the model is least sure about:

    python annotations/tools/pick_unlabeled.py --write-pool pool.jsonl --pool wide
    CHITIEU_ENGINE=int8 chitieu batch pool.jsonl --output scored      # 2,492 articles, 8 min
    python annotations/tools/pick_unlabeled.py --predicted-from scored \
        --save-predicted annotations/tools/round-20261206c-predicted-targets.json
    python annotations/tools/pick_unlabeled.py --score-pool models/e5-small-L6-20261206c --pool wide \
        --save-scores annotations/tools/round-20261206c-uncertainty-scores.json   # 20 min
    python annotations/tools/pick_unlabeled.py --campaign --count 0 --topup-campaign 2026-12-06c \
        --pool wide --predicted annotations/tools/round-20261206c-predicted-targets.json \
        --min-targets 1 --predicted-train 400 --predicted-dev 16 --dense-train 70 --min-rule-goals 1 \
        --scores annotations/tools/round-20261206c-uncertainty-scores.json --uncertain-train 36 \
        --seed 202612063 --out picked.jsonl

(against the corpus of commit c30c2d8, scored with the then default, which `git checkout
0ec99bd -- models/e5-small-L6-20261206c` restores). The next batch: the same steps against the current
corpus, a new round name and seed. The 2017 pool is close to spent: of the 230 articles in
which the model found a target, 161 were near-duplicates of annotated ones, and the 70
rule-ranked articles held 12 values.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chitieu.annotate.corpus import Document, read_documents, write_documents
from chitieu.annotate.silver import shingles
from chitieu.encoders.e5 import unlabeled_articles
from chitieu.files import write_text
from chitieu.paths import annotations_dir, shared_dir
from chitieu.provinces import find_mentions

SOURCE = "github:magizbox/scraper/vn_news/data (corpus_unlabeled/vn_news_2017.jsonl.gz)"
GOAL_CUE = re.compile(r"(phấn đấu|chỉ tiêu|mục tiêu|kế hoạch|dự toán|đề ra|đặt ra)[^.\n]{0,80}?\d", re.IGNORECASE)
GOVERNMENT = re.compile(r"UBND|HĐND|Tỉnh ủy|Tỉnh uỷ|Thành ủy|Thành uỷ|Chủ tịch tỉnh|Bí thư|Nghị quyết|Sở [A-ZĐ]")
FIGURE = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+,\d+")


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
    for article_id, text in nfc_articles(shared):
        if article_id not in used and qualifies(text):
            candidates.append((article_id, text))
    random.Random(seed).shuffle(candidates)
    origin = "corpus_unlabeled/vn_news_2017.jsonl.gz#{}"
    return first_unseen(candidates, seen, count, lambda i, t: {"source": SOURCE, "origin": origin.format(i), "date": "2017"})


CAMPAIGN_GOAL_CUE = re.compile(
    r"(phấn đấu|chỉ tiêu|mục tiêu|kế hoạch|dự toán|đề ra|đặt ra|Nghị quyết|định hướng)[^.\n]{0,80}?\d", re.IGNORECASE
)
CAMPAIGN_GOVERNMENT = re.compile(
    r"UBND|HĐND|Tỉnh ủy|Tỉnh uỷ|Thành ủy|Thành uỷ|Chủ tịch|Bí thư|Nghị quyết|Sở [A-ZĐ]|Bộ trưởng|Thủ tướng|Chính phủ|Quốc hội|Bộ [A-ZĐ]"
)
# The kinds of goal article the corpus holds, each with the words that mark it; an article
# is the kind whose words it uses most (ties: the earlier kind).
KINDS: dict[str, re.Pattern[str]] = {
    "party-congress": re.compile(r"Đại hội|Ban Chấp hành|nhiệm kỳ"),
    "council-plan": re.compile(r"HĐND|Hội đồng nhân dân|kỳ họp"),
    "budget": re.compile(r"dự toán|ngân sách|thu nội địa"),
    "ministry": re.compile(r"Bộ trưởng|Bộ [A-ZĐ]\w*|Tổng cục"),
    "national": re.compile(r"Quốc hội|Chính phủ|Thủ tướng|cả nước"),
    "city": re.compile(r"Hà Nội|TP\.? ?HCM|TPHCM|Hồ Chí Minh|Đà Nẵng|Hải Phòng|Cần Thơ"),
    "sector-plan": re.compile(r"Sở [A-ZĐ]\w*|ngành|lĩnh vực"),
}
UNCERTAIN_LOW, UNCERTAIN_HIGH = 0.2, 0.8


def near_duplicate(own: set[str], figures: set[str], seen: list[tuple[set[str], set[str]]]) -> bool:
    """Shares more than 5% of its 8-word shingles, or three distinctive figures, with an
    article already in `seen`: another outlet's version of a story already taken."""
    return any(len(own & s) > 0.05 * max(1, min(len(own), len(s))) or len(figures & f) >= 3 for s, f in seen)


def campaign_meta(article_id: str, text: str, campaign: str, pick: str) -> dict[str, str]:
    """What a campaign document's meta says of where it came from and how it was picked."""
    return {
        "source": SOURCE,
        "origin": f"corpus_unlabeled/vn_news_2017.jsonl.gz#{article_id}",
        "date": "2017",
        "campaign": campaign,
        "pick": pick,
        "kind": kind_of(text),
    }


def first_unseen(
    pool: list[tuple[str, str]], seen: list[tuple[set[str], set[str]]], count: int, meta: Callable[[str, str], dict[str, Any]]
) -> list[Document]:
    """The first `count` articles of `pool` that are no near-duplicate of `seen` or of each
    other (`seen` grows), as documents with `meta(id, text)`."""
    picked: list[Document] = []
    for article_id, text in pool:
        own, figures = shingles(text), set(FIGURE.findall(text))
        if near_duplicate(own, figures, seen):
            continue
        seen.append((own, figures))
        picked.append(Document(id=article_id, text=text, meta=meta(article_id, text)))
        if len(picked) == count:
            break
    return picked


def take_unseen(
    pool: list[tuple[str, str]], seen: list[tuple[set[str], set[str]]], count: int, pick: str, split: str,
    campaign: str = "2026-12-05",
) -> list[Document]:
    """`first_unseen` as campaign documents whose meta says how they were picked."""
    return first_unseen(pool, seen, count, lambda i, t: {**campaign_meta(i, t, campaign, pick), "split": split})


def kinds_in_turn(pool: list[tuple[str, str]], count: int, take: Callable[[str, str], bool]) -> None:
    """Offer `pool`'s articles to `take` one kind at a time (`KINDS` order, each kind's
    articles in pool order) until `take` has accepted `count` or the pool is spent: so the
    set does not drift toward one kind. `take` says whether it kept the article."""
    queues: dict[str, list[tuple[str, str]]] = {kind: [] for kind in KINDS}
    for article_id, text in pool:
        queues[kind_of(text)].append((article_id, text))
    kept = 0
    while kept < count and any(queues.values()):
        for kind in KINDS:
            while queues[kind] and kept < count:
                if take(*queues[kind].pop(0)):
                    kept += 1
                    break


def campaign_qualifies(text: str) -> bool:
    return (
        800 <= len(text) <= 9000
        and len(CAMPAIGN_GOAL_CUE.findall(text)) >= 2
        and len(CAMPAIGN_GOVERNMENT.findall(text)) >= 2
    )


def kind_of(text: str) -> str:
    counts = {kind: len(pattern.findall(text)) for kind, pattern in KINDS.items()}
    return max(counts, key=lambda kind: counts[kind])  # max keeps the first of equals


@functools.lru_cache(maxsize=2)
def nfc_articles(shared: Path) -> tuple[tuple[str, str], ...]:
    """(id, NFC text) of every unlabelled article, read once per process: each pick step
    of a campaign scans them all."""
    return tuple((article_id, unicodedata.normalize("NFC", raw)) for article_id, raw in unlabeled_articles(shared))


def campaign_pool(corpus: Path, shared: Path) -> list[tuple[str, str]]:
    """(id, NFC text) of every qualifying article not in the corpus, in file order."""
    used = {d.id for d in read_documents(corpus)}
    pool = []
    for article_id, text in nfc_articles(shared):
        if article_id not in used and campaign_qualifies(text):
            pool.append((article_id, text))
    return pool


def uncertainty_scores(pool: list[tuple[str, str]], model_dir: Path) -> dict[str, float]:
    """How unsure the model of `model_dir` is about an article's goals: value expressions
    on which tagger, rule goal check and goal classifier are not unanimous, plus a quarter
    point for each word whose TARGET_VALUE or INDICATOR probability is in [0.2, 0.8]."""
    from chitieu.extract.decode import decode, word_probabilities
    from chitieu.extract.extractor import Extractor
    from chitieu.extract.goals import goal_values, value_candidates
    from chitieu.labels import TAG2ID

    extractor = Extractor.load(model_dir, device="cpu")
    columns = [i for tag, i in TAG2ID.items() if tag.endswith(("TARGET_VALUE", "INDICATOR"))]
    scores = {}
    for article_id, text in pool:
        prepared = extractor.prepare(text, article_id)
        probs = extractor.run(prepared.windows)
        tagged = [(e.start, e.end) for e in decode(prepared, probs) if e.label == "TARGET_VALUE"]
        candidates = value_candidates(prepared.text)
        rules = set(goal_values(prepared.text, candidates))
        learned = set(extractor.goal_classifier.goals(prepared.text, candidates)) if extractor.goal_classifier else set()
        disagreements = 0
        for c in candidates:
            opinions = {
                any(a < c.end and c.start < b for a, b in tagged),
                (c.start, c.end) in rules,
                (c.start, c.end) in learned,
            }
            disagreements += len(opinions) > 1
        mass = word_probabilities(prepared, probs)[:, columns].sum(axis=1)
        unsure = int(((mass >= UNCERTAIN_LOW) & (mass <= UNCERTAIN_HIGH)).sum())
        scores[article_id] = round(disagreements + 0.25 * unsure, 4)
    return scores


def pick_campaign(
    corpus: Path, shared: Path, count: int, seed: int, scores: dict[str, float]
) -> list[Document]:
    """Half by uncertainty (highest score first), half round-robin across kinds; no
    near-duplicate of a corpus document or of an earlier pick. Each document's meta says
    how it was picked (`pick`, `kind`, `score`)."""
    documents = read_documents(corpus)
    seen = [(shingles(d.text), set(FIGURE.findall(d.text))) for d in documents]
    pool = campaign_pool(corpus, shared)
    missing = [article_id for article_id, _ in pool if article_id not in scores]
    if missing:
        raise ValueError(
            f"{len(missing)} qualifying articles have no uncertainty score (first: {missing[0]}): "
            "score the pool again with --score-with MODEL --save-scores FILE"
        )
    random.Random(seed).shuffle(pool)
    picked: list[Document] = []
    taken: set[str] = set()

    def take(article_id: str, text: str, how: str) -> bool:
        own, figures = shingles(text), set(FIGURE.findall(text))
        if near_duplicate(own, figures, seen):
            return False
        seen.append((own, figures))
        taken.add(article_id)
        meta = {**campaign_meta(article_id, text, "2026-12-05", how), "score": scores[article_id]}
        picked.append(Document(id=article_id, text=text, meta=meta))
        return True

    by_uncertainty = sorted(pool, key=lambda item: -scores[item[0]])  # stable: ties keep the seeded order
    for article_id, text in by_uncertainty:
        if len(picked) == count // 2:
            break
        take(article_id, text, "uncertainty")
    rest = [(i, t) for i, t in pool if i not in taken]
    kinds_in_turn(rest, count - len(picked), lambda i, t: take(i, t, "stratified"))
    return picked


def pick_topup(
    corpus: Path, shared: Path, taken: list[Document], count: int, seed: int, split: str, min_cues: int
) -> list[Document]:
    """More articles for one split after the campaign: its first draw holds too few goals
    (22 of its first 36 test articles and about a third of the first train articles state
    none), so `count` more are drawn, seeded, among the qualifying articles with at least
    `min_cues` goal cues before a figure, past the same near-duplicate check against the
    corpus and every article taken before."""
    documents = read_documents(corpus)
    seen = [(shingles(d.text), set(FIGURE.findall(d.text))) for d in [*documents, *taken]]
    taken_ids = {d.id for d in taken}
    pool = [(i, t) for i, t in campaign_pool(corpus, shared) if i not in taken_ids and len(CAMPAIGN_GOAL_CUE.findall(t)) >= min_cues]
    random.Random(seed + {"test": 2, "train": 3, "dev": 4}[split]).shuffle(pool)
    return take_unseen(pool, seen, count, f"{split}-topup (>= {min_cues} goal cues)", split)


def pick_goal_dense(
    corpus: Path, shared: Path, taken: list[Document], count: int, seed: int, split: str, min_rule_goals: int = 4,
    campaign: str = "2026-12-05",
) -> list[Document]:
    """Articles dense in goals, for a split that the cue-based draws left short of values
    (the cue words also head national politics: the 24 cue-dense test articles held 6
    values). Any 800-9,000-character article with a goal cue before a figure qualifies
    when the rule baseline's goal check (`chitieu.extract.goals.goal_values`) finds at least
    `min_rule_goals` goals in it; seeded order, the same near-duplicate check. The rules
    only choose which articles to read: annotators never see their output."""
    from chitieu.extract.goals import goal_values

    documents = read_documents(corpus)
    seen = [(shingles(d.text), set(FIGURE.findall(d.text))) for d in [*documents, *taken]]
    excluded = {d.id for d in [*documents, *taken]}
    pool = []
    for article_id, text in nfc_articles(shared):
        if article_id in excluded:
            continue
        if 800 <= len(text) <= 9000 and CAMPAIGN_GOAL_CUE.search(text) and len(goal_values(text)) >= min_rule_goals:
            pool.append((article_id, text))
    random.Random(seed + {"test": 5, "train": 6, "dev": 7}[split]).shuffle(pool)
    return take_unseen(pool, seen, count, f"goal-dense (>= {min_rule_goals} rule goals)", split, campaign)


def pick_ranked(
    corpus: Path, shared: Path, taken: list[Document], count: int, seed: int, split: str, campaign: str,
    pool_name: str, rank: Callable[[str, str], float], minimum: float, how: str,
) -> list[Document]:
    """Articles of a model-scored round's pool not yet `taken` whose `rank` (id, text) is at
    least `minimum`, the highest first (ties in seeded order), past the near-duplicate check."""
    documents = read_documents(corpus)
    seen = [(shingles(d.text), set(FIGURE.findall(d.text))) for d in [*documents, *taken]]
    excluded = {d.id for d in taken}
    ranked = []
    for article_id, text in predicted_pool(corpus, shared, pool_name):
        if article_id not in excluded and (n := rank(article_id, text)) >= minimum:
            ranked.append((n, article_id, text))
    random.Random(seed + 11).shuffle(ranked)
    ranked.sort(key=lambda item: -item[0])  # stable: ties keep the seeded order
    return take_unseen([(i, t) for _, i, t in ranked], seen, count, how, split, campaign)


def pick_rule_ranked(
    corpus: Path, shared: Path, taken: list[Document], count: int, seed: int, split: str, min_rule_goals: int,
    campaign: str, pool_name: str,
) -> list[Document]:
    """After a model-scored round has taken every article with a predicted target: articles
    of the same pool in which the rule goal check finds at least `min_rule_goals` goals,
    the most rule goals first. The model misses a third of the goals (test recall 0.67), so
    an article it finds none in can still hold them; the rules only choose what to read."""
    from chitieu.extract.goals import goal_values

    how = f"rule-ranked (>= {min_rule_goals} rule goals, most first)"
    rank = lambda _id, text: len(goal_values(text))  # noqa: E731
    return pick_ranked(corpus, shared, taken, count, seed, split, campaign, pool_name, rank, min_rule_goals, how)


def pick_uncertain_ranked(
    corpus: Path, shared: Path, taken: list[Document], count: int, seed: int, split: str, scores: dict[str, float],
    campaign: str, pool_name: str,
) -> list[Document]:
    """Then the articles the model is least sure about (`uncertainty_scores`, committed
    beside this script), the least sure first: in the 2026-12-06c round the rule-ranked
    articles held about one value in six, so goal talk the model half-sees is the next
    place to look."""
    how = "uncertain (most disagreement first)"
    rank = lambda article_id, _text: scores[article_id]  # noqa: E731
    return pick_ranked(corpus, shared, taken, count, seed + 1, split, campaign, pool_name, rank, 0.25, how)


def pick_predicted_dense(
    corpus: Path, shared: Path, taken: list[Document], count: int, seed: int, split: str, predicted: dict[str, int],
    min_targets: int = 2,
) -> list[Document]:
    """Articles of the campaign pool in which the promoted model finds at least
    `min_targets` target tuples (`predicted`, committed beside this script): after the
    cue- and rule-based draws left test at 110 values, the one reader of goals that is
    right three times in four chooses what to read. Annotators never see its output."""
    documents = read_documents(corpus)
    seen = [(shingles(d.text), set(FIGURE.findall(d.text))) for d in [*documents, *taken]]
    excluded = {d.id for d in [*documents, *taken]}
    pool = [(i, t) for i, t in campaign_pool(corpus, shared) if i not in excluded and predicted.get(i, 0) >= min_targets]
    random.Random(seed + {"test": 8, "train": 9, "dev": 10}[split]).shuffle(pool)
    return take_unseen(pool, seen, count, f"predicted-dense (>= {min_targets} model targets)", split)


# Goals stated by the year they are for, with no goal word: `đến năm 2020 ... đạt 50%`,
# `năm 2018, tỉnh ... thu 5.000 tỷ đồng` (the 2017 pool's future is 2018 on).
FUTURE_YEAR_CUE = re.compile(r"(đến năm|tới năm|vào năm|trong năm|năm) 20(1[89]|[23]\d)[^.\n]{0,80}?\d", re.IGNORECASE)
POOLS = ("cue", "wide")


def predicted_pool(corpus: Path, shared: Path, pool: str = "cue") -> list[tuple[str, str]]:
    """`_predicted_pool`, filtered once per process for a given corpus file: one round's
    three pick steps each ask for it (about 15 s each on 2 cores), and the corpus file's
    modification time and size in the key make an edited corpus filter anew."""
    if pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r}: choose one of {', '.join(POOLS)}")
    stat = Path(corpus).stat()
    return list(_predicted_pool(Path(corpus).resolve(), Path(shared).resolve(), pool, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _predicted_pool(corpus: Path, shared: Path, pool: str, _mtime_ns: int, _size: int) -> tuple[tuple[str, str], ...]:
    """(id, NFC text) of the articles a model-scored round reads, not in the corpus and
    800-9,000 characters long (`wide`: 20,000). `cue` (the 2026-12-06b round): a goal cue before a figure and
    either two such cues or one goal the rule check finds (874 of 2,274 cue articles against
    the corpus of 2026-12-06: what 2 CPU cores could score in half an hour with the 12-layer
    model). `wide` (the 2026-12-06c round, once the cue pool was spent and the 6-layer int8
    model scored ~6 articles a second): one goal cue or one future year before a figure,
    long articles included, since plans and congress reports run long and hold many goals."""
    from chitieu.extract.goals import goal_values

    used = {d.id for d in read_documents(corpus)}
    longest = 20_000 if pool == "wide" else 9000
    chosen = []
    for article_id, text in nfc_articles(shared):
        if article_id in used or not 800 <= len(text) <= longest:
            continue
        if pool == "wide":
            if CAMPAIGN_GOAL_CUE.search(text) or FUTURE_YEAR_CUE.search(text):
                chosen.append((article_id, text))
        elif CAMPAIGN_GOAL_CUE.search(text) and (len(CAMPAIGN_GOAL_CUE.findall(text)) >= 2 or goal_values(text)):
            chosen.append((article_id, text))
    return tuple(chosen)


def predicted_counts(batch_output: Path) -> dict[str, int]:
    """id -> target tuples the model found, from a `chitieu batch` output folder."""
    import pyarrow.parquet as pq

    counts: dict[str, int] = {}
    for part in sorted((batch_output / "documents").glob("*.parquet")):
        table = pq.read_table(part, columns=["doc_id", "status", "n_targets"]).to_pylist()
        counts.update({row["doc_id"]: row["n_targets"] for row in table if row["status"] == "ok"})
    return counts


def pick_predicted_round(
    corpus: Path, shared: Path, predicted: dict[str, int], n_test: int, n_train: int, seed: int, campaign: str,
    min_targets: int, pool_name: str = "cue", n_dev: int = 0,
) -> list[Document]:
    """A round chosen by the model's target counts (`predicted`, committed beside this
    script): articles of `predicted_pool` in which it finds at least `min_targets` tuples,
    taken in turn across article kinds (so one kind does not fill the round), the most
    predicted targets first within a kind (ties in seeded order), past the near-duplicate
    check. The first `n_test` taken (the densest of each kind) go to test, which needs
    values more than documents; of the rest, a seeded draw of `n_dev` goes to dev and the
    others to train. The model only chooses what to read: test annotators never see its
    output."""
    documents = read_documents(corpus)
    seen = [(shingles(d.text), set(FIGURE.findall(d.text))) for d in documents]
    pool = [(i, t) for i, t in predicted_pool(corpus, shared, pool_name) if predicted.get(i, 0) >= min_targets]
    random.Random(seed).shuffle(pool)
    pool.sort(key=lambda item: -predicted[item[0]])  # stable: ties keep the seeded order
    how = f"predicted-dense (>= {min_targets} model targets, kinds in turn)"
    picked: list[Document] = []

    def take(article_id: str, text: str) -> bool:
        got = take_unseen([(article_id, text)], seen, 1, how, "train", campaign)
        picked.extend(got)
        return bool(got)

    kinds_in_turn(pool, n_test + n_train, take)
    rest = [doc.id for doc in picked[n_test:]]
    random.Random(seed + 1).shuffle(rest)
    dev = set(rest[:n_dev])
    for k, doc in enumerate(picked):
        doc.meta["split"] = "test" if k < n_test else "dev" if doc.id in dev else "train"
        doc.meta["predicted_targets"] = predicted[doc.id]
    return picked


def campaign_splits(picked: list[Document], n_test: int, n_dev: int, seed: int) -> dict[str, str]:
    """id -> split: a seeded draw, so test holds both halves of the pick in proportion."""
    order = [d.id for d in picked]
    random.Random(seed + 1).shuffle(order)
    return {
        doc_id: "test" if k < n_test else "dev" if k < n_test + n_dev else "train" for k, doc_id in enumerate(order)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, help="how many articles to pick (0 for a --topup-campaign round)")
    parser.add_argument("--campaign", action="store_true", help="the 2026-12-05 selection: uncertainty + kinds")
    parser.add_argument("--scores", type=Path, help="uncertainty scores (JSON id -> score) for --campaign")
    parser.add_argument("--score-with", type=Path, help="model folder to score the pool with (writes --save-scores)")
    parser.add_argument("--save-scores", type=Path)
    parser.add_argument("--test", type=int, default=36, help="--campaign: how many picks go to test")
    parser.add_argument("--dev", type=int, default=24, help="--campaign: how many picks go to dev")
    parser.add_argument("--test-topup", type=int, default=0, help="--campaign: this many more goal-dense articles for test")
    parser.add_argument("--dense-test", type=int, default=0, help="--campaign: then this many articles with >= 4 rule goals for test")
    parser.add_argument("--dense-train", type=int, default=0, help="--campaign: then this many more for train")
    parser.add_argument("--predicted", type=Path, help="--campaign: model target counts (JSON id -> count) for --predicted-test")
    parser.add_argument("--predicted-test", type=int, default=0, help="--campaign: then this many articles with >= 2 model targets for test")
    parser.add_argument(
        "--topup-campaign", metavar="DATE",
        help="a later round that only tops up goal-dense articles (--dense-test/--dense-train, no --count): its name in the meta",
    )
    parser.add_argument(
        "--min-rule-goals", type=int, default=4,
        help="--topup-campaign: rule goals an article needs (after the first round, 51 articles had >= 4 and 7 were no near-duplicate)",
    )
    parser.add_argument("--predicted-train", type=int, default=0, help="--topup-campaign: a round of this many train articles (and --predicted-test test ones) chosen by --predicted")
    parser.add_argument("--min-targets", type=int, default=3, help="--predicted-train: model target tuples an article needs")
    parser.add_argument(
        "--pool", choices=POOLS, default="cue",
        help="--write-pool/--predicted-train: the articles scored (cue: the 2026-12-06b round; wide: any goal cue or future year before a figure)",
    )
    parser.add_argument(
        "--uncertain-train", type=int, default=0,
        help="--predicted-train: then this many train articles by --scores, the least sure first",
    )
    parser.add_argument("--predicted-dev", type=int, default=0, help="--predicted-train: of those, a seeded draw of this many goes to dev")
    parser.add_argument("--write-pool", type=Path, help="write the articles a model-scored round reads (JSONL), to score with chitieu batch")
    parser.add_argument("--score-pool", type=Path, help="model folder: how unsure it is about each article of --pool (writes --save-scores)")
    parser.add_argument("--predicted-from", type=Path, help="a chitieu batch output folder: its per-article target counts go to --save-predicted")
    parser.add_argument("--save-predicted", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--corpus", type=Path, default=annotations_dir() / "corpus.jsonl")
    parser.add_argument("--shared", type=Path, default=shared_dir(), help="the folder holding corpus_unlabeled/")
    args = parser.parse_args()
    if not (args.write_pool or args.predicted_from or args.score_pool) and (args.out is None or args.count is None):
        parser.error("a pick needs --count N and --out FILE")
    if args.write_pool:
        write_documents([Document(id=i, text=t, meta={}) for i, t in predicted_pool(args.corpus, args.shared, args.pool)], args.write_pool)
        print(f"the pool to score -> {args.write_pool}; next: chitieu batch {args.write_pool} --output SCORED")
        return
    if args.score_pool:
        if not args.save_scores:
            parser.error("--score-pool needs --save-scores FILE")
        scores = uncertainty_scores(predicted_pool(args.corpus, args.shared, args.pool), args.score_pool)
        write_text(args.save_scores, json.dumps(scores, ensure_ascii=False, indent=0, sort_keys=True) + "\n")
        print(f"{len(scores)} articles scored -> {args.save_scores}")
        return
    if args.predicted_from:
        if not args.save_predicted:
            parser.error("--predicted-from needs --save-predicted FILE")
        counts = predicted_counts(args.predicted_from)
        write_text(args.save_predicted, json.dumps(counts, indent=0, sort_keys=True) + "\n")
        print(f"{len(counts)} articles' target counts -> {args.save_predicted}")
        return
    if not args.campaign:
        picked = pick(args.corpus, args.shared, args.count, args.seed)
        write_documents(picked, args.out)
        print(f"{len(picked)} articles -> {args.out}")
        return
    if args.topup_campaign and args.predicted_train:
        # A round chosen by the model's target counts (the 2026-12-06b one): the rule goal
        # check had promised ~300 values in 120 articles and they held 96.
        if not args.predicted:
            parser.error("--predicted-train needs --predicted FILE (made with --predicted-from)")
        if args.uncertain_train and not args.scores:  # checked before the picks, which take a minute
            parser.error("--uncertain-train needs --scores FILE (made with --score-pool)")
        predicted = json.loads(args.predicted.read_text(encoding="utf-8"))
        picked = pick_predicted_round(
            args.corpus, args.shared, predicted, args.predicted_test, args.predicted_train, args.seed,
            args.topup_campaign, args.min_targets, args.pool, args.predicted_dev,
        )
        if args.dense_train:
            # The 2026-12-06c round: the articles with a predicted target held too few values.
            picked += pick_rule_ranked(
                args.corpus, args.shared, picked, args.dense_train, args.seed, "train", args.min_rule_goals,
                args.topup_campaign, args.pool,
            )
        if args.uncertain_train:
            scores = json.loads(args.scores.read_text(encoding="utf-8"))
            picked += pick_uncertain_ranked(
                args.corpus, args.shared, picked, args.uncertain_train, args.seed, "train", scores,
                args.topup_campaign, args.pool,
            )
        write_documents(picked, args.out)
        print(f"{len(picked)} articles -> {args.out}")
        return
    if args.topup_campaign:
        # A later round (the 2026-12-06 one): the first round already holds the uncertainty
        # and stratified halves; this one adds goal-dense articles where span counts fall short.
        picked = []
        for split, count in (("test", args.dense_test), ("train", args.dense_train)):
            if count:
                picked += pick_goal_dense(
                    args.corpus, args.shared, picked, count, args.seed, split, args.min_rule_goals, args.topup_campaign
                )
        write_documents(picked, args.out)
        print(f"{len(picked)} articles -> {args.out}")
        return
    if args.score_with:
        if not args.save_scores:
            parser.error("--score-with needs --save-scores FILE")
        scores = uncertainty_scores(campaign_pool(args.corpus, args.shared), args.score_with)
        write_text(args.save_scores, json.dumps(scores, ensure_ascii=False, indent=0, sort_keys=True) + "\n")
        print(f"{len(scores)} articles scored -> {args.save_scores}")
    elif not args.scores:
        parser.error("--campaign needs --scores FILE (or --score-with MODEL --save-scores FILE)")
    scores = json.loads((args.save_scores or args.scores).read_text(encoding="utf-8"))
    picked = pick_campaign(args.corpus, args.shared, args.count, args.seed, scores)
    splits = campaign_splits(picked, args.test, args.dev, args.seed)
    for doc in picked:
        doc.meta["split"] = splits[doc.id]
    if args.test_topup:
        picked += pick_topup(args.corpus, args.shared, picked, args.test_topup, args.seed, "test", min_cues=4)
    for split, count in (("test", args.dense_test), ("train", args.dense_train)):
        if count:
            picked += pick_goal_dense(args.corpus, args.shared, picked, count, args.seed, split)
    if args.predicted_test:
        predicted = json.loads(args.predicted.read_text(encoding="utf-8"))
        picked += pick_predicted_dense(args.corpus, args.shared, picked, args.predicted_test, args.seed, "test", predicted)
    write_documents(picked, args.out)
    print(f"{len(picked)} articles -> {args.out}")


if __name__ == "__main__":
    main()
