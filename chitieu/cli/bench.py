"""`chitieu bench`: chitieu's service against the pipeline a user would write instead.

On N articles drawn with a fixed seed from the unlabeled corpus (lengths as they come), in
one run, one phase after another so that no two compete for the cores:
1. the compute limit: this machine's matrix-multiply rate per kind of arithmetic, and the
   encoder's FLOPs for each article's windows (chitieu.flops);
2. the naive pipeline: `transformers.pipeline("token-classification",
   aggregation_strategy="simple")` over the same model folder, each article in 300-word
   chunks, one article after another: as written (the weights load in the folder's own
   dtype, fp16 for chitieu's folders) and with `dtype=torch.float32`; chitieu's ratio is
   taken against the faster of the two;
3. for each engine, `chitieu serve` on a free loopback port with CHITIEU_ENGINE set: cold
   start to /ready, each article alone at one client (latency per article and per 1,000
   words), the articles at C clients (throughput), the server's peak RSS (the kernel's
   high-water mark), and for the default engine one Label Studio `/predict` of K tasks;
4. an in-process profile of the request stages (tokenise, model, post-process);
5. the span and tuple F1 of each engine on the test split (a fast engine counts only
   within chitieu.engines.F1_TOLERANCE of fp32).
Each timed phase runs `repeats` times; the report gives the median and the spread.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import math
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import typer

from chitieu.engines import F1_TOLERANCE, configure_threads, resolve_engine
from chitieu.files import write_text
from chitieu.flops import EncoderShape, MatmulRate, matmul_rate

NAIVE_CHUNK_WORDS = 300
REQUEST_TIMEOUT_S = 600.0


# --------------------------------------------------------------------------- articles


@dataclass(frozen=True)
class Article:
    id: str
    text: str

    @property
    def words(self) -> int:
        return len(self.text.split())


def draw_articles(path: Path, count: int, seed: int = 16) -> list[Article]:
    """`count` articles of a JSONL(.gz) of {"id", "text"}, a seeded uniform sample in one
    pass (reservoir), in file order; blank texts are skipped."""
    rng = random.Random(seed)
    chosen: list[tuple[int, Article]] = []
    opener = gzip.open if path.suffix == ".gz" else open
    seen = 0
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            record = json.loads(line)
            text = record.get("text") or ""
            if not text.strip():
                continue
            article = Article(str(record.get("id", seen)), text)
            if len(chosen) < count:
                chosen.append((seen, article))
            else:
                k = rng.randint(0, seen)
                if k < count:
                    chosen[k] = (seen, article)
            seen += 1
    if not chosen:
        raise ValueError(f"{path} holds no articles with text; pass --texts with a JSONL of {{\"id\", \"text\"}} lines")
    return [a for _, a in sorted(chosen, key=lambda pair: pair[0])]


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (the value below which a share q of the values lie)."""
    ordered = sorted(values)
    rank = math.ceil(round(q * len(ordered), 9))
    return ordered[min(len(ordered) - 1, max(0, rank - 1))]


@dataclass
class WordCounts:
    articles: int
    total: int
    mean: float
    min: int
    p25: int
    median: int
    p75: int
    p95: int
    max: int

    @classmethod
    def of(cls, articles: Sequence[Article]) -> "WordCounts":
        w = [a.words for a in articles]
        return cls(
            len(w), sum(w), round(sum(w) / len(w), 1), min(w), int(quantile(w, 0.25)), int(quantile(w, 0.5)),
            int(quantile(w, 0.75)), int(quantile(w, 0.95)), max(w),
        )


# --------------------------------------------------------------------------- figures


