"""Server side of serving monitoring: records, rollups, queries, API, pages, signals, probes."""
