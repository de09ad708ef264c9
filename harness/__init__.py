"""hpo harness: tune a skorch MLP with many search strategies and compare them fairly."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["MLPClassifier", "__version__"]


def __getattr__(name: str):
    # torch is imported only when the estimator is used, so `harness --help` stays fast.
    if name == "MLPClassifier":
        from harness.estimator import MLPClassifier

        return MLPClassifier
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
