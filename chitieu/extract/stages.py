"""The extraction stages, declared in order: what each reads and writes of one article.

    1 prepare     text -> Prepared                        chitieu.extract.prepare
    2 run         Prepared.windows -> probs               chitieu.extract.run
    3 decode      probs -> entities                       chitieu.extract.decode
    4 refine      entities -> entities                    chitieu.extract.refine (+ goals, goal_classifier)
    5 officials   entities -> entities (- OFFICIALs)      chitieu.extract.officials
    6 indicators  entities -> entities (+ INDICATORs)     chitieu.extract.indicators
    7 link        entities -> targets                     chitieu.extract.link (+ normalize)
    8 map_back    entities, targets -> caller's offsets   chitieu.extract.map_back

Stages 1 and 2 are called by the facade on their own (`Extractor.prepare`, `Extractor.run`):
the service prepares each request as it comes and runs the windows of many requests in one
batch. `STAGES` are the rest, which `Extractor.extraction` walks in this order over an
`Article`; each stage states the fields it reads and the fields it writes (`Article.probs`,
`Article.entities`, `Article.targets`, and `Prepared`'s fields as `prepared.<field>`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from chitieu.core import Entity, Target
from chitieu.extract.decode import decode
from chitieu.extract.goal_classifier import GoalReader
from chitieu.extract.indicators import IndicatorChooser, fill_indicators, grow_indicators
from chitieu.extract.link import link_targets
from chitieu.extract.map_back import map_back
from chitieu.extract.officials import OfficialCheck
from chitieu.extract.prepare import Prepared
from chitieu.extract.refine import INDICATOR_HEAD, REFINE_STEPS, refine, trim_framing_head
from chitieu.labels import INDICATOR

#: The steps an ablation can switch off (`skip`), in pipeline order: refine's, the official
#: check, then the indicator chooser's two (growing the tagger's indicators, filling bare values).
#: `indicator-head` acts twice: in refine on the tagger's indicators, and after the chooser on its.
OFFICIAL_CHECK = "official-check"
INDICATOR_GROWTH = "indicator-growth"
INDICATOR_CHOOSER = "indicator-chooser"
COMPONENTS = (*REFINE_STEPS, OFFICIAL_CHECK, INDICATOR_GROWTH, INDICATOR_CHOOSER)


@dataclass
class Article:
    """One article after the run stage; each stage replaces the fields it writes."""

    prepared: Prepared
    probs: Sequence[np.ndarray]
    entities: list[Entity] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)


@dataclass(frozen=True)
class Parts:
    """What the stages take from the model folder besides the tagger, and the ablation's
    `skip` (names from `COMPONENTS`)."""

    goal_classifier: GoalReader | None = None
    indicator_chooser: IndicatorChooser | None = None
    skip: frozenset[str] = frozenset()
    official_check: OfficialCheck | None = None


class Stage(Protocol):
    """A named step over an `Article`: `reads` and `writes` name the fields it uses."""

    @property
    def name(self) -> str: ...
    @property
    def reads(self) -> tuple[str, ...]: ...
    @property
    def writes(self) -> tuple[str, ...]: ...

    def __call__(self, article: Article, parts: Parts) -> None: ...


class Decode:
    """Constrained Viterbi over the words' best-placed probability rows; offsets in the NFC text."""

    name = "decode"
    reads = ("prepared.text", "prepared.words", "prepared.windows", "probs")
    writes = ("entities",)

    def __call__(self, article: Article, parts: Parts) -> None:
        article.entities = decode(article.prepared, article.probs)


class Refine:
    """The guidelines' closed vocabularies and goal test; with a goal classifier, the goal vote."""

    name = "refine"
    reads = ("prepared.text", "prepared.sentences", "entities")
    writes = ("entities",)

    def __call__(self, article: Article, parts: Parts) -> None:
        p = article.prepared
        article.entities = refine(p.text, article.entities, parts.goal_classifier, parts.skip & set(REFINE_STEPS), p.sentences)


class CheckOfficials:
    """With the folder's official check: OFFICIALs whose holder reads as no official dropped."""

    name = "officials"
    reads = ("prepared.text", "entities")
    writes = ("entities",)

    def __call__(self, article: Article, parts: Parts) -> None:
        if parts.official_check is None or OFFICIAL_CHECK in parts.skip:
            return
        article.entities = parts.official_check.keep(article.prepared.text, article.entities)


class ChooseIndicators:
    """With the folder's chooser: the tagger's indicators grown to the chooser's phrase where
    it contains them, then an INDICATOR for each TARGET_VALUE whose sentence has none; the
    chooser's phrases lose the framing words they start with, as the tagger's did in refine
    (`indicator-head`)."""

    name = "indicators"
    reads = ("prepared.text", "prepared.sentences", "entities")
    writes = ("entities",)

    def __call__(self, article: Article, parts: Parts) -> None:
        if parts.indicator_chooser is None:
            return
        p = article.prepared
        if INDICATOR_GROWTH not in parts.skip:
            article.entities = grow_indicators(p.text, article.entities, parts.indicator_chooser, p.sentences)
        if INDICATOR_CHOOSER not in parts.skip:
            article.entities = fill_indicators(p.text, article.entities, parts.indicator_chooser, p.sentences)
        if INDICATOR_HEAD not in parts.skip:
            article.entities = [trim_framing_head(p.text, e) if e.label == INDICATOR else e for e in article.entities]


class Link:
    """One target per TARGET_VALUE, its value normalised (`chitieu.extract.normalize`)."""

    name = "link"
    reads = ("prepared.text", "prepared.sentences", "entities")
    writes = ("targets",)

    def __call__(self, article: Article, parts: Parts) -> None:
        p = article.prepared
        article.targets = link_targets(p.text, article.entities, p.sentences)


class MapBack:
    """Every offset (and quoted text) into the text the caller sent."""

    name = "map_back"
    reads = ("prepared.original", "prepared.to_original", "entities", "targets")
    writes = ("entities", "targets")

    def __call__(self, article: Article, parts: Parts) -> None:
        article.entities, article.targets = map_back(article.prepared, article.entities, article.targets)


#: Stages 3-8, in the order `Extractor.extraction` walks them.
STAGES: tuple[Stage, ...] = (Decode(), Refine(), CheckOfficials(), ChooseIndicators(), Link(), MapBack())
#: Every stage's name, in order (1 and 2 run apart, see the module docstring).
STAGE_NAMES: tuple[str, ...] = ("prepare", "run", *(s.name for s in STAGES))


def walk(article: Article, parts: Parts, stages: Sequence[Stage] = STAGES) -> Article:
    """The article through `stages`, in order."""
    for stage in stages:
        stage(article, parts)
    return article
