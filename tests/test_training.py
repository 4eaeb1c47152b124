"""Training end to end on a tiny PhoBERT-format model: overfit, save, reload, same output."""

import json

import pytest

from chitieu.annotate.corpus import Document, Span, nested_share, write_documents
from chitieu.extract.extractor import Extractor
from chitieu.model_folder import read_meta
from chitieu.train.options import TrainOptions
from chitieu.train.run import span_scores, train
from tests.phobert_tiny import build_tiny_phobert

SENTENCES = [
    (
        "Bí thư Tỉnh ủy Bến Tre Lê Đức Thọ đề nghị phấn đấu đạt mức tăng trưởng GRDP từ 9,3% trở lên.",
        [("Bến Tre", "PROVINCE"), ("Lê Đức Thọ", "OFFICIAL"), ("tăng trưởng GRDP", "INDICATOR"), ("từ 9,3% trở lên", "TARGET_VALUE")],
    ),
    (
        "Năm 2024, Long An phấn đấu thu ngân sách nội địa trên 6.000 tỷ đồng, ông Nguyễn Văn Út cho biết.",
        [("Long An", "PROVINCE"), ("thu ngân sách nội địa", "INDICATOR"), ("trên 6.000 tỷ đồng", "TARGET_VALUE"), ("Nguyễn Văn Út", "OFFICIAL")],
    ),
]


def make_doc(i, text, marks):
    spans = [Span(start=text.index(t), end=text.index(t) + len(t), label=label) for t, label in marks]
    return Document(id=f"d{i}", text=text, spans=spans)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    docs = [make_doc(i, text, marks) for i, (text, marks) in enumerate(SENTENCES)]
    write_documents(docs, root / "corpus.jsonl")
    (root / "splits.json").write_text(json.dumps({"train": ["d0", "d1"], "dev": ["d0", "d1"], "test": ["d0", "d1"]}))
    return root, docs


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory, corpus_dir):
    _, docs = corpus_dir
    return build_tiny_phobert(tmp_path_factory.mktemp("tiny") / "phobert", [d.text for d in docs] * 3, hidden_size=64)


@pytest.fixture(scope="module")
def overfit_model(tmp_path_factory, corpus_dir, tiny_base):
    root, _ = corpus_dir
    opts = TrainOptions(
        base=str(tiny_base), annotations=root, out=tmp_path_factory.mktemp("models"), name="overfit",
        epochs=60, patience=60, batch_size=2, lr_encoder=1e-3, lr_head=1e-2, warmup_ratio=0.0, seed=1, threads=1,
        save_dtype="fp32",
    )
    return train(opts)


def entities_of(doc):
    return sorted((s.start, s.end, s.label) for s in doc.spans)


def test_overfits_two_documents_and_records_its_metrics(overfit_model, corpus_dir):
    _, docs = corpus_dir
    meta = read_meta(overfit_model)
    assert meta["metrics"]["dev"]["micro_f1"] == 1.0
    assert meta["base"]["kind"] == "phobert" and meta["options"]["max_tokens"] <= 256
    assert json.loads((overfit_model / "metrics.json").read_text())["test"]["micro_f1"] == 1.0
    assert "| dev | **micro** |" in (overfit_model / "README.md").read_text()
    extractor = Extractor.load(overfit_model, device="cpu")
    for doc in docs:
        got = extractor.extract(doc.text)["entities"]
        assert sorted((e["start"], e["end"], e["label"]) for e in got) == entities_of(doc)


def test_saved_model_reloads_to_the_same_predictions_and_batch_equals_single(overfit_model, corpus_dir):
    _, docs = corpus_dir
    first, second = Extractor.load(overfit_model), Extractor.load(overfit_model)
    texts = [(d.id, d.text) for d in docs]
    batch = second.extract_many(texts)
    single = [first.extract(text, doc_id) for doc_id, text in texts]
    assert batch == single
    (target,) = [t for t in single[0]["targets"]]
    assert target["official"]["name"] == "Lê Đức Thọ" and target["value"]["number"] == 9.3


