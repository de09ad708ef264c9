"""Stage 1, data: the dataset registry, CSV validation, preprocessing and the held-out split."""
