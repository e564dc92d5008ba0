"""Server side of cost: usage rollups, cost queries, the cost API, page and budget signal."""
