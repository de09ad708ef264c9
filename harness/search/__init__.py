"""Stage 3, search: search spaces, their grids, the strategies (Optuna samplers) and pruners."""