@dataclass
class Spread:
    """One figure over the repeats: the median and the lowest and highest value."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        return cls(round(statistics.median(values), 4), round(min(values), 4), round(max(values), 4))

    def show(self, fmt: str = "{:.3f}") -> str:
        text = fmt.format(self.median)
        if self.high > self.low:
            text += f" ({fmt.format(self.low)}–{fmt.format(self.high)})"
        return text


@dataclass
class Latency:
    """Per article, one at a time: seconds, and seconds per 1,000 words."""

    p50_s: Spread
    p95_s: Spread
    p99_s: Spread
    p50_per_kw: Spread
    p95_per_kw: Spread
    p99_per_kw: Spread
    words_per_s: Spread

    @classmethod
    def of(cls, runs: Sequence[Sequence[float]], articles: Sequence[Article]) -> "Latency":
        per_kw = [[s / max(a.words, 1) * 1000 for s, a in zip(run, articles)] for run in runs]
        words = sum(a.words for a in articles)
        return cls(  # type: ignore[call-arg]  # three + three + one: mypy cannot count the starred parts
            *(Spread.of([quantile(run, q) for run in runs]) for q in (0.5, 0.95, 0.99)),
            *(Spread.of([quantile(run, q) for run in per_kw]) for q in (0.5, 0.95, 0.99)),
            Spread.of([words / sum(run) for run in runs]),
        )


@dataclass
class Concurrent:
    clients: int
    words_per_s: Spread
    articles_per_s: Spread
    #: 429s met (each retried after 50 ms), over all repeats.
    refusals: int


@dataclass
class Quality:
    engine: str
    documents: int
    span_f1: float
    tuple_f1: float
    #: Within F1_TOLERANCE of the reference on both F1s: the naive pipeline's model in fp32
    #: (the served model in fp32 unless --naive-model names another); None when not measured.
    holds: bool | None = None
    #: The model folder scored (the served one unless this is the reference of --naive-model).
    model: str = ""


@dataclass
class ServedEngine:
    engine: str
    cold_start_s: Spread
    one_client: Latency
    concurrent: Concurrent
    peak_rss_mb: float
    #: One Label Studio /predict of `predict_tasks` tasks (default engine only).
    predict_tasks: int = 0
    predict_s: float | None = None
    #: Chitieu's words per second at C clients over the naive pipeline's (sequential).
    throughput_ratio: float | None = None
    #: One-client time over the least time the encoder work could take at this engine's
    #: measured multiply rate (1.0 = at the limit).
    times_the_limit: float | None = None


@dataclass
class Naive:
    dtype: str
    one_client: Latency
    flops: int
    times_the_limit: float | None = None
    #: The model folder it runs (the served one unless --naive-model names another).
    model: str = ""


@dataclass
class Stages:
    """Seconds per article in process (no HTTP), summed over the profiled articles."""

    engine: str
    articles: int
    tokenise_s: float
    model_s: float
    post_process_s: float


@dataclass
class Compute:
    rates: list[MatmulRate]
    shape: EncoderShape
    chitieu_tokens: int
    chitieu_flops: int
    median_article_gflop: float
    #: Seconds per 1,000 words at the best measured rate of each kind (chitieu's windows).
    limit_s_per_kw: dict[str, float]

    def best(self, kind: str) -> float:
        return max(r.best_gflops for r in self.rates if r.kind == kind)


@dataclass
class Report:
    conditions: dict[str, Any]
    words: WordCounts
    compute: Compute
    #: As a user writes it (the folder's dtype), then in fp32; ratios use the faster.
    naive: list[Naive]
    served: list[ServedEngine]
    stages: Stages | None
    quality: list[Quality]
    default_engine: str
    done_when: dict[str, bool] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    def table(self) -> str:
        """One readable Markdown table per part of the report."""
        w = self.words
        lines = [
            f"{w.articles} articles, words: min {w.min}, p25 {w.p25}, median {w.median}, p75 {w.p75}, "
            f"p95 {w.p95}, max {w.max} (mean {w.mean:.0f}, total {w.total})",
            "",
            "| system | p50 / p95 / p99 s per article | p50 / p95 / p99 s per 1,000 words | words/s, 1 client | "
            "words/s, C clients | x naive | x limit | peak RSS MB | cold start s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        fastest = max(x.one_client.words_per_s.median for x in self.naive)
        for naive in self.naive:
            n = naive.one_client
            lines.append(
                f"| naive pipeline ({naive.model}, {naive.dtype}, 300-word chunks) | {n.p50_s.show()} / {n.p95_s.show()} / {n.p99_s.show()} | "
                f"{n.p50_per_kw.show()} / {n.p95_per_kw.show()} / {n.p99_per_kw.show()} | {n.words_per_s.show('{:.0f}')} | "
                f"(sequential) | {n.words_per_s.median / fastest:.2f} | {_x(naive.times_the_limit)} | – | – |"
            )
        for s in self.served:
            o = s.one_client
            mark = " (default)" if s.engine == self.default_engine else ""
            lines.append(
                f"| chitieu {s.engine}{mark} | {o.p50_s.show()} / {o.p95_s.show()} / {o.p99_s.show()} | "
                f"{o.p50_per_kw.show()} / {o.p95_per_kw.show()} / {o.p99_per_kw.show()} | {o.words_per_s.show('{:.0f}')} | "
                f"{s.concurrent.words_per_s.show('{:.0f}')} (C={s.concurrent.clients}) | {_x(s.throughput_ratio)} | "
                f"{_x(s.times_the_limit)} | {s.peak_rss_mb:.0f} | {s.cold_start_s.show('{:.1f}')} |"
            )
        lines += ["", "| model | engine | span F1 (micro, strict) | tuple F1 | within 0.005 of the reference fp32 |", "|---|---|---|---|---|"]
        for q in self.quality:
            holds = "–" if q.holds is None else ("yes" if q.holds else "NO")
            lines.append(f"| {q.model} | {q.engine} | {q.span_f1:.4f} | {q.tuple_f1:.4f} | {holds} |")
        c = self.compute
        rates = ", ".join(f"{r.kind} {r.best_gflops:.0f} (median {r.median_gflops:.0f}) at {r.shape[0]}x{r.shape[1]}x{r.shape[2]}" for r in c.rates)
        lines += [
            "",
            f"compute limit: matmul GFLOP/s {rates}; the encoder ({c.shape.layers} layers, hidden {c.shape.hidden}) "
            f"costs {c.median_article_gflop:.1f} GFLOP for the median article ({c.chitieu_tokens} window tokens in all); "
            "at the best rate that is " + ", ".join(f"{k} {v:.3f} s" for k, v in c.limit_s_per_kw.items()) + " per 1,000 words",
        ]
        if self.stages is not None:
            st = self.stages
            total = st.tokenise_s + st.model_s + st.post_process_s
            lines.append(
                f"stages in process ({st.engine}, {st.articles} articles): tokenise {st.tokenise_s:.2f} s, model "
                f"{st.model_s:.2f} s, post-process {st.post_process_s:.2f} s ({100 * (total - st.model_s) / total:.0f}% outside the model)"
            )
        for s in self.served:
            if s.predict_s is not None:
                lines.append(f"Label Studio /predict of {s.predict_tasks} tasks ({s.engine}): {s.predict_s:.1f} s")
        if self.done_when:
            lines += ["", "| issue 16: done when | holds |", "|---|---|"]
            lines += [f"| {k} | {'yes' if v else 'NO'} |" for k, v in self.done_when.items()]
        lines += ["", "conditions: " + ", ".join(f"{k} {v}" for k, v in self.conditions.items())]
        return "\n".join(lines)


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


# --------------------------------------------------------------------------- conditions


def cpu_busy_share(seconds: float = 1.0) -> float:
    """Share of all cores busy over `seconds` (Linux /proc/stat): what else runs here."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]
        return idle, sum(fields)

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return round(1 - (idle1 - idle0) / max(total1 - total0, 1), 3)


