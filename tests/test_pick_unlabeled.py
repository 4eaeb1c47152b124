"""The test documents picked from corpus_unlabeled must be re-pickable: their provenance
(annotations/GUIDELINES.md) says which script, corpus and seed chose them."""

import gzip
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from chitieu.annotate.corpus import load_corpus

ROOT = Path(__file__).resolve().parents[1]
PICKED_AGAINST = "6404d07"  # the corpus commit the GUIDELINES.md provenance names


def _pick_module():
    spec = importlib.util.spec_from_file_location("pick_unlabeled", ROOT / "annotations" / "tools" / "pick_unlabeled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _empty_corpus_with_pool(module, tmp_path: Path, texts: dict[str, str]) -> Path:
    """An empty corpus under tmp_path, with `texts` (id -> text) as the unlabelled pool beside it."""
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("", encoding="utf-8")
    unlabeled = tmp_path / "corpus_unlabeled" / "vn_news_2017.jsonl.gz"
    unlabeled.parent.mkdir()
    with gzip.open(unlabeled, "wt", encoding="utf-8") as fh:
        for doc_id, text in texts.items():
            fh.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
    module.nfc_articles.cache_clear()  # the pool is read once per process
    return corpus


def _corpus_at(commit: str, tmp_path: Path) -> Path:
    """The corpus as committed at `commit`, written under tmp_path (skips without that history)."""
    shown = subprocess.run(["git", "show", f"{commit}:annotations/corpus.jsonl"], cwd=ROOT, capture_output=True, text=True)
    if shown.returncode != 0:
        pytest.skip(f"no git history with commit {commit} here: {shown.stderr.strip()}")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(shown.stdout, encoding="utf-8")
    return corpus


def test_the_added_test_documents_are_what_the_pick_script_chooses(shared, tmp_path):
    corpus = _corpus_at(PICKED_AGAINST, tmp_path)
    earlier = {json.loads(line)["id"] for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()}

    module = _pick_module()
    picked = module.pick(corpus, shared, 24, 20261201)

    added = {
        d.id: d for d in load_corpus(ROOT / "annotations", "test") if d.id not in earlier and "campaign" not in d.meta
    }
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


def _assert_committed(picked, campaign: str) -> None:
    """The re-picked articles are the committed ones of `campaign`, text for text, each
    picked the same way and in the split the draw gave it."""
    committed = {d.id: d for d in load_corpus(ROOT / "annotations") if d.meta.get("campaign") == campaign}
    assert picked and {d.id for d in picked} == set(committed)
    assert all(committed[d.id].text == d.text and committed[d.id].meta["pick"] == d.meta["pick"] for d in picked)
    on_disk = json.loads((ROOT / "annotations" / "splits.json").read_text(encoding="utf-8"))
    assert all(d.id in on_disk[d.meta["split"]] for d in picked), "each document sits in the split the draw gave it"


ROUND_2_AGAINST = "20ea9a0"  # the corpus the 2026-12-06 round was picked against
CAMPAIGN_AGAINST = "3b76d8f"  # the corpus commit the 2026-12-05 campaign was picked against
CAMPAIGN_SCORES = ROOT / "annotations" / "tools" / "campaign-20261205-scores.json"


@pytest.mark.slow  # four scans of the 35,152 articles and the rule goal check over thousands: minutes
def test_the_campaign_documents_are_what_the_pick_script_chooses(shared, tmp_path):
    corpus = _corpus_at(CAMPAIGN_AGAINST, tmp_path)
    module = _pick_module()
    picked = module.pick_campaign(corpus, shared, 270, 20261205, json.loads(CAMPAIGN_SCORES.read_text(encoding="utf-8")))
    splits = module.campaign_splits(picked, 36, 24, 20261205)
    topup = module.pick_topup(corpus, shared, picked, 24, 20261205, "test", 4)
    splits.update({d.id: "test" for d in topup})
    picked += topup
    for split, count in (("test", 24), ("train", 60)):
        dense = module.pick_goal_dense(corpus, shared, picked, count, 20261205, split)
        splits.update({d.id: split for d in dense})
        picked += dense
    predicted = json.loads((CAMPAIGN_SCORES.parent / "campaign-20261205-predicted-targets.json").read_text(encoding="utf-8"))
    topup = module.pick_predicted_dense(corpus, shared, picked, 20, 20261205, "test", predicted)
    splits.update({d.id: "test" for d in topup})
    picked += topup

    committed = {d.id: d for d in load_corpus(ROOT / "annotations") if d.meta.get("campaign") == "2026-12-05"}
    assert [d.id for d in picked] and {d.id for d in picked} == set(committed)
    assert all(committed[d.id].text == d.text for d in picked)
    assert all(committed[d.id].meta["pick"] == d.meta["pick"] and committed[d.id].meta["kind"] == d.meta["kind"] for d in picked)
    on_disk = json.loads((ROOT / "annotations" / "splits.json").read_text(encoding="utf-8"))
    assert all(doc_id in on_disk[split] for doc_id, split in splits.items()), "each document sits in the split the draw gave it"


@pytest.mark.slow
@pytest.mark.shared
def test_the_2026_12_06_round_is_what_the_pick_script_chooses(shared, tmp_path):
    """The top-up round: `--campaign --count 0 --topup-campaign 2026-12-06 --min-rule-goals 2
    --dense-test 10 --dense-train 110 --seed 20261206` against the corpus of 20ea9a0."""
    corpus = _corpus_at(ROUND_2_AGAINST, tmp_path)
    module = _pick_module()
    picked = []
    for split, count in (("test", 10), ("train", 110)):
        picked += module.pick_goal_dense(corpus, shared, picked, count, 20261206, split, 2, "2026-12-06")
    assert len(picked) == 120
    _assert_committed(picked, "2026-12-06")


ROUND_3_AGAINST = "50c155b"  # the corpus the 2026-12-06b round was picked against
ROUND_3_PREDICTED = ROOT / "annotations" / "tools" / "round-20261206b-predicted-targets.json"


@pytest.mark.slow
@pytest.mark.shared
def test_the_2026_12_06b_round_is_what_the_pick_script_chooses(shared, tmp_path):
    """`--campaign --count 0 --topup-campaign 2026-12-06b --predicted ... --min-targets 1
    --predicted-test 12 --predicted-train 200 --seed 202612062` against the corpus of 50c155b."""
    corpus = _corpus_at(ROUND_3_AGAINST, tmp_path)
    module = _pick_module()
    predicted = json.loads(ROUND_3_PREDICTED.read_text(encoding="utf-8"))
    assert {i for i, _ in module.predicted_pool(corpus, shared)} == set(predicted), "the committed counts cover the pool"
    picked = module.pick_predicted_round(corpus, shared, predicted, 12, 200, 202612062, "2026-12-06b", 1)
    _assert_committed(picked, "2026-12-06b")


ROUND_4_AGAINST = "c30c2d8"  # the corpus the 2026-12-06c round was picked against
ROUND_4_PREDICTED = ROOT / "annotations" / "tools" / "round-20261206c-predicted-targets.json"
ROUND_4_UNCERTAIN = ROOT / "annotations" / "tools" / "round-20261206c-uncertainty-scores.json"


@pytest.mark.slow
@pytest.mark.shared
def test_the_2026_12_06c_round_is_what_the_pick_script_chooses(shared, tmp_path):
    """`--campaign --count 0 --topup-campaign 2026-12-06c --pool wide --predicted ...
    --min-targets 1 --predicted-train 400 --predicted-dev 16 --dense-train 70
    --min-rule-goals 1 --scores ... --uncertain-train 36 --seed 202612063` against the
    corpus of c30c2d8."""
    corpus = _corpus_at(ROUND_4_AGAINST, tmp_path)
    module = _pick_module()
    predicted = json.loads(ROUND_4_PREDICTED.read_text(encoding="utf-8"))
    uncertain = json.loads(ROUND_4_UNCERTAIN.read_text(encoding="utf-8"))
    pool = {i for i, _ in module.predicted_pool(corpus, shared, "wide")}
    assert pool == set(predicted) == set(uncertain), "the committed counts and scores cover the pool"
    picked = module.pick_predicted_round(corpus, shared, predicted, 0, 400, 202612063, "2026-12-06c", 1, "wide", 16)
    picked += module.pick_rule_ranked(corpus, shared, picked, 70, 202612063, "train", 1, "2026-12-06c", "wide")
    picked += module.pick_uncertain_ranked(corpus, shared, picked, 36, 202612063, "train", uncertain, "2026-12-06c", "wide")
    assert len(picked) == 175
    _assert_committed(picked, "2026-12-06c")


def test_the_campaign_takes_the_least_sure_half_then_every_kind_in_turn(tmp_path):
    module = _pick_module()
    vocab = [f"từ{i}" for i in range(20000)]
    kinds = {
        "party-congress": "Đại hội Đại hội nhiệm kỳ",
        "budget": "dự toán ngân sách dự toán",
        "city": "Hà Nội Đà Nẵng Hà Nội",
    }
    texts, scores = {}, {}
    for k in range(12):
        kind = list(kinds)[k % 3]
        own = " ".join(vocab[k * 600 : (k + 1) * 600])
        texts[f"a{k}"] = (
            f"UBND tỉnh và Chính phủ họp. Nghị quyết đề ra chỉ tiêu {k}1.{k}11 tỷ đồng, mục tiêu {k}2,{k}%. {kinds[kind]}. {own}"
        )
        scores[f"a{k}"] = float(k)
    assert all(module.campaign_qualifies(t) for t in texts.values())
    assert {module.kind_of(texts[f"a{k}"]) for k in range(3)} == set(kinds)
    corpus = _empty_corpus_with_pool(module, tmp_path, texts)

    picked = module.pick_campaign(corpus, tmp_path, 6, 1, scores)
    assert [d.id for d in picked[:3]] == ["a11", "a10", "a9"] and {d.meta["pick"] for d in picked[:3]} == {"uncertainty"}
    assert sorted(d.meta["kind"] for d in picked[3:]) == sorted(kinds), "the second half takes one of each kind"
    with pytest.raises(ValueError, match="no uncertainty score"):
        module.pick_campaign(corpus, tmp_path, 6, 1, {"a0": 1.0})


def test_a_predicted_round_takes_kinds_in_turn_densest_first_and_skips_near_duplicates(tmp_path):
    module = _pick_module()
    vocab = [f"từ{i}" for i in range(20000)]
    kinds = {"party-congress": "Đại hội Đại hội nhiệm kỳ", "budget": "dự toán ngân sách dự toán", "city": "Hà Nội Đà Nẵng Hà Nội"}
    texts, predicted = {}, {}
    for k in range(9):
        kind = list(kinds)[k % 3]
        own = " ".join(vocab[k * 600 : (k + 1) * 600])
        texts[f"a{k}"] = f"UBND tỉnh họp. Nghị quyết đề ra chỉ tiêu {k}1.{k}11 tỷ đồng, mục tiêu {k}2,{k}%. {kinds[kind]}. {own}"
        predicted[f"a{k}"] = k  # a8 (city) is the densest, a0 the sparsest
    texts["copy"] = texts["a8"].replace("UBND tỉnh họp", "UBND tỉnh đã họp")  # another outlet's a8
    predicted["copy"] = 99
    corpus = _empty_corpus_with_pool(module, tmp_path, texts)

    picked = module.pick_predicted_round(corpus, tmp_path, predicted, 1, 3, 7, "round-x", min_targets=3)
    # Kinds in turn, the densest of each first: the copy (99, city) then party-congress a6,
    # budget a7; a8 is the copy's near-duplicate and never taken; a0-a2 are under 3 targets.
    assert [d.id for d in picked] == ["a6", "a7", "copy", "a3"]
    assert [d.meta["split"] for d in picked] == ["test", "train", "train", "train"]  # the densest first to test
    assert all(d.meta["campaign"] == "round-x" and d.meta["predicted_targets"] == predicted[d.id] for d in picked)
    again = module.pick_predicted_round(corpus, tmp_path, predicted, 1, 3, 7, "round-x", min_targets=3)
    assert [(d.id, d.meta["split"]) for d in again] == [(d.id, d.meta["split"]) for d in picked]


def test_the_wide_pool_reads_future_years_and_long_articles_and_ranks_by_rule_goals(tmp_path):
    module = _pick_module()
    vocab = [f"từ{i}" for i in range(30000)]
    own = lambda k, n: " ".join(vocab[k * 2000 : k * 2000 + n])  # noqa: E731 - distinct filler per article
    texts = {
        "year": f"Đến năm 2020 tỉnh có 50% xã đạt chuẩn nông thôn mới. {own(0, 150)}",  # a future year, no goal word
        "long": f"Năm 2018 tỉnh phấn đấu thu ngân sách 5.000 tỷ đồng và tăng trưởng 8%, xuất khẩu đạt 2 tỷ USD. {own(1, 1800)}",
        "one": f"UBND tỉnh họp. Năm 2018, phấn đấu tăng trưởng GRDP đạt 9,3%. {own(2, 150)}",
        "none": f"Hôm qua trời mưa 30 mm. {own(3, 150)}",
    }
    corpus = _empty_corpus_with_pool(module, tmp_path, texts)
    assert 9000 < len(texts["long"]) <= 20000

    assert [i for i, _ in module.predicted_pool(corpus, tmp_path, "wide")] == ["year", "long", "one"]
    assert [i for i, _ in module.predicted_pool(corpus, tmp_path, "cue")] == ["one"]  # the 2026-12-06b pool is unchanged
    with pytest.raises(ValueError, match="choose one of cue, wide"):
        module.predicted_pool(corpus, tmp_path, "all")

    # The model found a target in "one" only; the rest are read by rule goals, most first.
    picked = module.pick_predicted_round(corpus, tmp_path, {"year": 0, "long": 0, "one": 2}, 0, 5, 3, "r", 1, "wide", 1)
    assert [(d.id, d.meta["split"]) for d in picked] == [("one", "dev")]
    picked += module.pick_rule_ranked(corpus, tmp_path, picked, 5, 3, "train", 1, "r", "wide")
    assert [d.id for d in picked] == ["one", "long", "year"]
    assert picked[1].meta["split"] == "train" and picked[1].meta["pick"].startswith("rule-ranked")
    # Or by how unsure the model is, the least sure first; an article it is sure about is never read.
    unsure = module.pick_uncertain_ranked(corpus, tmp_path, [], 5, 3, "train", {"year": 1.0, "long": 5.0, "one": 0.0}, "r", "wide")
    assert [d.id for d in unsure] == ["long", "year"] and unsure[0].meta["pick"].startswith("uncertain")
