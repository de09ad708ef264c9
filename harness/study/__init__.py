"""Stage 4, study: the study loop, batch proposals, evaluation on folds, guards, metrics, the
held-out refit, storage, the ledger and comparison files."""