def other_trainings() -> int:
    """Other `chitieu train` processes running now (their timings would be meaningless)."""
    count = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace").rsplit("/", 1)[-1] for a in args if a]
        if any(words[i] == "chitieu" and words[i + 1] == "train" for i in range(len(words) - 1)):
            count += 1
    return count


def conditions_now(label: str) -> dict[str, Any]:
    return {
        f"{label}_load_average": [round(x, 2) for x in os.getloadavg()],
        f"{label}_cpu_busy": cpu_busy_share(),
        f"{label}_trainings_running": other_trainings(),
    }


# --------------------------------------------------------------------------- phases


def peak_rss_mb(pid: int) -> float:
    """The process's resident-set high-water mark (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def chunks(text: str, words: int = NAIVE_CHUNK_WORDS) -> list[str]:
    parts = text.split()
    return [" ".join(parts[k : k + words]) for k in range(0, len(parts), words)] or [text]


def run_naive(folder: Path, articles: Sequence[Article], repeats: int, fp32: bool = False) -> tuple[Naive, list[int]]:
    """The pipeline a user would write, batch size 1: as written (the folder's own dtype)
    or in fp32. Returns it and the token count of every chunk (for its FLOPs)."""
    import torch
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    options: dict[str, Any] = {"dtype": torch.float32} if fp32 else {}
    pipe = pipeline("token-classification", model=str(folder), aggregation_strategy="simple", device="cpu", **options)
    pipe(chunks(articles[0].text))  # warm-up, as the served model is warmed before /ready
    runs = []
    for _ in range(repeats):
        seconds = []
        for article in articles:
            started = time.perf_counter()
            pipe(chunks(article.text))
            seconds.append(time.perf_counter() - started)
        runs.append(seconds)
    tokenizer = pipe.tokenizer
    assert tokenizer is not None, "a token-classification pipeline always has its tokenizer"
    lengths = [len(tokenizer(c)["input_ids"]) for a in articles for c in chunks(a.text)]
    dtype = str(pipe.model.dtype).removeprefix("torch.")
    return Naive(dtype, Latency.of(runs, articles), 0, model=folder.name), lengths


async def _one_client(client: Any, url: str, articles: Sequence[Article]) -> list[float]:
    seconds = []
    for article in articles:
        started = time.perf_counter()
        r = await _post_until_admitted(client, f"{url}/extract", {"id": article.id, "text": article.text})
        seconds.append(time.perf_counter() - started)
        r.raise_for_status()
    return seconds


async def _post_until_admitted(client: Any, url: str, body: dict[str, Any], refusals: list[int] | None = None) -> Any:
    while True:
        r = await client.post(url, json=body, timeout=REQUEST_TIMEOUT_S)
        if r.status_code != 429:
            return r
        if refusals is not None:
            refusals[0] += 1
        await asyncio.sleep(0.05)


async def _clients(client: Any, url: str, articles: Sequence[Article], clients: int) -> tuple[float, int]:
    """Every article once, `clients` at a time (a closed loop); (seconds, refusals)."""
    queue: asyncio.Queue[Article] = asyncio.Queue()
    for article in articles:
        queue.put_nowait(article)
    refusals = [0]

    async def worker() -> None:
        while not queue.empty():
            article = queue.get_nowait()
            r = await _post_until_admitted(client, f"{url}/extract", {"id": article.id, "text": article.text}, refusals)
            r.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started, refusals[0]


async def _predict(client: Any, url: str, articles: Sequence[Article], tasks: int) -> float:
    body = {"tasks": [{"id": k, "data": {"text": articles[k % len(articles)].text}} for k in range(tasks)]}
    started = time.perf_counter()
    r = await client.post(f"{url}/predict", json=body, timeout=REQUEST_TIMEOUT_S)
    seconds = time.perf_counter() - started
    r.raise_for_status()
    if len(r.json()["results"]) != tasks:
        raise RuntimeError(f"/predict answered {len(r.json()['results'])} results for {tasks} tasks")
    return seconds


def run_served(
    folder: Path, engine: str, articles: Sequence[Article], *, clients: int, repeats: int, predict_tasks: int
) -> ServedEngine:
    """`chitieu serve` with this engine, once per repeat (each start is a cold start)."""
    import httpx

    from chitieu.serve.loadtest import served

    cold, one_runs, conc_seconds, refusals, rss = [], [], [], 0, 0.0
    predict_s: float | None = None
    words = sum(a.words for a in articles)
    for repeat in range(repeats):
        started = time.perf_counter()
        with served(str(folder), {"CHITIEU_ENGINE": engine}) as (url, pid):
            cold.append(time.perf_counter() - started)

            async def drive(first: bool) -> tuple[list[float], float, int, float | None]:
                limits = httpx.Limits(max_connections=clients + 4)
                async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S) as client:
                    one = await _one_client(client, url, articles)
                    seconds, refused = await _clients(client, url, articles, clients)
                    predicted = None
                    if predict_tasks and first:
                        predicted = await _predict(client, url, articles, predict_tasks)
                    return one, seconds, refused, predicted

            one, seconds, refused, predicted = asyncio.run(drive(repeat == 0))
            rss = max(rss, peak_rss_mb(pid))
        one_runs.append(one)
        conc_seconds.append(seconds)
        refusals += refused
        predict_s = predicted if predicted is not None else predict_s
    concurrent = Concurrent(
        clients, Spread.of([words / s for s in conc_seconds]), Spread.of([len(articles) / s for s in conc_seconds]), refusals
    )
    return ServedEngine(
        engine, Spread.of(cold), Latency.of(one_runs, articles), concurrent, round(rss, 1),
        predict_tasks if predict_s is not None else 0, None if predict_s is None else round(predict_s, 2),
    )


def profile_stages(folder: Path, engine: str, articles: Sequence[Article]) -> Stages:
    from chitieu.extract.extractor import Extractor

    extractor = Extractor.load(folder, device="cpu", engine=engine)
    extractor.extract(articles[0].text)
    tokenise = model = post = 0.0
    for article in articles:
        a = time.perf_counter()
        prepared = extractor.prepare(article.text, article.id)
        b = time.perf_counter()
        probs = extractor.run(prepared.windows)
        c = time.perf_counter()
        extractor.finish(prepared, probs)
        d = time.perf_counter()
        tokenise, model, post = tokenise + b - a, model + c - b, post + d - c
    return Stages(engine, len(articles), round(tokenise, 3), round(model, 3), round(post, 3))


def measure_quality(
    folder: Path, engines: Sequence[str], split: str, annotations: Path, limit: int | None, reference: Path | None = None
) -> list[Quality]:
    """Each engine's F1 on the split, held to fp32 of `reference` (default: the folder itself)."""
    from chitieu.annotate.corpus import load_corpus
    from chitieu.evaluate.cli import model_predictions
    from chitieu.evaluate.metrics import evaluate_predictions
    from chitieu.extract.extractor import Extractor

    docs = load_corpus(annotations, split)[:limit]
    reference = reference or folder
    runs = [(folder, engine) for engine in engines]
    if reference != folder:
        runs.insert(0, (reference, "fp32"))
    out = []
    for model, engine in runs:
        extractor = Extractor.load(model, device="cpu", engine=engine)
        outputs, _ = model_predictions(extractor, docs, desc=f"F1 {model.name} {engine}")
        metrics = evaluate_predictions(docs, outputs)
        out.append(Quality(engine, len(docs), metrics["strict"]["micro"]["f1"], metrics["tuples"]["with_official"]["f1"], model=model.name))
    held_to = next((q for q in out if q.engine == "fp32" and q.model == reference.name), None)
    if held_to is not None:
        for q in out:
            q.holds = q.span_f1 >= held_to.span_f1 - F1_TOLERANCE and q.tuple_f1 >= held_to.tuple_f1 - F1_TOLERANCE
    return out


def measure_compute(folder: Path, articles: Sequence[Article], kinds: Sequence[str]) -> Compute:
    from transformers import AutoConfig

    from chitieu.extract.extractor import Extractor

    shape = EncoderShape.of_config(AutoConfig.from_pretrained(str(folder)))
    # Windows as the served model cuts them (the tokenizer only; the weights are not needed).
    extractor = Extractor.load(folder, device="cpu", engine="fp32")
    lengths = [[len(w.input_ids) for w in extractor.prepare(a.text).windows] for a in articles]
    del extractor
    rates = [matmul_rate(kind, m, shape.hidden, shape.intermediate) for kind in kinds for m in (256, 2048)]
    flops = [shape.flops(x) for x in lengths]
    words = sum(a.words for a in articles)
    best = {kind: max(r.best_gflops for r in rates if r.kind == kind) for kind in kinds}
    return Compute(
        rates, shape, sum(map(sum, lengths)), sum(flops), round(statistics.median(flops) / 1e9, 2),
        {kind: round(sum(flops) / (best[kind] * 1e9) / words * 1000, 4) for kind in kinds},
    )


#: The arithmetic each engine's matrix products run in, for its distance to the limit.
ENGINE_ARITHMETIC = {"fp32": "fp32", "int8": "int8", "bf16": "bf16", "fp16": "fp16", "float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


def bench(
    folder: Path,
    articles: Sequence[Article],
    *,
    engines: Sequence[str],
    clients: int = 4,
    repeats: int = 3,
    predict_tasks: int = 0,
    quality_split: str | None = "test",
    annotations: Path | None = None,
    quality_limit: int | None = None,
    profile_articles: int = 20,
    naive_folder: Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Report:
    """Every phase, in order (see the module docstring). `naive_folder`: the model the naive
    pipeline runs, and the reference the engines' F1 is held to (default: `folder`); a
    leaner served model is compared with the model a user would otherwise run."""
    from transformers import AutoConfig

    from chitieu.paths import annotations_dir

    naive_folder = naive_folder or folder
    threads = configure_threads()
    default_engine = resolve_engine("auto", "cpu")
    engines = list(dict.fromkeys([*engines, default_engine]))  # the default is always measured
    conditions: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "model": folder.name,
        "naive_model": naive_folder.name,
        "cpus": os.cpu_count(),
        "torch_threads": threads,
        "repeats": repeats,
        **conditions_now("before"),
    }
    words = WordCounts.of(articles)
    progress(f"{words.articles} articles, {words.total} words; the naive pipeline")
    naives = [run_naive(naive_folder, articles, repeats)]
    if naives[0][0].dtype != "float32":
        progress("the naive pipeline in fp32")
        naives.append(run_naive(naive_folder, articles, repeats, fp32=True))
    progress("the compute limit")
    kinds = list(dict.fromkeys(["fp32", *(ENGINE_ARITHMETIC[e] for e in engines), *(ENGINE_ARITHMETIC.get(n.dtype, "fp32") for n, _ in naives)]))
    compute = measure_compute(folder, articles, kinds)
    naive_shape = EncoderShape.of_config(AutoConfig.from_pretrained(str(naive_folder)))
    for naive, lengths in naives:
        naive.flops = naive_shape.flops(lengths)
        seconds = words.total / naive.one_client.words_per_s.median
        naive.times_the_limit = round(seconds / (naive.flops / (compute.best(ENGINE_ARITHMETIC.get(naive.dtype, "fp32")) * 1e9)), 2)
    naive_words_per_s = max(n.one_client.words_per_s.median for n, _ in naives)
    served = []
    for engine in engines:
        progress(f"chitieu serve, engine {engine}")
        result = run_served(
            folder, engine, articles, clients=clients, repeats=repeats,
            predict_tasks=predict_tasks if engine == default_engine else 0,
        )
        result.throughput_ratio = round(result.concurrent.words_per_s.median / naive_words_per_s, 2)
        one_seconds = words.total / result.one_client.words_per_s.median
        result.times_the_limit = round(one_seconds / (compute.chitieu_flops / (compute.best(ENGINE_ARITHMETIC[engine]) * 1e9)), 2)
        served.append(result)
    stages = None
    if profile_articles:
        progress("stage profile")
        stages = profile_stages(folder, default_engine, articles[:profile_articles])
    quality: list[Quality] = []
    if quality_split:
        progress(f"F1 on the {quality_split} split")
        quality = measure_quality(folder, engines, quality_split, annotations or annotations_dir(), quality_limit, reference=naive_folder)
    conditions.update(conditions_now("after"))
    report = Report(conditions, words, compute, [n for n, _ in naives], served, stages, quality, default_engine)
    report.done_when = done_when(report)
    return report


def done_when(report: Report) -> dict[str, bool]:
    """Issue 16's targets, for the default engine (meaningful on 200 articles)."""
    s = next(x for x in report.served if x.engine == report.default_engine)
    q = next((x for x in report.quality if x.engine == report.default_engine and x.model == report.conditions["model"]), None)
    out = {
        ">= 4x the naive pipeline's throughput": (s.throughput_ratio or 0) >= 4,
        "at equal F1 (within 0.005 of the naive model's fp32)": bool(q is not None and q.holds),
        "p95 <= 0.25 s per 1,000 words at one client": s.one_client.p95_per_kw.median <= 0.25,
        "peak serving RSS <= 1 GiB": s.peak_rss_mb <= 1024,
    }
    if s.predict_s is not None:
        out[f"/predict of {s.predict_tasks} tasks in under 60 s"] = s.predict_s < 60
    return out


# --------------------------------------------------------------------------- command


def default_texts() -> Path:
    from chitieu.paths import shared_dir

    return shared_dir() / "corpus_unlabeled" / "vn_news_2017.jsonl.gz"


def bench_command(
    articles: int = typer.Option(50, min=1, max=5000, help="Articles to draw (fixed seed) from --texts."),
    concurrency: int = typer.Option(4, min=1, max=64, help="Clients for the throughput measurement."),
    model: str | None = typer.Option(None, help="Model folder (a path or a name under models/); default: models/PROMOTED."),
    naive_model: str | None = typer.Option(
        None, help="Model folder the naive pipeline runs and the F1 reference (default: --model); for a leaner model, the one it replaces."
    ),
    engines: str = typer.Option("fp32,int8,bf16", help="Engines to serve and score, comma-separated (the default engine is always added)."),
    repeats: int = typer.Option(3, min=1, max=20, help="Runs of each timed phase; the report gives the median and spread."),
    predict_tasks: int = typer.Option(0, min=0, max=5000, help="Also time one Label Studio /predict of this many tasks (default engine)."),
    split: str = typer.Option("test", help="Gold split for each engine's F1; 'none' skips it."),
    quality_documents: int | None = typer.Option(None, min=1, help="Score only the first N documents of the split."),
    profile: int = typer.Option(20, min=0, help="Articles for the in-process stage profile (0 skips it)."),
    texts: Path | None = typer.Option(None, help="JSONL(.gz) of {\"id\", \"text\"}; default: ../shared/corpus_unlabeled/vn_news_2017.jsonl.gz."),
    seed: int = typer.Option(16, help="Seed for drawing the articles."),
    out: Path | None = typer.Option(None, help="Also write the report as JSON here."),
) -> None:
    """chitieu through HTTP against the plain transformers pipeline on the same articles and
    weights: latency, throughput at C clients, peak RSS, cold start, the compute limit, and
    each engine's F1. Run it on a quiet machine: it says what else was running."""
    from chitieu.engines import ENGINES, EngineError
    from chitieu.model_folder import ModelFolderError, resolve_model_folder
    from chitieu.paths import models_dir

    chosen = [e.strip() for e in engines.split(",") if e.strip()]
    bad = [e for e in chosen if e not in ENGINES]
    if bad or not chosen:
        raise typer.BadParameter(f"--engines takes {', '.join(ENGINES)}, comma-separated; got {engines!r}")
    try:
        for e in chosen:
            resolve_engine(e, "cpu")
        folder = resolve_model_folder(model, models_dir())
        naive_folder = resolve_model_folder(naive_model, models_dir()) if naive_model else None
    except (EngineError, ModelFolderError) as err:
        raise typer.BadParameter(str(err)) from err
    source = texts or default_texts()
    if not source.is_file():
        raise typer.BadParameter(f"no articles at {source}; pass --texts with a JSONL(.gz) of {{\"id\", \"text\"}} lines")
    drawn = draw_articles(source, articles, seed)
    report = bench(
        folder, drawn, engines=chosen, clients=concurrency, repeats=repeats, predict_tasks=predict_tasks,
        quality_split=None if split == "none" else split, quality_limit=quality_documents, profile_articles=profile,
        naive_folder=naive_folder,
        progress=lambda message: typer.echo(f"[bench] {message}", err=True),
    )
    typer.echo(report.table())
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, report.to_json() + "\n")
