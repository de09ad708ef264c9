"""Training speed of harness.MLPClassifier against a raw torch loop, skorch and scikit-learn.

All four train the same 11 -> 64 -> 32 -> 4 ReLU network with Adam (lr 1e-3, no weight
decay), the same batch size and number of epochs, reshuffling the rows every epoch, on
one torch thread, in one process. The fit time is the median of several interleaved
repeats; ratios are to the raw torch loop.

    python benchmarks/estimator_speed.py            # full run, rewrites its BENCHMARKS.md section
    python benchmarks/estimator_speed.py --quick    # smoke run, prints only
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from threadpoolctl import threadpool_limits

from harness.model.estimator import MLPClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_note, write_section

N_FEATURES, HIDDEN, N_CLASSES, LR = 11, (64, 32), 4, 1e-3
FULL_CASES = [(1_000, 32, 50), (100_000, 256, 5)]  # (rows, batch size, epochs)
QUICK_CASES = [(1_000, 32, 2), (5_000, 256, 1)]
NAME = "estimator-speed"

Trainer = Callable[[np.ndarray, np.ndarray, int, int], object]


def _torch_module() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(N_FEATURES, HIDDEN[0]),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[0], HIDDEN[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[1], N_CLASSES),
    )


def raw_torch(
    X: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, fused: bool = False
) -> object:
    """The loop a user writes by hand: index a permutation, step Adam (torch's default
    implementation unless ``fused``)."""
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    model = _torch_module()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=fused)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        for idx in torch.randperm(len(X_t)).split(batch_size):
            optimizer.zero_grad()
            loss_fn(model(X_t[idx]), y_t[idx]).backward()
            optimizer.step()
    return model


def harness_mlp(X: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> object:
    return MLPClassifier(
        hidden_layer_sizes=HIDDEN, lr=LR, batch_size=batch_size, max_epochs=epochs, random_state=0
    ).fit(X, y)


def skorch_defaults(X: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> object:
    """skorch's defaults, except what makes it the same computation as the others:
    a loss for logits, Adam, shuffled batches and no internal validation split."""
    return NeuralNetClassifier(
        _torch_module(),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=LR,
        batch_size=batch_size,
        max_epochs=epochs,
        iterator_train__shuffle=True,
        train_split=None,
        verbose=0,
    ).fit(X, y)


def sklearn_mlp(X: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SklearnMLP(
            hidden_layer_sizes=HIDDEN,
            solver="adam",
            learning_rate_init=LR,
            alpha=0.0,
            batch_size=batch_size,
            max_iter=epochs,
            n_iter_no_change=epochs + 1,  # never stop before max_iter
            random_state=0,
        ).fit(X, y)


TRAINERS: dict[str, Trainer] = {
    "raw torch loop": raw_torch,
    "raw torch loop, fused Adam": partial(raw_torch, fused=True),
    "harness MLPClassifier": harness_mlp,
    "skorch NeuralNetClassifier (defaults)": skorch_defaults,
    "scikit-learn MLPClassifier": sklearn_mlp,
}


def make_data(n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(
        n_rows, N_FEATURES, n_informative=8, n_classes=N_CLASSES, random_state=0
    )
    return StandardScaler().fit_transform(X).astype(np.float32), y.astype(np.int64)


def time_case(n_rows: int, batch_size: int, epochs: int, repeats: int) -> dict[str, float]:
    """Median fit seconds of every trainer; repeats are interleaved to spread noise."""
    X, y = make_data(n_rows)
    seconds: dict[str, list[float]] = {name: [] for name in TRAINERS}
    for _ in range(repeats):
        for name, train in TRAINERS.items():
            start = time.perf_counter()
            train(X, y, batch_size, epochs)
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


def markdown_table(results: dict[tuple[int, int, int], dict[str, float]]) -> str:
    header = "| implementation |"
    rule = "| --- |"
    for n_rows, batch_size, epochs in results:
        header += f" {n_rows:,} rows, batch {batch_size}, {epochs} epochs: s | x raw |"
        rule += " ---: | ---: |"
    lines = [header, rule]
    for name in TRAINERS:
        row = f"| {name} |"
        for medians in results.values():
            row += f" {medians[name]:.3f} | {medians[name] / medians['raw torch loop']:.2f} |"
        lines.append(row)
    return "\n".join(lines)


def section(table: str, repeats: int, load: tuple[float, float]) -> str:
    return f"""## Estimator training speed

`python benchmarks/estimator_speed.py` ({date.today().isoformat()}): fit time of the same
11 -> 64 -> 32 -> 4 ReLU network (Adam, lr 1e-3, rows reshuffled every epoch) on
`make_classification` data, one torch thread and one BLAS thread, median of {repeats}
interleaved repeats;
"x raw" is the ratio to the hand-written torch loop with torch's default (non-fused) Adam.
The harness estimator uses fused Adam and slices batches from tensors; the fused raw loop
shows what remains of skorch's per-batch overhead. The estimator's time includes its input
validation and label encoding. skorch keeps its default `DataLoader` and callbacks, with
CrossEntropyLoss, Adam, shuffling and no validation split.

{table}

{machine_note(*load)} torch {torch.__version__}, skorch {skorch.__version__},
scikit-learn {sklearn.__version__}."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run; writes nothing")
    parser.add_argument("--repeats", type=int, default=7, help="timed fits per trainer and size")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = QUICK_CASES if args.quick else FULL_CASES
    repeats = 1 if args.quick else args.repeats
    X, y = make_data(200)
    for train in TRAINERS.values():  # warm-up: first-call costs stay out of the timings
        train(X, y, 32, 1)
    load_before = os.getloadavg()[0]
    with threadpool_limits(limits=1):  # scikit-learn's BLAS gets one thread too
        results = {case: time_case(*case, repeats=repeats) for case in cases}
    table = markdown_table(results)
    print(table)
    if not args.quick:
        write_section(NAME, section(table, repeats, (load_before, os.getloadavg()[0])))
        print("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
