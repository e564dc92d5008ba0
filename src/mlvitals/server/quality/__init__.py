"""Server side of data quality: profile and check records, queries, API, pages, signals."""
