"""Helpers several test files share (imported as ``from helpers import ...``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.data.datasets import load_dataset
from harness.search.space import SearchSpace, load_space, parse_space
from harness.study.loop import StudySpec

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.toml"
"""Four grid points (Adam or SGD, two learning rates), ten epochs: the study tests' space."""


def study_spec(tmp_path: Path, **overrides) -> StudySpec:
    """A study stored under ``tmp_path``; by default a random search of :data:`TINY` on iris,
    3 folds, 3 trials, seed 0. ``overrides`` replace any :class:`StudySpec` field."""
    settings = {
        "name": "iris-tiny",
        "storage": f"sqlite:///{tmp_path / 'studies.db'}",
        "strategy": "random",
        "seed": 0,
        "n_folds": 3,
        "n_trials": 3,
        **overrides,
    }
    if "dataset" not in settings:
        settings["dataset"] = load_dataset("iris")
    if "space" not in settings:
        settings["space"] = load_space(TINY)
    return StudySpec(**settings)


def sgd_or_adam_space(name: str, lr_grid: int = 4) -> SearchSpace:
    """A conditional space: the optimizer, a log-scale learning rate on ``lr_grid`` grid
    points, and a momentum searched only with SGD."""
    momentum = {"type": "float", "low": 0, "high": 0.9, "grid": [0, 0.9]}
    params = {
        "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]},
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True, "grid": lr_grid},
        "momentum": {**momentum, "when": {"optimizer": "sgd"}},
    }
    return parse_space({"params": params}, name)


@contextmanager
def single_torch_thread() -> Iterator[None]:
    """Train on one torch thread (as workers do), restoring the count afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