def test_same_seed_same_metrics(corpus_dir, tiny_base, tmp_path):
    root, _ = corpus_dir
    metrics = []
    for run in range(2):
        opts = TrainOptions(base=str(tiny_base), annotations=root, out=tmp_path, name=f"run{run}", epochs=2, batch_size=2, seed=5, threads=1)
        metrics.append(read_meta(train(opts))["metrics"])
    assert metrics[0] == metrics[1]


def test_writing_refuses_to_overwrite_before_training_and_replaces_with_overwrite(corpus_dir, tiny_base, tmp_path, monkeypatch):
    root, _ = corpus_dir
    opts = TrainOptions(base=str(tiny_base), annotations=root, out=tmp_path, name="m", epochs=1, max_steps=1, threads=1)
    first = read_meta(train(opts))
    import chitieu.train.loop as loop

    def must_not_train(*args, **kwargs):
        raise AssertionError("the name clash must be caught before any training")

    monkeypatch.setattr(loop, "fit", must_not_train)
    with pytest.raises(FileExistsError, match="--overwrite"):
        train(opts)
    monkeypatch.undo()
    import time

    time.sleep(1.1)  # versions are stamped to the second
    second = read_meta(train(TrainOptions(**{**opts.__dict__, "overwrite": True})))
    assert second["version"] != first["version"]
    assert [p.name for p in tmp_path.iterdir()] == ["m"], "no temporary or set-aside folder may be left behind"
    weights = tmp_path / "m" / "model.safetensors"
    assert weights.stat().st_mode & 0o777 == 0o644, "a service running as another user must read the weights"


@pytest.mark.parametrize(
    "field, value, message",
    [("epochs", 0, "epochs"), ("lr_head", 2.0, "lr_head"), ("train_fraction", 0.0, "train_fraction"), ("overlap_tokens", 200, "overlap_tokens"), ("save_dtype", "int4", "save_dtype"), ("goal_c", 0.0, "goal_c")],
)
def test_options_are_validated_up_front(corpus_dir, field, value, message):
    root, _ = corpus_dir
    with pytest.raises(ValueError, match=message):
        TrainOptions(annotations=root, **{field: value})


def test_missing_corpus_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="chitieu annotations import"):
        TrainOptions(annotations=tmp_path)


def test_training_subsets_are_nested_and_deterministic():
    docs = [make_doc(i, *SENTENCES[i % len(SENTENCES)]) for i in range(10)]
    ids = {f: [d.id for d in nested_share(docs, f)] for f in (0.1, 0.25, 0.5, 1.0)}
    assert [len(v) for v in ids.values()] == [1, 3, 5, 10]
    assert set(ids[0.1]) < set(ids[0.25]) < set(ids[0.5]) < set(ids[1.0])
    assert ids[0.5] == [d.id for d in nested_share(list(reversed(docs)), 0.5)], "order of the corpus must not matter"


def test_span_scores_by_hand():
    doc = make_doc(0, *SENTENCES[0])
    pred = [{"start": s.start, "end": s.end, "label": s.label} for s in doc.spans[:3]] + [{"start": 0, "end": 2, "label": "PROVINCE"}]
    scores = span_scores([doc], [pred])
    # 3 right of 4 predicted, 3 of 4 gold found.
    assert scores["micro_precision"] == 0.75 and scores["micro_recall"] == 0.75 and scores["micro_f1"] == 0.75
    assert scores["per_label_f1"]["TARGET_VALUE"] == 0.0 and scores["per_label"]["PROVINCE"]["precision"] == 0.5


def test_fixed_epochs_without_early_stopping(corpus_dir, tiny_base, tmp_path):
    root, _ = corpus_dir
    opts = TrainOptions(base=str(tiny_base), annotations=root, out=tmp_path, name="fixed", train_split="train+dev",
                        dev_split="none", epochs=2, batch_size=2, threads=1)
    meta = read_meta(train(opts))
    assert [h["epoch"] for h in meta["history"]] == [1, 2] and meta["best_epoch"] == 2
    assert "dev" not in meta["metrics"] and "test" in meta["metrics"]
    assert "fixed epochs" in (tmp_path / "fixed" / "README.md").read_text()


