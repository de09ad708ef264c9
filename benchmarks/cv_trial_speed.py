"""Speed of one 5-fold cross-validation trial: the batched trainer against K separate fits.

Side by side in one run, medians of interleaved repeats, one thread, ratios to scikit-learn:

- ``evaluate_config(..., trainer="batched")``: the five folds as one batched network;
- ``evaluate_config(..., trainer="sequential")``: five skorch fits of ``harness.MLPClassifier``;
- five scikit-learn ``MLPClassifier`` fits of the same architecture and epochs;
- five plain torch loops (``MLPModule`` + ``torch.optim.Adam``).

Every variant does the same work per fold: fit the fold's preprocessing, (resample,) train,
predict the held-out fold. Scenarios: teleconnect (800 search rows, 13 -> 64 -> 32 -> 4 ReLU,
Adam 1e-3, 50 epochs) at batch 32 and 128, with early stopping (patience 10, up to 50 epochs;
scikit-learn's rule, on its validation score rather than the loss, may stop at other epochs, so
that row compares similar rather than identical work), with SMOTE; and 100,000 synthetic rows x
20 features, 3 classes, batch 256, 5 epochs.

    python benchmarks/cv_trial_speed.py            # full run, prints the table
    python benchmarks/cv_trial_speed.py --quick    # smoke run (tests/project/test_benchmarks.py)
    python benchmarks/cv_trial_speed.py --write    # also rewrite its BENCHMARKS.md section
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from imblearn.over_sampling import SMOTE
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP
from threadpoolctl import threadpool_limits

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from _common import machine_note, write_section  # noqa: E402

from harness import (  # noqa: E402
    MLPModule,
    build_preprocessor,
    evaluate_config,
    holdout_split,
    load_dataset,
    make_folds,
)
from harness.data.datasets import make_synthetic  # noqa: E402

NAME = "cv-trial-speed"
HIDDEN = (64, 32)
SKLEARN = "5 x scikit-learn MLPClassifier"


@dataclass
class Scenario:
    """One trial setting that every variant runs."""

    label: str
    dataset: object
    batch_size: int
    epochs: int
    early_stopping: bool = False
    smote: bool = False
    folds: list = field(default_factory=list)

    @property
    def config(self) -> dict:
        config = {
            "hidden_layer_sizes": HIDDEN,
            "optimizer": "adam",
            "lr": 1e-3,
            "batch_size": self.batch_size,
            "max_epochs": self.epochs,
        }
        if self.early_stopping:
            config.update(early_stopping=True, patience=10)
        if self.smote:
            config["imbalance"] = "smote"
        return config


def _fold_arrays(scenario: Scenario):
    """Each fold's preprocessed (and resampled) training rows and its test rows."""
    X, y = scenario.dataset.X, scenario.dataset.y.to_numpy()
    for k, (train, test) in enumerate(scenario.folds):
        pre = build_preprocessor(scenario.dataset)
        X_train = pre.fit_transform(X.iloc[train]).astype(np.float32)
        y_train = y[train]
        if scenario.smote:
            X_train, y_train = SMOTE(random_state=k).fit_resample(X_train, y_train)
            X_train = X_train.astype(np.float32)
        yield k, X_train, y_train, pre.transform(X.iloc[test]).astype(np.float32)


def harness_batched(scenario: Scenario) -> float:
    evaluation = evaluate_config(
        scenario.config, scenario.dataset, scenario.folds, trainer="batched"
    )
    return evaluation.mean("accuracy")


def harness_sequential(scenario: Scenario) -> float:
    evaluation = evaluate_config(
        scenario.config, scenario.dataset, scenario.folds, trainer="sequential"
    )
    return evaluation.mean("accuracy")


def sklearn_fits(scenario: Scenario) -> float:
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k, X_train, y_train, X_test in _fold_arrays(scenario):
            model = SklearnMLP(
                hidden_layer_sizes=HIDDEN,
                solver="adam",
                learning_rate_init=1e-3,
                batch_size=scenario.batch_size,
                max_iter=scenario.epochs,
                shuffle=True,
                early_stopping=scenario.early_stopping,
                validation_fraction=0.1,
                n_iter_no_change=10 if scenario.early_stopping else scenario.epochs,
                tol=1e-4 if scenario.early_stopping else 0,
                random_state=k,
            ).fit(X_train, y_train)
            scores.append(model.predict(X_test).size)
    return float(np.mean(scores))


