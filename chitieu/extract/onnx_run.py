"""Stage 2, run, on ONNX Runtime: the int8 engine.

The tagger is exported once to ONNX from the model folder's weights and its matrix
products quantised to int8 (weights per output channel, activations per input, ONNX
Runtime's dynamic quantisation; `OrtRunner` makes each input one window). ONNX Runtime's
int8 kernels multiply on AVX2 as well as on AVX-512 and VNNI; on a 2-core AVX2 machine it
is the fastest way to run the model chitieu has measured (README, "Speed").

The exported file is derived, never committed: it is built on first use into the cache
(`chitieu.paths.cache_dir() / "onnx"`), named by the digest of the weights and by this
module's format, and written atomically, so a changed model or a new export recipe never
reads a stale file and two processes building it at once never see half of one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chitieu.paths import cache_dir
from chitieu.windows import Window

log = logging.getLogger(__name__)

#: Bump when the export or the quantisation recipe changes: cached files of another
#: format are then rebuilt instead of read.
ONNX_FORMAT = 1
#: Matrix products left in fp32 (ONNX node names of a transformers BERT/RoBERTa export):
#: each layer's feed-forward output, which reads GELU outputs whose outliers one activation
#: scale per input cannot hold, and the 9-way head, tiny and deciding every tag. On the test
#: split (156 documents, the 2026-12-06 default) quantising those too cost 0.008 span and
#: 0.041 tuple F1; keeping the attention output in fp32 as well bought nothing (README, "Speed").
INT8_KEEPS_FP32 = re.compile(r"(/layer\.\d+/output/dense/MatMul|/classifier/MatMul)$")


class OnnxError(RuntimeError):
    pass


def weights_digest(directory: Path) -> str:
    """A short digest of the folder's weights and config: what the export is made from."""
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors"):
        path = Path(directory) / name
        if not path.is_file():
            raise OnnxError(f"{directory} has no {name}: the int8 engine exports the tagger from a model folder written by `chitieu train`")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def int8_model_path(directory: Path) -> Path:
    return cache_dir() / "onnx" / f"{weights_digest(directory)}-int8-v{ONNX_FORMAT}.onnx"


def export_fp32(directory: Path, out: Path) -> None:
    """The folder's tagger as an fp32 ONNX graph: ids and mask in, logits out, batch and
    length dynamic. Exported with eager attention and a padded example batch, so the mask
    is part of the graph (an all-ones example lets the attention drop it)."""
    import torch
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(str(directory), dtype=torch.float32, attn_implementation="eager").eval()

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    ids = torch.full((2, 16), 5, dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 10:] = 0
    axes = {0: "batch", 1: "length"}
    with torch.inference_mode(), warnings.catch_warnings():
        # The tracer warns of Python branches on shapes (the mask's length always equals
        # the window's here) and of negative indices (none are used); the export is checked
        # against torch in tests/test_fast_path.py.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Logits(), (ids, mask), str(out), dynamo=False, opset_version=17,
            input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": axes},
        )


def build_int8(directory: Path) -> Path:
    """The cached int8 graph for the folder, exported and quantised if it is not there yet."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = int8_model_path(directory)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("exporting %s to ONNX int8 (once; cached at %s)", directory, target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export_fp32(directory, fp32)
        nodes = [n.name for n in onnx.load(str(fp32), load_external_data=False).graph.node]
        keep = [n for n in nodes if INT8_KEEPS_FP32.search(n)]
        quantised = Path(tmp) / "int8.onnx"
        quantize_dynamic(
            str(fp32), str(quantised), weight_type=QuantType.QInt8, per_channel=True,
            nodes_to_exclude=keep, extra_options={"MatMulConstBOnly": True},
        )
        os.chmod(quantised, 0o644)
        os.replace(quantised, target)  # atomic: a concurrent builder's file is the same
    return target


def open_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OrtRunner:
    """The `run` stage on an ONNX Runtime session: windows -> probabilities, one window at a
    time and unpadded.

    Dynamic quantisation scales each product's activations by the largest value in the
    whole input, so a window batched with others (or padded) is quantised differently
    than alone: 8 windows run together moved probabilities by up to 0.78 and flipped 6
    tags. One window per run makes an article's output independent of what else the
    service is running, at about 8% of the speed batching would buy here.
    """

    engine = "int8"

    def __init__(self, session: Any) -> None:
        self.session = session

    @classmethod
    def for_folder(cls, directory: Path, threads: int = 1) -> "OrtRunner":
        return cls(open_session(build_int8(directory), threads))

    def __call__(self, windows: Sequence[Window]) -> list[np.ndarray]:
        out = []
        for window in windows:
            ids = np.asarray([window.input_ids], dtype=np.int64)
            logits = self.session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
            shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
            out.append((shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32))
        return out
