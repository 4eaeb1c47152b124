"""A tiny random model in vinai/phobert-base's folder format, for tests and dry runs.

The real weights cannot be downloaded everywhere, yet the PhoBERT path (segmented input,
slow fastBPE tokenizer, 258 positions, RoBERTa's pad/bos/eos ids) must be exercised for
real. This builds a folder with the same files the hub repo has (config.json naming
PhobertTokenizer, vocab.txt, bpe.codes, weights saved from RobertaForMaskedLM), with BPE
merges learned from the given texts, so `AutoTokenizer` / `AutoModelForTokenClassification`
take exactly the code path a downloaded vinai/phobert-base folder takes.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from pathlib import Path

from chitieu.encoders.phobert import PHOBERT_MAX_TOKENS
from chitieu.encoders.segment import phobert_form, segment_words

_END = "</w>"  # fastBPE's end-of-word marker, which PhobertTokenizer.bpe expects in merges
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def build_tiny_phobert(
    out_dir: Path,
    texts: list[str],
    *,
    num_merges: int = 1000,
    hidden_size: int = 32,
    num_layers: int = 2,
    seed: int = 0,
) -> Path:
    """Write a PhoBERT-format folder whose BPE is learned from `texts`; returns `out_dir`."""
    import torch
    from transformers import PhobertTokenizer, RobertaConfig, RobertaForMaskedLM

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    words = Counter(phobert_form(text, word) for text in texts for word in segment_words(text))
    if not words:
        raise ValueError("build_tiny_phobert needs at least one non-empty text to learn BPE from")

    codes = out_dir / "bpe.codes"
    vocab = out_dir / "vocab.txt"
    merges = learn_bpe(words, num_merges)
    codes.write_text("".join(f"{a} {b} {n}\n" for a, b, n in merges), encoding="utf-8")
    # The vocabulary is what PhobertTokenizer itself makes of the words with these merges
    # (so the two files cannot disagree, and the counts are real), plus every character and
    # every merge result in the form it can take: PhobertTokenizer never undoes a merge,
    # so a new word may stop at a symbol no training word ended on.
    vocab.write_text("", encoding="utf-8")
    reader = PhobertTokenizer(str(vocab), str(codes))
    counts: Counter[str] = Counter()
    for word, n in words.items():
        for piece in reader.tokenize(word, split_special_tokens=True):
            counts[piece] += n
        for char in word:
            counts[char] += 0
            counts[char + "@@"] += 0
    for left, right, _ in merges:
        symbol = left + right
        counts[symbol[: -len(_END)] if symbol.endswith(_END) else symbol + "@@"] += 0
    for special in _SPECIALS:
        counts.pop(special, None)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    vocab.write_text("".join(f"{token} {max(n, 1)}\n" for token, n in ordered), encoding="utf-8")

    tokenizer = PhobertTokenizer(str(vocab), str(codes), model_max_length=PHOBERT_MAX_TOKENS)
    tokenizer.save_pretrained(str(out_dir))

    # Heads must divide the width; keep them at least 16 wide, as in the real model (64).
    heads = max(h for h in (1, 2, 4) if hidden_size % h == 0 and (h == 1 or hidden_size // h >= 16))
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden_size,
        max_position_embeddings=PHOBERT_MAX_TOKENS + 2,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        layer_norm_eps=1e-5,
        tokenizer_class="PhobertTokenizer",
    )
    torch.manual_seed(seed)
    RobertaForMaskedLM(config).save_pretrained(str(out_dir))
    return out_dir


def learn_bpe(word_counts: Counter[str], num_merges: int, min_count: int = 2) -> list[tuple[str, str, int]]:
    """fastBPE merges `(left, right, count)`, most frequent first, `</w>` on word-final symbols.

    Pair counts are updated only for the words a merge touches and kept in a heap with
    stale entries skipped, so learning stays fast; ties go to the smaller pair, which makes
    the result deterministic.
    """
    words = [_symbols(word) for word in word_counts]
    freqs = [word_counts[word] for word in word_counts]
    pair_counts: Counter[tuple[str, str]] = Counter()
    where: defaultdict[tuple[str, str], set[int]] = defaultdict(set)
    for i, symbols in enumerate(words):
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += freqs[i]
            where[pair].add(i)
    heap = [(-n, pair) for pair, n in pair_counts.items()]
    heapq.heapify(heap)

    merges: list[tuple[str, str, int]] = []
    while heap and len(merges) < num_merges:
        negative, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative:
            continue  # stale entry: the count changed after it was pushed
        if -negative < min_count:
            break
        merges.append((pair[0], pair[1], -negative))
        changed: set[tuple[str, str]] = set()
        for i in sorted(where.pop(pair, ())):
            old = words[i]
            new = _merge(old, pair)
            if new == old:
                continue
            for p in zip(old, old[1:]):
                pair_counts[p] -= freqs[i]
                changed.add(p)
            for p in zip(new, new[1:]):
                pair_counts[p] += freqs[i]
                where[p].add(i)
                changed.add(p)
            words[i] = new
        for p in changed:
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
            else:
                pair_counts.pop(p, None)
    return merges


def _symbols(word: str) -> list[str]:
    # Same start as PhobertTokenizer.bpe: characters, the last one carrying </w>.
    return list(word[:-1]) + [word[-1] + _END]


def _merge(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out
