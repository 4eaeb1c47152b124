"""`chitieu batch`: extraction over a whole corpus, on one machine or on a Ray cluster.

The input (JSON Lines or Parquet files with `id` and `text`) is cut by document order into
partitions of a fixed number of documents; each partition becomes one Parquet file of
target tuples and one of per-document status, both written atomically, so a rerun skips
the partitions a killed run finished. The local engine and the Ray engine read, chunk,
extract and write through the same functions, so their output is the same.

  source.py   input files, the partition plan, reading a partition into documents
  rows.py     the output rows (flattened extraction contract) and their Arrow schemas
  work.py     one chunk of documents through the extractor, failures as error rows
  output.py   the output folder: manifest, finished partitions, atomic partition writes
  progress.py documents done, tuples, errors and throughput
  local.py    the engine without Ray
  ray_engine.py the engine on Ray Data (read_datasource -> map_batches on actors)
  cli.py      the `chitieu batch` command
"""
