"""The gold corpus and the tools around it: `corpus` (documents, spans, splits), `formats`
(Label Studio, doccano, CoNLL in and out), `validate` (the guidelines' checks),
`agreement` (between two annotation passes), `label_config` (Label Studio's labeling
configs) and `cli` (`chitieu annotations ...`)."""
