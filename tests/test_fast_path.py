"""The fast path: length-bucketed batches, the engines (fp32, int8, bf16), thread settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from chitieu.engines import EngineError, configure_threads, cpu_cores, resolve_engine
from chitieu.extract.extractor import Extractor
from chitieu.extract.run import TorchRunner, length_groups
from chitieu.model_folder import load_model_folder
from chitieu.windows import Window
from tests.tiny_e5 import build_tiny_e5


def _padding_share(lengths: list[int], group: list[int]) -> float:
    width = max(lengths[i] for i in group)
    return 1 - sum(lengths[i] for i in group) / (width * len(group))


def test_length_groups_keep_short_tails_out_of_full_batches() -> None:
    # Three articles' windows: full ones and their tails, in document order.
    lengths = [256, 256, 40, 256, 120, 256, 256, 256, 250, 38]
    groups = length_groups(lengths, max_batch=4, max_padding=0.1)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert all(len(g) <= 4 for g in groups)
    assert all(_padding_share(lengths, g) <= 0.1 for g in groups)
    assert [lengths[i] for i in groups[0]] == [256, 256, 256, 256]
    assert any(sorted(lengths[i] for i in g) == [38, 40] for g in groups)  # the tails share a batch
    padded = sum(max(lengths[i] for i in g) * len(g) for g in groups)
    naive = sum(max(lengths[k : k + 4]) * len(lengths[k : k + 4]) for k in range(0, len(lengths), 4))
    assert padded < 0.8 * naive


def test_length_groups_edge_cases() -> None:
    assert length_groups([], 8) == []
    assert length_groups([5], 8) == [[0]]
    assert length_groups([10, 10, 10], 1) == [[0], [1], [2]]
    # No padding allowed: only equal lengths share a batch.
    assert length_groups([10, 9, 10, 9], 8, max_padding=0.0) == [[0, 2], [1, 3]]


def _window(n: int, offset: int = 0) -> Window:
    ids = [0] + [(offset + k) % 50 + 5 for k in range(n - 2)] + [2]
    return Window(ids, [-1] + list(range(n - 2)) + [-1], [False] + [True] * (n - 2) + [False])


def test_runner_results_do_not_depend_on_the_batching() -> None:
    widths: list[int] = []

    def logits_of(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        widths.append(ids.shape[1])
        # Each position's logits depend on its own token only: padding must not matter.
        return torch.nn.functional.one_hot(ids % 9, 9).float() * 3 + mask[..., None]

    windows = [_window(n, k) for k, n in enumerate([64, 12, 64, 30, 64, 11])]
    runner = TorchRunner(logits_of, pad_id=1, device="cpu", batch_size=4, pad_multiple=1)
    batched = runner(windows)
    assert sorted(widths) == [12, 30, 64]  # the tails are not padded to 64
    widths.clear()
    rounded = TorchRunner(logits_of, pad_id=1, device="cpu", batch_size=4, pad_multiple=16)(windows)
    assert sorted(widths) == [16, 32, 64]  # few shapes: widths in multiples of 16
    alone = [TorchRunner(logits_of, pad_id=1, device="cpu", batch_size=1)([w])[0] for w in windows]
    for w, a, b, c in zip(windows, batched, alone, rounded):
        assert a.shape == c.shape == (len(w.input_ids), 9)
        np.testing.assert_allclose(a, b, rtol=1e-6)
        np.testing.assert_allclose(a, c, rtol=1e-6)
    assert runner([]) == []


def test_engine_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHITIEU_ENGINE", raising=False)
    assert resolve_engine("fp32", "cpu") == "fp32"
    assert resolve_engine("int8", "cpu") == "int8"
    assert resolve_engine("auto", "cpu") in ("fp32", "bf16")
    with pytest.raises(EngineError, match="CPU only"):
        resolve_engine("int8", "cuda")
    with pytest.raises(EngineError, match="GPUs only"):
        resolve_engine("fp16", "cpu")
    with pytest.raises(EngineError, match="use one of"):
        resolve_engine("int4", "cpu")


def test_auto_on_cpu_is_bf16_only_with_hardware_bf16(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chitieu import engines

    amx = tmp_path / "amx"
    amx.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile\n", encoding="utf-8")
    plain = tmp_path / "plain"
    plain.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n", encoding="utf-8")
    assert engines.cpu_has_bf16(amx) and not engines.cpu_has_bf16(plain)
    assert not engines.cpu_has_bf16(tmp_path / "absent")
    monkeypatch.delenv("CHITIEU_ENGINE", raising=False)
    monkeypatch.setattr(engines, "has_onnxruntime", lambda: False)
    with pytest.raises(EngineError, match="needs onnxruntime"):
        resolve_engine("int8", "cpu")
    monkeypatch.setattr(engines, "cpu_has_bf16", lambda: True)
    assert resolve_engine("auto", "cpu") == "bf16"
    monkeypatch.setattr(engines, "cpu_has_bf16", lambda: False)
    assert resolve_engine("auto", "cpu") == "fp32"


def test_auto_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHITIEU_ENGINE", "int8")
    assert resolve_engine("auto", "cpu") == "int8"
    assert resolve_engine("fp32", "cpu") == "fp32"  # an explicit choice wins
    monkeypatch.setenv("CHITIEU_ENGINE", "fp16")
    with pytest.raises(EngineError, match="GPUs only"):
        resolve_engine("auto", "cpu")
    monkeypatch.setenv("CHITIEU_ENGINE", "int4")
    with pytest.raises(EngineError, match="CHITIEU_ENGINE"):
        resolve_engine("auto", "cpu")


def test_threads_follow_the_cores() -> None:
    before = torch.get_num_threads()
    try:
        assert configure_threads() == cpu_cores() == torch.get_num_threads()
        assert configure_threads(1) == 1 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, default_model_dir: Path) -> Path:
    return build_tiny_e5(tmp_path_factory.mktemp("fast") / "tiny-e5", default_model_dir, hidden=64, layers=2)


def test_int8_quantises_the_encoder_and_keeps_the_head(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import onnx

    from chitieu.extract.onnx_run import OrtRunner, build_int8

    monkeypatch.setenv("CHITIEU_CACHE", str(tmp_path))
    path = build_int8(tiny)
    assert path.parent == tmp_path / "onnx"
    nodes = onnx.load(str(path)).graph.node
    plain = {n.name for n in nodes if n.op_type == "MatMul"}
    # The weights of queries, keys, values, the attention output and the feed-forward
    # expansion are int8 (one integer product per layer and matrix)...
    assert sum(n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul") for n in nodes) == 2 * 5
    # ...the feed-forward outputs, which read GELU, and the head stay fp32.
    for name in ("/model/bert/encoder/layer.1/output/dense/MatMul", "/model/classifier/MatMul"):
        assert name in plain, sorted(plain)
    # Built once: a second load reads the cached file.
    built = path.stat().st_mtime_ns
    extractor = Extractor.load(tiny, device="cpu", engine="int8")
    assert isinstance(extractor.runner, OrtRunner) and path.stat().st_mtime_ns == built
    with pytest.raises(EngineError, match="GPUs only"):
        load_model_folder(tiny, "cpu", "fp16")
    with pytest.raises(EngineError, match="ONNX Runtime"):
        load_model_folder(tiny, "cpu", "int8")


def test_int8_output_does_not_depend_on_the_batch(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dynamic quantisation scales activations by the whole input: the runner must not let
    other windows (another request's, pooled by the service) change a window's output."""
    monkeypatch.setenv("CHITIEU_CACHE", str(tmp_path))
    extractor = Extractor.load(tiny, device="cpu", engine="int8")
    first = extractor.prepare("Năm 2025 tỉnh Bến Tre phấn đấu tăng trưởng GRDP từ 9,3% trở lên. " * 9).windows
    other = extractor.prepare("Giám đốc Sở Tài chính cho biết tổng chi ngân sách đạt 12.000 tỷ đồng. " * 20).windows
    alone = extractor.run(first)
    pooled = extractor.run([*other, *first])[len(other) :]
    for a, b in zip(alone, pooled):
        np.testing.assert_array_equal(a, b)


