"""Quality indicators: Great Expectations suites run inside DuckDB (validate.py), or the same checks counted by
Spark SQL for a source read by Spark (on_spark.py)."""