def torch_loops(scenario: Scenario) -> float:
    sizes = []
    for k, X_train, y_train, X_test in _fold_arrays(scenario):
        classes = np.unique(y_train)
        torch.manual_seed(k)
        model = MLPModule(X_train.shape[1], len(classes), HIDDEN)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
        loss_fn = torch.nn.CrossEntropyLoss()
        X_t = torch.from_numpy(X_train)
        y_t = torch.from_numpy(np.searchsorted(classes, y_train).astype(np.int64))
        generator = torch.Generator().manual_seed(k)
        for _ in range(scenario.epochs):
            for index in torch.randperm(len(X_t), generator=generator).split(scenario.batch_size):
                optimizer.zero_grad()
                loss_fn(model(X_t[index]), y_t[index]).backward()
                optimizer.step()
        with torch.no_grad():
            sizes.append(model(torch.from_numpy(X_test)).argmax(1).numel())
    return float(np.mean(sizes))


VARIANTS: dict[str, Callable[[Scenario], float]] = {
    "harness batched": harness_batched,
    "harness sequential (5 x skorch)": harness_sequential,
    SKLEARN: sklearn_fits,
    "5 x plain torch loop": torch_loops,
}


def scenarios(quick: bool) -> list[Scenario]:
    teleconnect, _ = holdout_split(load_dataset("teleconnect"), 0.2, 0)
    epochs = 2 if quick else 50
    rows = 5_000 if quick else 100_000
    synthetic = make_synthetic(rows, 20, 3, random_state=0)
    found = [
        Scenario("teleconnect, batch 32", teleconnect, 32, epochs),
        Scenario("teleconnect, batch 128", teleconnect, 128, epochs),
        Scenario("teleconnect, batch 32, early stopping", teleconnect, 32, epochs, True),
        Scenario("teleconnect, batch 32, SMOTE", teleconnect, 32, epochs, smote=True),
        Scenario(f"{rows:,} synthetic rows, batch 256", synthetic, 256, 1 if quick else 5),
    ]
    for scenario in found:
        scenario.folds = make_folds(scenario.dataset.y, 5, seed=0)
    return found


def measure(found: list[Scenario], repeats: int) -> dict[str, dict[str, float]]:
    """Median seconds per scenario and variant; variants interleaved, after one warm-up each."""
    times = {s.label: {name: [] for name in VARIANTS} for s in found}
    for variant in VARIANTS.values():
        variant(Scenario("warm-up", found[0].dataset, 32, 1, folds=found[0].folds))
    for _ in range(repeats):
        for scenario in found:
            for name, variant in VARIANTS.items():
                start = time.perf_counter()
                variant(scenario)
                times[scenario.label][name].append(time.perf_counter() - start)
    return {s: {n: statistics.median(t) for n, t in by.items()} for s, by in times.items()}


def table(medians: dict[str, dict[str, float]]) -> str:
    lines = [
        "| scenario | implementation | seconds per trial | x scikit-learn |",
        "| --- | --- | ---: | ---: |",
    ]
    for label, by_name in medians.items():
        reference = by_name[SKLEARN]
        for name, seconds in by_name.items():
            lines.append(f"| {label} | {name} | {seconds:.3f} | {seconds / reference:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny epochs and rows, 1 repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="rewrite the BENCHMARKS.md section")
    args = parser.parse_args()
    repeats = 1 if args.quick else max(3, args.repeats)
    torch.set_num_threads(1)
    load_before = os.getloadavg()[0]
    with threadpool_limits(1):
        medians = measure(scenarios(args.quick), repeats)
    load_after = os.getloadavg()[0]
    text = table(medians)
    note = (
        "One 5-fold CV trial per row: fold-local preprocessing, (SMOTE,) training and "
        f"prediction of the held-out fold; one thread; median of {repeats} interleaved "
        f"repeats. torch {torch.__version__}."
    )
    print(text, note, sep="\n\n")
    if args.write and not args.quick:
        write_section(
            NAME,
            f"## CV trial speed: batched trainer\n\n`python benchmarks/cv_trial_speed.py "
            f"--write`\n\n{note}\n\n{text}\n\n{machine_note(load_before, load_after)}",
        )


if __name__ == "__main__":
    main()
