"""The four entity labels and their BIO tags, shared by training, evaluation and serving.

A stage that treats a label specially names it by the constant here, never by its string,
so renaming a label is this file (and Label Studio's names in `label_config.DEFAULT_MAPPING`).
"""

from typing import Final

PROVINCE: Final = "PROVINCE"
OFFICIAL: Final = "OFFICIAL"
INDICATOR: Final = "INDICATOR"
TARGET_VALUE: Final = "TARGET_VALUE"

LABELS: tuple[str, ...] = (PROVINCE, OFFICIAL, INDICATOR, TARGET_VALUE)
BIO_TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{label}" for label in LABELS for p in ("B", "I"))
TAG2ID: dict[str, int] = {tag: i for i, tag in enumerate(BIO_TAGS)}
ID2TAG: dict[int, str] = dict(enumerate(BIO_TAGS))
