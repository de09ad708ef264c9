"""Stage 2, model: the estimator, its torch network, the configuration -> pipeline step and the
model's torch-free vocabulary."""
