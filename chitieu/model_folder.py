"""A trained model folder: weights, tokenizer, label map, and chitieu's own metadata.

Layout (all written by `chitieu train`):
  config.json, model.safetensors   transformers token-classification model (id2label inside)
  tokenizer files                  whatever the base's adapter saves
  chitieu.json                     name, version, base, licence, options, data hash, metrics
  README.md                        model card with the metrics table
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chitieu.encoders.base import WordPieceAdapter
from chitieu.files import write_text
from chitieu.labels import BIO_TAGS

META_FILE = "chitieu.json"
# The extraction pipeline behind a model's recorded metrics (decode, refine, goal vote,
# linking). Bump it when a change alters what those figures mean: `chitieu models promote`
# compares only figures measured with the same pipeline, and `chitieu models measure`
# re-measures an older model. 1: decode and linking; 2: refine with the result check;
# 3: the goal vote; 4: comparator signs (`≥ 95%`) in values; 5: value completion, indicator
# trim and the result check removed (they did not pay in cross-validation or on test); 6: the
# tagger's indicators grown to the chooser's phrase; 7: the official check; 8: the province
# context check (refine); 9: restated goal figures keep the vote's decision (refine); 10:
# universities, stations, plants, exchanges and named projects in the province context check,
# and historical figures are no officials (refine); 11: function words (`của`, `với`, `tại`)
# cut from an indicator's end, and no chooser candidate ends with one; 12: a military or market
# `mục tiêu` is no goal cue, and a company's goals and the figures a goal replaces are no
# targets, an indicator loses the framing words it starts with (`mức`, `các`), and one that is
# a syllable of a longer word is dropped (refine); 13: an indicator that ends inside a word runs
# on to the word's end (refine); 14: a company named without its kind (`Samsung phấn đấu`, once
# the article said `Tập đoàn Samsung`) sets no target, nor is a figure followed by the share of
# its plan it reaches (`..., đạt 87,7% kế hoạch`) one (refine); 15: a value or indicator that
# stops inside a written word runs on to its end (`trên 70` + `%`, refine `glued-end`), and
# value expressions keep a per-unit that ends in a digit (`triệu đồng/m2`); the goal vote also
# asks the rules and the classifier about tagger values no value expression covers, and the
# indicator chooser is offered values whose only indicator lies before another value.
PIPELINE_VERSION = 15


class ModelFolderError(RuntimeError):
    pass


def write_weights_file(path: Path, format_version: int, kind: str, fields: dict[str, Any], weights: dict[str, float]) -> Path:
    """A decision component's JSON file (goal classifier, indicator chooser): its format
    version, what it is, its scalar fields, and its non-zero weights rounded to 6 places;
    written atomically, so a reload never reads half a file."""
    payload = {
        "format_version": format_version,
        "kind": kind,
        **fields,
        "weights": {k: round(v, 6) for k, v in sorted(weights.items()) if round(v, 6) != 0.0},
    }
    write_text(path, json.dumps(payload, ensure_ascii=False, indent=0))
    return path


def read_weights_file(path: Path, format_version: int) -> dict[str, Any] | None:
    """The file's content, or None when the folder has none (older or test-built models);
    a file of another format version is refused with the command that refits it."""
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format_version") != format_version:
        raise ValueError(
            f"{path} has format {data.get('format_version')}, this chitieu reads {format_version}: "
            f"refit it with `chitieu models fit-goals {path.parent.name}`"
        )
    return data


def write_meta(directory: Path, meta: dict[str, Any]) -> None:
    """Replace chitieu.json and metrics.json, each atomically."""
    write_text(Path(directory) / META_FILE, json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    write_text(Path(directory) / "metrics.json", json.dumps(meta.get("metrics", {}), ensure_ascii=False, indent=1) + "\n")


def read_meta(directory: Path) -> dict[str, Any]:
    path = Path(directory) / META_FILE
    if not path.exists():
        raise ModelFolderError(
            f"{directory} is not a chitieu model folder ({META_FILE} missing); train one with `chitieu train`"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelFolderError("device=cuda was asked for but torch sees no GPU; use device=auto or cpu")
    return device


def open_model_folder(directory: Path) -> tuple[WordPieceAdapter, dict[str, Any]]:
    """The folder's adapter and metadata, its label map checked, its weights not loaded
    (the int8 engine reads them through its own export)."""
    from transformers import AutoConfig

    from chitieu.encoders.loader import open_adapter

    directory = Path(directory)
    meta = read_meta(directory)
    try:
        config = AutoConfig.from_pretrained(str(directory))
    except Exception as err:  # transformers raises OSError or ValueError for a bad config.json
        raise ModelFolderError(f"cannot read the model config in {directory}: {type(err).__name__}: {err}") from err
    labels = [config.id2label[i] for i in range(config.num_labels)]
    if labels != list(BIO_TAGS):
        raise ModelFolderError(f"{directory} predicts labels {labels}, expected {list(BIO_TAGS)}")
    return open_adapter(str(directory)), meta


def load_model_folder(
    directory: Path, device: str = "auto", engine: str = "fp32"
) -> tuple[Any, WordPieceAdapter, dict[str, Any]]:
    """The torch model on its device in eval mode, converted for `engine` (chitieu.engines:
    fp32, bf16, fp16 or auto), the adapter, and the metadata; clear errors otherwise."""
    import torch
    from transformers import AutoModelForTokenClassification

    from chitieu.engines import apply_engine, resolve_engine

    directory = Path(directory)
    adapter, meta = open_model_folder(directory)
    dev = pick_device(device)
    chosen = resolve_engine(engine, dev)  # before the weights load: a bad choice fails fast
    try:
        model = AutoModelForTokenClassification.from_pretrained(str(directory), dtype=torch.float32)
    except Exception as err:  # safetensors and torch raise their own types for corrupt files
        raise ModelFolderError(f"cannot load the weights in {directory}: {type(err).__name__}: {err}") from err
    model.to(dev).eval()
    model = apply_engine(model, chosen)
    return model, adapter, meta


def promoted_pointer(models_dir: Path) -> Path:
    return Path(models_dir) / "PROMOTED"


def read_promoted(models_dir: Path) -> Path | None:
    pointer = promoted_pointer(models_dir)
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return Path(models_dir) / name if name else None


def write_promoted(models_dir: Path, name: str) -> None:
    """Point at a model folder atomically and durably: a unique temp file, flushed to disk,
    renamed over the pointer, then the folder flushed, so a crash leaves the old or the new
    name and two promotions never share a temp file."""
    write_text(promoted_pointer(models_dir), name + "\n")


def resolve_model_folder(model: str | Path | None, models_dir: Path) -> Path:
    """A model folder from a path, a folder name under the models folder, or the promoted one."""
    if model is None:
        promoted = read_promoted(models_dir)
        if promoted is None:
            raise ModelFolderError(
                f"no model given and nothing promoted in {models_dir}: train one with `chitieu train`, promote "
                "it with `chitieu models promote NAME`, or pass a model folder"
            )
        return promoted
    path = Path(model)
    if path.is_dir():
        return path
    if (Path(models_dir) / str(model)).is_dir():
        return Path(models_dir) / str(model)
    raise ModelFolderError(f"no model folder {model!r} (as a path or under {models_dir}); `chitieu models list` shows them")
