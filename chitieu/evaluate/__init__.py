"""Scoring systems against the gold corpus: `metrics` (pure functions over the typed core),
`report` (report.json and report.html), `baselines` (what the model must beat) with the
rule extractor `rules`, and `cli` (`chitieu evaluate`)."""