def test_int8_export_follows_the_weights(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A retrained folder gets its own export: the cache is keyed by the weights' digest."""
    import shutil

    from chitieu.extract.onnx_run import int8_model_path

    monkeypatch.setenv("CHITIEU_CACHE", str(tmp_path))
    copy = tmp_path / "copy"
    shutil.copytree(tiny, copy)
    assert int8_model_path(copy) == int8_model_path(tiny)
    model, _, _ = load_model_folder(copy, "cpu", "fp32")
    with torch.no_grad():
        model.classifier.bias.add_(1.0)
    model.save_pretrained(str(copy))
    assert int8_model_path(copy) != int8_model_path(tiny)


def test_bf16_runs_linear_layers_in_bf16_and_keeps_the_rest_fp32(tiny: Path) -> None:
    model, _, _ = load_model_folder(tiny, "cpu", "bf16")
    layer = model.base_model.encoder.layer[0]
    assert layer.intermediate.dense.weight.dtype == torch.bfloat16
    assert layer.output.LayerNorm.weight.dtype == torch.float32
    assert model.classifier.weight.dtype == torch.float32


@pytest.mark.parametrize("engine", ["int8", "bf16"])
def test_fast_engines_track_fp32(tiny: Path, engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHITIEU_CACHE", str(tmp_path))  # int8's export goes here, not to the user's cache
    text = "Bí thư Tỉnh ủy Bến Tre Lê Đức Thọ đề nghị phấn đấu đạt mức tăng trưởng GRDP từ 9,3% trở lên. " * 12
    reference = Extractor.load(tiny, device="cpu", engine="fp32")
    fast = Extractor.load(tiny, device="cpu", engine=engine)
    assert fast.runner.engine == engine and reference.runner.engine == "fp32"
    windows = reference.prepare(text).windows
    assert len(windows) > 2
    for a, b in zip(reference.run(windows), fast.run(windows)):
        assert a.shape == b.shape and b.dtype == np.float32
        assert np.abs(a - b).max() < 0.05  # a random tiny model: close probabilities, not argmax ties


def test_rounded_widths_leave_a_real_model_s_probabilities_alone(tiny: Path) -> None:
    model, adapter, _ = load_model_folder(tiny, "cpu", "fp32")
    extractor = Extractor.load(tiny, device="cpu", engine="fp32")
    windows = extractor.prepare("Năm 2025 tỉnh phấn đấu tăng trưởng GRDP từ 9,3% trở lên. " * 9).windows
    exact = TorchRunner.for_model(model, adapter.pad_id, "cpu", 4)
    exact.pad_multiple = 1
    rounded = TorchRunner.for_model(model, adapter.pad_id, "cpu", 4)
    assert rounded.pad_multiple == 32
    for a, b in zip(exact(windows), rounded(windows)):
        np.testing.assert_allclose(a, b, atol=1e-5)
