"""Server side of model pipelines: run records, queries, the runs API, pages and signals."""
