"""One article -> targets, in declared stages (`chitieu.extract.stages.STAGES`, in order):

1. `prepare`: text -> `Prepared` (NFC text and offset map, words, windows, sentences)
2. `run`: windows -> probability rows (the service pools the windows of many requests)
3. `decode`: probabilities -> entities
4. `refine`: the guidelines' closed vocabularies and goal test (`goals`), the goal vote
   (`goal_classifier`)
5. `indicators`: an INDICATOR for values the tagger left bare
6. `link`: entities -> targets (values read by `normalize`)
7. `map_back`: everything into the caller's offsets

`extractor.Extractor` is the facade the CLI, the evaluator, batch and the service call.
"""