def test_layers_keeps_the_bottom_layers_of_the_base(corpus_dir, tiny_base, tmp_path):
    import torch
    from transformers import AutoModel

    root, _ = corpus_dir
    base = AutoModel.from_pretrained(str(tiny_base))
    assert base.config.num_hidden_layers >= 2
    opts = TrainOptions(base=str(tiny_base), annotations=root, out=tmp_path, name="lean", epochs=1, max_steps=1,
                        lr_encoder=0.0, threads=1, save_dtype="fp32", evaluate_test=False, dev_split="none", layers=1)
    folder = train(opts)
    lean = AutoModel.from_pretrained(str(folder))
    assert lean.config.num_hidden_layers == 1 and read_meta(folder)["options"]["layers"] == 1
    # The kept layer is the base's first, untouched at a zero encoder rate.
    torch.testing.assert_close(lean.encoder.layer[0].state_dict(), base.encoder.layer[0].state_dict())
    Extractor.load(folder, device="cpu", engine="fp32").extract(SENTENCES[0][0])
    with pytest.raises(ValueError, match="has only"):
        train(TrainOptions(**{**opts.__dict__, "name": "deep", "layers": base.config.num_hidden_layers + 1}))
    with pytest.raises(ValueError, match="layers"):
        TrainOptions(annotations=root, layers=0)


def test_early_stopping_on_training_data_is_refused(corpus_dir):
    root, _ = corpus_dir
    with pytest.raises(ValueError, match="--dev-split none"):
        TrainOptions(annotations=root, train_split="train+dev", dev_split="dev")


@pytest.fixture(scope="module")
def small_e5(tmp_path_factory):
    """The real e5-small base cut to its first two layers: pretrained, yet quick to train."""
    from transformers import AutoConfig, AutoModel

    from chitieu.encoders.e5 import ensure_e5_small
    from chitieu.encoders.fast import FastTokenizerAdapter

    base = ensure_e5_small(progress=False)
    folder = tmp_path_factory.mktemp("e5") / "e5-2layers"
    config = AutoConfig.from_pretrained(base, num_hidden_layers=2)
    AutoModel.from_pretrained(base, config=config, add_pooling_layer=False).save_pretrained(folder)
    FastTokenizerAdapter.from_dir(base).save(folder)
    return folder


def test_small_e5_learns_the_two_documents(corpus_dir, small_e5, tmp_path):
    root, docs = corpus_dir
    opts = TrainOptions(base=str(small_e5), annotations=root, out=tmp_path, name="e5", epochs=25, patience=25,
                        batch_size=2, lr_encoder=2e-4, lr_head=5e-3, warmup_ratio=0.0, threads=1, seed=3)
    folder = train(opts)
    meta = read_meta(folder)
    assert meta["base"]["kind"] == "e5"
    assert meta["metrics"]["dev"]["micro_f1"] >= 0.9
    result = Extractor.load(folder).extract(docs[0].text)
    assert {(e["text"], e["label"]) for e in result["entities"]} >= {("Bến Tre", "PROVINCE"), ("Lê Đức Thọ", "OFFICIAL")}


