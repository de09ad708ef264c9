"""Stage 5, results: reading stored studies back, search-efficiency analysis, statistics and
leaderboards."""
