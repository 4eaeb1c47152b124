"""Continued masked-LM pretraining (`chitieu base adapt`) on a tiny base with the real tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chitieu.encoders import e5
from chitieu.encoders.adapt import ADAPT_FILE, AdaptOptions, AdaptSource, adapt, pack
from chitieu.encoders.cli import draw_pool, ids_digest, labelled_split, pool_rule, read_pool_ids, write_pool_ids
from chitieu.train.run import base_build_stamp
from tests.tiny_e5 import write_e5_tokenizer

SENTENCES = Path(__file__).parent / "fixtures" / "e5" / "sentences.txt"


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trimmed e5-small tokenizer and a random 2-layer BERT of width 16, as a base folder."""
    import torch
    from transformers import BertConfig, BertModel

    path = tmp_path_factory.mktemp("tiny-base")
    vocab = write_e5_tokenizer(path)
    config = BertConfig(vocab_size=vocab, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=512, pad_token_id=1)
    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(path)
    (path / e5.STAMP_FILE).write_text(json.dumps({"format_version": 1, "source_sha256": "test"}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [s for s in SENTENCES.read_text(encoding="utf-8").split("\n") if s.strip()][:40]


def test_pack_joins_articles_and_cuts_full_sequences() -> None:
    out = pack([[5, 6, 7], [8, 9]], cls_id=0, sep_id=2, max_tokens=5)
    assert out == [[0, 5, 6, 7, 2], [0, 2, 8, 9, 2], [0, 2, 2]]  # the stream 5 6 7 SEP 8 9 SEP, three at a time
    assert all(len(s) <= 5 and s[0] == 0 and s[-1] == 2 for s in out)
    assert pack([], cls_id=0, sep_id=2, max_tokens=5) == []


@pytest.mark.parametrize("bad", [dict(mask_probability=0.0), dict(max_tokens=4), dict(head_steps=5, max_steps=5),
                                 dict(held_out_share=0.6)])
def test_options_refuse_what_cannot_train(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        AdaptOptions(**bad)  # type: ignore[arg-type]


def test_adapt_learns_the_text_and_writes_a_base_train_can_read(tiny_base: Path, texts: list[str], tmp_path: Path) -> None:
    from safetensors.torch import load_file
    from transformers import AutoModelForTokenClassification

    out = tmp_path / "adapted"
    options = AdaptOptions(layers=1, max_tokens=64, batch_size=8, lr=3e-3, lr_head=3e-3, head_steps=3, max_steps=12, held_out_share=0.2)
    source = AdaptSource(pool="goals", unlabelled_articles=30, split="train", split_texts=10, article_ids_sha256="ab12")
    result = adapt(tiny_base, texts, out, options, source=source)
    assert result.steps == 12
    assert result.held_out_loss_head_only is not None
    assert result.held_out_loss_after < result.held_out_loss_head_only < result.held_out_loss_before
    record = json.loads((out / ADAPT_FILE).read_text(encoding="utf-8"))
    assert record["result"]["steps"] == 12 and record["options"]["layers"] == 1
    assert record["source"] == {"pool": "goals", "unlabelled_articles": 30, "split": "train", "split_texts": 10,
                                "article_ids_sha256": "ab12", "pool_ids": None}
    # The encoder alone, with the bottom layer only, under the names a token classifier loads.
    weights = load_file(str(out / "model.safetensors"))
    assert not any(k.startswith("cls.") for k in weights) and not any(".layer.1." in k for k in weights)
    model = AutoModelForTokenClassification.from_pretrained(str(out), num_labels=9)
    assert model.config.num_hidden_layers == 1
    before = load_file(str(tiny_base / "model.safetensors"))
    name = next(k for k in before if k.endswith("layer.0.attention.self.query.weight"))
    assert not (before[name] == model.bert.state_dict()[name]).all(), "the encoder did not move after the head steps"
    assert (out / "tokenizer.json").is_file()
    # Training on it records where the weights came from, and their licence is e5-small's.
    stamp = base_build_stamp(str(out))
    assert stamp is not None and stamp["source_sha256"] == "test" and stamp["adapted"]["result"]["steps"] == 12


def test_adapt_refuses_an_empty_draw(tiny_base: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no texts"):
        adapt(tiny_base, [], tmp_path / "x", AdaptOptions(layers=1))


def test_held_out_scoring_leaves_the_random_stream_alone(tiny_base: Path, texts: list[str]) -> None:
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM, DataCollatorForLanguageModeling

    from chitieu.encoders.adapt import _chunks, held_out_loss

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_base))
    model = BertForMaskedLM.from_pretrained(str(tiny_base))
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, return_tensors="pt")
    sequences = pack([tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts[:6]], cls_id=0, sep_id=2, max_tokens=32)
    chunks = _chunks(sequences, 4)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    first = held_out_loss(model, collator, chunks, seed=1)
    assert torch.equal(torch.rand(3), expected)
    assert held_out_loss(model, collator, chunks, seed=1) == first  # the same masks each time


def test_pools_go_from_goal_articles_to_every_article() -> None:
    goal = "Năm 2018, tỉnh phấn đấu tốc độ tăng trưởng kinh tế đạt 7,5%."
    cue = "Tỉnh đặt mục tiêu xây dựng nông thôn mới."
    plain = "Sáng nay trời mưa to ở Hà Nội."
    assert [pool_rule("goals")(t) for t in (goal, cue, plain)] == [True, False, False]
    assert [pool_rule("cues")(t) for t in (goal, cue, plain)] == [True, True, False]
    assert all(pool_rule("all")(t) for t in (goal, cue, plain))
    with pytest.raises(ValueError, match="use one of goals, cues, all"):
        pool_rule("some")


@pytest.mark.parametrize("split", ["test", "train+test", "all"])
def test_test_text_is_never_read_for_adaptation(split: str) -> None:
    with pytest.raises(ValueError, match="would read test text"):
        labelled_split(split)


def test_train_and_dev_text_may_be_read() -> None:
    assert labelled_split("train+dev") == "train+dev"


def _article(n: int, goal: bool) -> tuple[str, str]:
    """A fake unlabelled article, long enough to be drawn, with or without a goal value."""
    line = (f"Năm 2018, tỉnh thứ {n} phấn đấu tốc độ tăng trưởng kinh tế đạt {n},5%. " if goal
            else f"Sáng nay trời mưa to ở xã thứ {n}, nước sông dâng cao. ")
    return f"vnnews-{n:05d}", line * (900 // len(line) + 1)


def test_a_frozen_pool_draws_what_its_rule_drew(tmp_path: Path) -> None:
    articles = [_article(n, goal=n % 3 == 0) for n in range(30)]
    by_rule = draw_pool(iter(articles), [], 4, 13, "goals")
    path = tmp_path / "pools" / "goals.txt"
    all_goals = draw_pool(iter(articles), [], 10**9, 0, "goals")
    write_pool_ids(path, [i for i, _ in reversed(all_goals.drawn)], "test pool")
    frozen = read_pool_ids(path)
    assert sorted(frozen) == frozen and len(frozen) == 10
    by_ids = draw_pool(iter(articles), [], 4, 13, "all", frozen)
    assert by_ids.drawn == by_rule.drawn  # same articles, same order
    assert ids_digest(frozen) == ids_digest(reversed(frozen)) == ids_digest(i for i, _ in all_goals.drawn)


def test_a_frozen_pool_refuses_ids_it_cannot_draw(tmp_path: Path) -> None:
    articles = [_article(n, goal=True) for n in range(5)]
    with pytest.raises(ValueError, match=r"1 of the 5 frozen articles cannot be drawn \(vnnews-00004\).*chitieu base pool"):
        draw_pool(iter(articles[:4]), [], 10, 13, "goals", [i for i, _ in articles])
    # An id the stream holds twice must not make up for one it lacks.
    with pytest.raises(ValueError, match="holds vnnews-00003 more than once"):
        draw_pool(iter([*articles[:4], articles[3]]), [], 10, 13, "goals", [i for i, _ in articles])


def test_a_frozen_pool_still_skips_corpus_stories() -> None:
    from chitieu.annotate.corpus import Document

    articles = [_article(n, goal=True) for n in range(3)]
    story = Document(id="raw-001", text=articles[1][1], spans=[], meta={})
    with pytest.raises(ValueError, match=r"cannot be drawn \(vnnews-00001\)"):
        draw_pool(iter(articles), [story], 10, 13, "goals", [i for i, _ in articles])


def test_pool_files_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="chitieu base pool --out"):
        read_pool_ids(tmp_path / "none.txt")
    (tmp_path / "empty.txt").write_text("# only a comment\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="names no article id"):
        read_pool_ids(tmp_path / "empty.txt")
    (tmp_path / "twice.txt").write_text("vnnews-00001\nvnnews-00001  # again\n", encoding="utf-8")
    with pytest.raises(ValueError, match="names vnnews-00001 more than once"):
        read_pool_ids(tmp_path / "twice.txt")
    (tmp_path / "ok.txt").write_text("# header\nvnnews-00002  # a note\n\nvnnews-00001\n", encoding="utf-8")
    assert read_pool_ids(tmp_path / "ok.txt") == ["vnnews-00002", "vnnews-00001"]
    with pytest.raises(ValueError, match="cannot be read as a pool file"):
        read_pool_ids(tmp_path)


def test_the_default_recipe_pool_is_frozen() -> None:
    """The default's base was adapted on these 415 articles (its record: 415 articles, 1,516
    sequences, fresh-head held-out loss 11.3185; `--pool-ids` on this file gives the same)."""
    ids = read_pool_ids(Path(__file__).parents[1] / "annotations" / "pools" / "goals-20261207.txt")
    assert len(ids) == 415
    assert ids_digest(ids) == "46a96c27aedec5266a62c97585efbd178ffafe4a25c2a7186c8cb627e026d7d0"