def test_training_fits_the_goal_classifier_when_the_documents_allow_it(corpus_dir, tiny_base, tmp_path):
    # The two overfit documents hold only goals: nothing to tell apart, so that model has no
    # classifier (and says so). Add one reported result and the classifier is fitted,
    # written beside the weights, named in the card, and loaded with the model.
    root, docs = corpus_dir
    result = "Năm 2023, tỉnh ước đạt 5.000 tỷ đồng thu ngân sách, ông Nguyễn Văn Út cho biết."
    with_result = tmp_path / "corpus"
    with_result.mkdir()
    write_documents([*docs, Document(id="d2", text=result, spans=[])], with_result / "corpus.jsonl")
    (with_result / "splits.json").write_text(json.dumps({"train": ["d0", "d1", "d2"], "dev": ["d0"], "test": ["d1"]}))
    opts = TrainOptions(base=str(tiny_base), annotations=with_result, out=tmp_path / "models", name="g", epochs=1, max_steps=1, threads=1)
    folder = train(opts)
    meta = read_meta(folder)
    assert meta["goal_classifier"]["documents"] == 3 and meta["goal_classifier"]["goals"] == 2
    assert meta["goal_classifier"]["candidates"] == 3
    assert (folder / "goal_classifier.json").exists() and "goal classifier (`goal_classifier.json`)" in (folder / "README.md").read_text()
    assert Extractor.load(folder).goal_classifier is not None


def test_a_model_without_goal_classifier_says_so(overfit_model):
    assert read_meta(overfit_model)["goal_classifier"] is None
    assert not (overfit_model / "goal_classifier.json").exists()
    assert "goal classifier: none" in (overfit_model / "README.md").read_text()
    assert Extractor.load(overfit_model).goal_classifier is None


def test_measure_rerecords_a_models_test_figures_with_the_current_pipeline(overfit_model, corpus_dir, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from chitieu.cli import app
    from chitieu.model_folder import PIPELINE_VERSION

    root, _ = corpus_dir
    assert read_meta(overfit_model)["metrics_pipeline"] == PIPELINE_VERSION, "training stamps its figures"
    folder = tmp_path / "copy"
    shutil.copytree(overfit_model, folder)
    meta = read_meta(folder)
    meta["metrics"]["test"]["micro_f1"] = 0.1
    meta["metrics_pipeline"] = 1
    (folder / "chitieu.json").write_text(json.dumps(meta))
    result = CliRunner().invoke(app, ["models", "measure", str(folder), "--annotations", str(root)])
    assert result.exit_code == 0, result.stdout
    assert "0.1 -> 1.0" in result.stdout
    measured = read_meta(folder)
    assert measured["metrics"]["test"]["micro_f1"] == 1.0 and measured["metrics_pipeline"] == PIPELINE_VERSION
    assert measured["metrics"]["dev"] == meta["metrics"]["dev"], "only the test figures are re-measured"
    assert json.loads((folder / "metrics.json").read_text())["test"]["micro_f1"] == 1.0
    assert not list(folder.glob(".*.json-*")), "written atomically, no temp files left"


def test_silver_documents_train_the_tagger_and_are_counted(corpus_dir, tiny_base, tmp_path):
    root, _ = corpus_dir
    text, marks = SENTENCES[0]
    silver = make_doc(0, text, marks).model_copy(update={"id": "s0"})
    write_documents([silver], tmp_path / "silver.jsonl")
    opts = TrainOptions(base=str(tiny_base), annotations=root, out=tmp_path, name="m", epochs=1, max_steps=1, threads=1, silver=tmp_path / "silver.jsonl")
    folder = train(opts)
    meta = read_meta(folder)
    assert meta["silver_documents"] == 1 and meta["train_documents"] == 2
    assert meta["train_windows"] == 3, "the silver document's window joins the two gold ones"
    assert meta["indicator_chooser"]["documents"] == 2, "the decision components are fitted on gold only"
    assert "1 silver documents" in (folder / "README.md").read_text()


def test_silver_that_repeats_a_corpus_document_is_refused(corpus_dir, tmp_path):
    root, docs = corpus_dir
    write_documents([docs[1]], tmp_path / "silver.jsonl")
    opts = TrainOptions(annotations=root, out=tmp_path, silver=tmp_path / "silver.jsonl")
    from chitieu.train.run import read_silver

    with pytest.raises(ValueError, match="d1"):
        read_silver(opts.silver, root)


def test_a_missing_silver_file_says_how_to_make_one(corpus_dir, tmp_path):
    root, _ = corpus_dir
    with pytest.raises(ValueError, match="chitieu annotations silver"):
        TrainOptions(annotations=root, silver=tmp_path / "nope.jsonl")
