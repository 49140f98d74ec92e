"""The Spark engine: a source read where it lives (files, a lake, a cluster) and aggregated by Apache Spark; only
aggregates come back. Needs the optional dependency `pip install hdh-pipeline[spark]` and Java 17."""
