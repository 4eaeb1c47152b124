"""The Vietnamese vocabulary chitieu reads, one source per concept.

- `unicode`: NFC, name keys (how two mentions of a name compare), base letters.
- `numbers`: the numeral pattern, scale words (`nghìn`, `triệu`, `tỷ` ...), `gấp` words.
- `units`: currencies and their canonical units, the counted nouns a value may carry.
- `comparators`: comparator words and signs with the comparator each means.
- `places`: the centrally run cities.
- `cues`: goal and plan words (`phấn đấu`, `kế hoạch` ...).

The normaliser (`chitieu.extract.normalize`), the refine stage (`chitieu.extract.refine`), the rule
baseline (`chitieu.evaluate.rules`), the goal check (`chitieu.extract.goals`) and the linker build their
patterns from these lists, so a word added here is known to all of them.
"""
