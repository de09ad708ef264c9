"""Stage 2, model: the torch estimators (one base, a family per network), the fold and
population trainers, the configuration -> pipeline step and the model's torch-free vocabulary."""
