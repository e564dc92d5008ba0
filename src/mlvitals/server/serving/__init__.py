"""Server side of serving monitoring: merging windows, rollups, queries, fleet export."""
