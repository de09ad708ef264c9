"""Does the tuned MLP combined with gradient-boosted trees beat either alone on held-out rows?

Reads the stored comparison (default ``studies/teleconnect-small.toml``) from a temporary
copy of its storage, takes the configuration the report describes (the study with the best
refitted CV score, :func:`harness.report.tuned_model.best_study`), and refits on the
comparison's training split, exactly as ``refit_best`` does for its held-out rows: the tuned
MLP, the trees alone, soft voting and stacking
(:func:`harness.model.ensemble_pipeline.ensemble_models`).

1. With the task seed: each model's held-out metrics with a percentile bootstrap interval over
   the test rows, and each ensemble against each member on the same rows (paired bootstrap of
   the difference, exact McNemar on correct/incorrect), through
   :func:`harness.results.generalization.holdout_table`.
2. With ``--seeds`` model seeds (network initialisation and batch order, the trees' and the
   stacking folds' seeds) on the same split: the mean difference of each ensemble to each
   member with a Student-t interval over seeds, so one lucky initialisation does not decide.

Writes ``leaderboards/<name>-ensembles.md`` and prints it; the stored studies are not changed.

    python benchmarks/ensemble_holdout.py            # about 4 CPU-minutes on one core
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.data.datasets import load_dataset  # noqa: E402
from harness.data.splits import holdout_split  # noqa: E402
from harness.model.ensemble_pipeline import STACKING, TREES, VOTING, ensemble_models  # noqa: E402
from harness.model.pipeline import build_pipeline  # noqa: E402
from harness.report.tuned_model import best_study, refitted_trial  # noqa: E402
from harness.results import statistics  # noqa: E402
from harness.results.generalization import HOLDOUT_BOOT, holdout_table  # noqa: E402
from harness.results.leaderboard import CONFIDENCE, markdown_table  # noqa: E402
from harness.results.loading import load_results  # noqa: E402
from harness.results.ranking import interval_text  # noqa: E402
from harness.study import ledger  # noqa: E402
from harness.study.comparison import load_comparison  # noqa: E402
from harness.study.holdout import TUNED, score_on_holdout  # noqa: E402

METRICS = ("f1_macro", "accuracy", "log_loss")
MODELS = (TUNED, TREES, VOTING, STACKING)
PAIRS = [(VOTING, TUNED), (VOTING, TREES), (STACKING, TUNED), (STACKING, TREES)]
N_BOOT = HOLDOUT_BOOT


def refit(config: dict, train, test, seed: int) -> dict:
    """Held-out results of the four models, fitted with ``seed``, with the true labels."""
    models = {TUNED: build_pipeline(config, train, train.y.to_numpy(), seed)}
    models.update(ensemble_models(config, train, seed))
    results = score_on_holdout({name: models[name] for name in MODELS}, train, test, seed)
    truth = test.y.to_numpy().tolist()
    return {name: {**entry, "y_true": truth} for name, entry in results.items()}


def paired_rows(results: dict) -> pd.DataFrame:
    """Each ensemble against each member, paired on the same held-out rows."""
    rows = []
    for ensemble, member in PAIRS:
        table = holdout_table(
            {ensemble: results[ensemble], member: results[member]},
            ensemble,
            METRICS,
            confidence=CONFIDENCE,
        )
        for _, row in table[table["model"] == member].iterrows():
            rows.append(
                {
                    "ensemble": ensemble,
                    "against": member,
                    "metric": row["metric"],
                    "difference": row["tuned_minus"],
                    "paired_p": row["paired_p"],
                    "mcnemar_p": row["mcnemar_p"],
                }
            )
    return pd.DataFrame(rows)


def over_seeds(config: dict, train, test, seeds: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-model scores and per-pair differences, mean and t interval over model seeds."""
    scores = {(name, metric): [] for name in MODELS for metric in METRICS}
    for seed in seeds:
        results = refit(config, train, test, seed)
        for name in MODELS:
            for metric in METRICS:
                scores[name, metric].append(results[name]["scores"][metric])
    model_rows, pair_rows = [], []
    for name in MODELS:
        for metric in METRICS:
            interval = statistics.t_interval(np.asarray(scores[name, metric]), CONFIDENCE)
            model_rows.append(
                {
                    "model": name,
                    "metric": metric,
                    "seeds": len(seeds),
                    "mean": interval.estimate,
                    "interval": interval_text(interval),
                }
            )
    for ensemble, member in PAIRS:
        for metric in METRICS:
            difference = np.subtract(scores[ensemble, metric], scores[member, metric])
            interval = statistics.t_interval(difference, CONFIDENCE)
            pair_rows.append(
                {
                    "ensemble": ensemble,
                    "against": member,
                    "metric": metric,
                    "seeds": len(seeds),
                    "difference": interval.estimate,
                    "interval": interval_text(interval),
                    "ensemble_higher": int((difference > 0).sum()),
                }
            )
    return pd.DataFrame(model_rows), pd.DataFrame(pair_rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparison", default=str(ROOT / "studies/teleconnect-small.toml"))
    parser.add_argument("--seeds", type=int, default=10, help="model seeds (default 10)")
    parser.add_argument("--out", default=None, help="default: leaderboards/<name>-ensembles.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    comparison = load_comparison(args.comparison)
    with tempfile.TemporaryDirectory() as folder:
        # The committed storage is only read: a copy, in case a client writes on opening.
        source = Path(comparison.storage.removeprefix("sqlite:///"))
        copy = Path(folder) / source.name
        shutil.copyfile(ROOT / source if not source.is_absolute() else source, copy)
        results = load_results(replace(comparison, storage=f"sqlite:///{copy}"))
        study = best_study(results)
        trial = refitted_trial(study)
        stored = ledger.stored_holdout(study)
    config = ledger.stored_config(trial)
    dataset = load_dataset(comparison.dataset, data_dir=ROOT / "data")
    train, test = holdout_split(dataset, comparison.test_size, comparison.task_seed)

    seed = comparison.task_seed
    results = refit(config, train, test, seed)
    refitted = results[TUNED]["scores"][comparison.metric]
    recorded = stored[TUNED]["scores"][comparison.metric]
    table = holdout_table(
        {name: results[name] for name in MODELS},
        TUNED,
        METRICS,
        confidence=CONFIDENCE,
    )
    held_out = table[["model", "metric", "score", "rows", "interval"]]
    paired = paired_rows(results)
    seeds = list(range(args.seeds))
    models, pairs = over_seeds(config, train, test, seeds)
    minutes = (time.perf_counter() - started) / 60

    settings = ", ".join(f"{k} = {v!r}" for k, v in config.items())
    text = f"""# {comparison.name}: the tuned MLP with gradient-boosted trees

Generated by `python benchmarks/ensemble_holdout.py --comparison {Path(args.comparison).name}
--seeds {args.seeds}` from the stored studies, which it does not change (deterministic: a rerun
writes the same file). The configuration is the report's tuned model: study `{study.study_name}`,
trial {trial.number} (CV {comparison.metric} {trial.value:.4f}): {settings}.

Models, fitted on the {len(train.y)} training rows and scored on the {len(test.y)} held-out
rows (task seed {comparison.task_seed}): the tuned MLP; gradient boosting alone
(`HistGradientBoostingClassifier`, scikit-learn's defaults, no early stopping); soft voting
(equal weights); stacking (logistic regression on 5-fold out-of-fold probabilities). The
refitted tuned MLP scores {refitted:.4f} {comparison.metric}, the stored held-out result
{recorded:.4f}.

## Held-out scores (task seed {seed})

Percentile bootstrap over the {len(test.y)} rows, {N_BOOT} resamples, 95%.

{markdown_table(held_out)}

## Each ensemble against each member (task seed {seed})

`difference`: ensemble minus member, paired bootstrap over the same rows; `paired_p` its
two-sided p-value; `mcnemar_p`: exact McNemar test on correct/incorrect (the same for every
metric). log_loss is lower-is-better: a negative difference favours the ensemble.

{markdown_table(paired)}

## Over {args.seeds} model seeds (the same split)

Mean over seeds with a 95% Student-t interval: the seed moves the network's initialisation
and batch order, the trees' and the stacking folds' seeds; the held-out rows stay the same,
so these intervals say nothing about other rows (the bootstrap above does).
`ensemble_higher`: seeds on which the ensemble's score is the higher (for log_loss, the worse).

{markdown_table(models)}

{markdown_table(pairs)}
"""
    out = Path(args.out) if args.out else ROOT / "leaderboards" / f"{comparison.name}-ensembles.md"
    out.write_text(text)
    print(text)
    print(f"written: {out} ({minutes:.1f} minutes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
