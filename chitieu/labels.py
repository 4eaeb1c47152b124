"""The four entity labels and their BIO tags, shared by training, evaluation and serving."""

LABELS: tuple[str, ...] = ("PROVINCE", "OFFICIAL", "INDICATOR", "TARGET_VALUE")
BIO_TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{label}" for label in LABELS for p in ("B", "I"))
TAG2ID: dict[str, int] = {tag: i for i, tag in enumerate(BIO_TAGS)}
ID2TAG: dict[int, str] = dict(enumerate(BIO_TAGS))
