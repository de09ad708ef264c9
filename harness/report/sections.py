"""The report's sections about the task: the data, the original model and the search.

Each public function returns one section's Markdown from a
:class:`~harness.report.context.ReportContext`; every number in it is read
from the context, and every work named is cited through :mod:`harness.report.references`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import CategoricalDistribution

from harness.data.datasets import get_spec
from harness.errors import HarnessError
from harness.model.cnn_vocabulary import cnn_blocks, cnn_settings, square_image
from harness.model.families import DEFAULT_FAMILY, FAMILY, family_of, without_family
from harness.model.vocabulary import (
    BASELINE_CONFIG,
    IMBALANCE,
    RESAMPLER_NAMES,
    hidden_layers,
    model_settings,
)
from harness.report.business import segment
from harness.report.context import ReportContext, bullets, markdown_table
from harness.report.evidence import grid_rationale
from harness.report.references import cite
from harness.report.tuned_model import class_metrics
from harness.results import factors
from harness.results.generalization import holdout_confirmation, model_label
from harness.search.space import load_space
from harness.search.strategies import STRATEGIES
from harness.study.holdout import BASELINE, MAJORITY, TUNED, model_choice

STRATEGY_RATIONALE: dict[str, tuple[str, tuple[str, ...]]] = {
    "grid": (
        "the classic baseline: every grid point once, so its coverage does not depend on "
        "luck, but its cost multiplies with each parameter",
        ("bergstra2012",),
    ),
    "random": (
        "the reference of normalized regret: as good as grid search at equal budget "
        "when few parameters matter",
        ("bergstra2012",),
    ),
    "tpe": (
        "Optuna's default model-based sampler: cheap proposals from densities of good and "
        "bad trials, natural with categorical and conditional parameters",
        ("bergstra2011",),
    ),
    "nsga2": (
        "a genetic algorithm with non-dominated sorting and crowding distance: the "
        "standard evolutionary method for several objectives, which needs a budget of "
        "several generations",
        ("deb2002",),
    ),
    "gp": (
        "Gaussian-process Bayesian optimisation with log expected improvement: "
        "sample-efficient on small numeric spaces, with proposals that cost more as trials "
        "accumulate",
        ("snoek2012", "ament2023"),
    ),
    "cmaes": (
        "an evolution strategy that adapts a covariance matrix: strong on continuous, "
        "correlated parameters",
        ("hansen2016",),
    ),
    "qmc": (
        "a scrambled Sobol low-discrepancy sequence: more even coverage than random points, "
        "an advantage that shrinks with many dimensions and few points",
        ("sobol1967",),
    ),
    "bayesopt": (
        "a second Gaussian-process implementation (upper confidence bound), to see "
        "whether the library matters",
        ("nogueira2014", "srinivas2010"),
    ),
    "skopt": (
        "scikit-optimize's Gaussian process with expected improvement",
        ("head2021", "jones1998"),
    ),
    "skopt-rf": (
        "a random-forest surrogate that handles categorical parameters natively",
        ("head2021",),
    ),
    "skopt-et": ("an extra-trees surrogate, cheaper to refit than a random forest", ("head2021",)),
}
"""Why each registered strategy is worth comparing, with the works to cite."""

DATASET_REFERENCES: dict[str, tuple[str, ...]] = {
    "teleconnect": ("ibm-telecust",),
    "wine-red": ("cortez2009",),
    "wine-white": ("cortez2009",),
}
"""The works to cite for each registered dataset."""

CHOICE_REFERENCES: dict[str, tuple[str, ...]] = {
    "adam": ("kingma2015",),
    "adamw": ("loshchilov2019",),
    "rmsprop": ("tieleman2012",),
    "smote": ("chawla2002",),
    "borderline_smote": ("han2005",),
    "adasyn": ("he2008",),
    "smote_enn": ("batista2004",),
    "focal": ("lin2017",),
}
"""Works to cite where an optimizer or imbalance strategy is named."""


def with_refs(value: Any) -> str:
    """``value`` followed by the citation of the work that introduced it, if any."""
    refs = CHOICE_REFERENCES.get(str(value))
    return f"{value} {cite(*refs)}" if refs else str(value)


def data_section(ctx: ReportContext) -> str:
    """The data: size, held-out split, class balance, feature summary and what they imply."""
    data, train, test = ctx.dataset, ctx.train, ctx.test
    counts = data.class_counts
    balance = pd.DataFrame(
        {
            "class": [segment(label, ctx.names) for label in counts.index],
            "rows": counts.to_numpy(),
            "share": [f"{share:.1%}" for share in counts / counts.sum()],
            "train": train.class_counts.reindex(counts.index, fill_value=0).to_numpy(),
            "test": test.class_counts.reindex(counts.index, fill_value=0).to_numpy(),
        }
    )
    features = []
    for column in data.X.columns:
        values = data.X[column]
        if column in data.categorical:
            top = values.value_counts().index[0]
            features.append(
                {
                    "feature": column,
                    "type": f"categorical (most often {top})",
                    "values": values.nunique(),
                }
            )
        else:
            features.append(
                {
                    "feature": column,
                    "type": "numeric",
                    "values": values.nunique(),
                    "mean": values.mean(),
                    "std": values.std(),
                    "min": values.min(),
                    "max": values.max(),
                }
            )
    summary = pd.DataFrame(features)
    text = (
        f"`{data.name}`: {data.n_samples} rows, {data.n_features} features "
        f"({len(data.numeric)} numeric, {len(data.categorical)} categorical), "
        f"{data.n_classes} classes in `{data.target}`."
        + (f" {data.description.rstrip('.')}." if data.description else "")
        + (
            f" Source: {cite(*DATASET_REFERENCES[data.name])}."
            if data.name in DATASET_REFERENCES
            else ""
        )
        + "\n\n"
        f"A stratified {ctx.comparison.test_size:.0%} of the rows ({len(test.y)}) is held out "
        f"with task seed {ctx.comparison.task_seed} and never seen by the search, which "
        f"cross-validates on the other {len(train.y)} rows with {ctx.comparison.folds} "
        "stratified folds, the same folds for every strategy."
    )
    return "\n\n".join(
        [
            text,
            "Class balance:",
            markdown_table(balance),
            "Features (as read, before scaling and encoding):",
            markdown_table(summary),
            f"What this means for the {ctx.words.grouping}:",
            bullets(_data_meaning(ctx)),
        ]
    )


def _data_meaning(ctx: ReportContext) -> list[str]:
    data, train = ctx.dataset, ctx.train
    counts = data.class_counts
    share = counts.max() / counts.sum()
    majority = ctx.holdout.get(MAJORITY, {}).get("scores", {}).get("accuracy")
    if counts.max() == counts.min():
        sizes = f"Every class has {counts.max()} rows ({share:.1%})."
    else:
        sizes = (
            f"The largest class, {segment(counts.idxmax(), ctx.names)}, has {counts.max()} rows "
            f"({share:.1%}), the smallest, {segment(counts.idxmin(), ctx.names)}, "
            f"{counts.min()}: a ratio of {data.imbalance_ratio:.2f}."
        )
    if majority is not None:
        sizes += f" Predicting the largest class for everyone scores {majority:.4f} accuracy."
    macro = ctx.metric.endswith("_macro") or ctx.metric == "balanced_accuracy"
    sizes += f" The objective, {ctx.metric}, " + (
        "weighs every class equally." if macro else "weighs classes by their size."
    )
    sentences = [sizes]
    per_fold = train.class_counts.min() / ctx.comparison.folds
    sentences.append(
        f"Each validation fold holds about {per_fold:.0f} rows of the rarest class, so one row "
        f"moves that class's recall by about {1 / per_fold:.3f}."
    )
    numeric = data.X[list(data.numeric)]
    if len(numeric.columns) > 1:
        spread = numeric.std()
        sentences.append(
            f"Numeric scales differ: standard deviations range from {spread.min():.3g} "
            f"({spread.idxmin()}) to {spread.max():.3g} ({spread.idxmax()}), so every fold "
            f"standardises them on its training rows {cite('pedregosa2011')}."
        )
    w = ctx.words
    reading = (
        "A class's"
        if w.group == "class"
        else f"Read as {w.grouping}, each class is a {w.group}: a class's"
    )
    sentences.append(
        f"After one-hot encoding of {len(data.categorical)} categorical column(s) the network "
        f"sees {ctx.n_inputs} inputs. {reading} "
        "recall is the share of its members the model finds, its precision the share of the "
        "rows put in it that belong there."
    )
    return sentences


def _is_cnn(config: Mapping[str, Any]) -> bool:
    return family_of(config).name == "cnn"


def _settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of the configuration's estimator: its family's defaults overridden."""
    return cnn_settings(without_family(config)) if _is_cnn(config) else model_settings(config)


def _cnn_architecture(config: Mapping[str, Any], n_inputs: int, n_classes: int) -> str:
    settings = _settings(config)
    shape = settings["image_shape"]
    shape = tuple(shape) if shape is not None else square_image(n_inputs)
    blocks = cnn_blocks(shape, settings["n_blocks"], settings["channels"])
    kernel = f"{settings['kernel_size']}x{settings['kernel_size']}"
    head = (
        f"a dense layer of {settings['dense_units']} units"
        if settings["dense_units"]
        else "a linear layer"
    )
    network = [
        "residual connections" if settings["residual"] else "no residual connections",
        "training images shifted by up to 1 pixel" if settings["augment"] else "no augmentation",
    ]
    return (
        f"a convolutional network on {' x '.join(map(str, shape))} images: "
        f"{len(blocks)} block(s) of {kernel} convolutions with "
        f"{' -> '.join(str(b.channels_out) for b in blocks)} channels, each max-pooled while "
        f"its map is at least 2 pixels, then {head} and {n_classes} outputs; "
        + _training(settings, " in the head", network)
    )


def _training(settings: Mapping[str, Any], dropout_where: str, network: list[str]) -> str:
    """How a torch network trains: activations, optimizer, batch, epochs, regularisation
    (dropout ``dropout_where``, batch norm, the ``network``'s own features, early stopping)
    and imbalance handling."""
    regular = [
        f"dropout {settings['dropout']:.3g}{dropout_where} {cite('srivastava2014')}"
        if settings["dropout"]
        else "no dropout",
        f"batch norm {cite('ioffe2015')}" if settings["batch_norm"] else "no batch norm",
        *network,
        "early stopping" if settings["early_stopping"] else "no early stopping",
    ]
    return (
        f"{settings['activation']} activations, optimizer {with_refs(settings['optimizer'])} "
        f"with learning rate {settings['lr']:.3g}, batch size {settings['batch_size']}, "
        f"{settings['max_epochs']} epochs, {', '.join(regular)}, imbalance handling "
        f"{with_refs(settings[IMBALANCE])}"
    )


def _architecture(config: Mapping[str, Any], n_inputs: int, n_classes: int) -> str:
    if _is_cnn(config):
        return _cnn_architecture(config, n_inputs, n_classes)
    settings = model_settings(config)
    widths = " -> ".join(map(str, (n_inputs, *hidden_layers(config), n_classes)))
    return f"{widths} units, " + _training(settings, "", [])


def baseline_section(ctx: ReportContext) -> str:
    """The original model: its architecture and its measured per-class strengths and weaknesses."""
    result = ctx.holdout[BASELINE]
    per_class = class_metrics(result["confusion"], result["labels"], ctx.names).iloc[:-1]
    matrix = np.asarray(result["confusion"])
    off = matrix - np.diag(np.diag(matrix))
    true, predicted = np.unravel_index(np.argmax(off), off.shape)
    labels = [segment(label, ctx.names) for label in result["labels"]]
    strong = per_class.loc[per_class["recall"].idxmax()]
    weak = per_class.loc[per_class["recall"].idxmin()]
    vague = per_class.loc[per_class["precision"].idxmin()]
    scores = result["scores"]
    measured = [
        f"Held-out accuracy {scores['accuracy']:.4f}, macro F1 {scores['f1_macro']:.4f}, "
        f"log loss {scores['log_loss']:.4f}.",
        f"Strongest class: {strong['class']}, recall {strong['recall']:.4f} and precision "
        f"{strong['precision']:.4f} on {strong['support']} test rows.",
        f"Weakest class: {weak['class']}, recall {weak['recall']:.4f}; lowest precision: "
        f"{vague['class']} ({vague['precision']:.4f}).",
    ]
    if off.max() > 0:
        measured.append(
            f"Its most frequent error: {off.max()} test rows of {labels[true]} predicted as "
            f"{labels[predicted]}."
        )
    family = family_of(ctx.config)
    named = (
        "`harness.BASELINE_CONFIG`"
        if family.name == DEFAULT_FAMILY
        else f"the `{family.name}` family's baseline configuration"
    )
    baseline = family.baseline_config()
    return "\n\n".join(
        [
            f"The unoptimized model ({named}) is a PyTorch network "
            f"{cite('paszke2019')} trained through skorch {cite('tietz2017')}: "
            f"{_architecture(baseline, ctx.n_inputs, ctx.dataset.n_classes)}. Measured "
            "on the held-out split after training on all search rows (per-class numbers from "
            "its stored confusion matrix):",
            bullets(measured),
        ]
    )


def _strategies_text(ctx: ReportContext) -> str:
    lines = []
    for name in ctx.comparison.strategies:
        strategy = STRATEGIES[name]
        why, refs = STRATEGY_RATIONALE[name]
        if name == "grid":
            why = grid_rationale(_grid_size(ctx.comparison.space_source()), ctx.comparison.trials)
        lines.append(
            f"**{name}** ({strategy.library}): {strategy.description}. Why: {why} {cite(*refs)}."
        )
    if ctx.comparison.exhaustive_grid:
        optimum = ctx.results.optimum
        found = f": its best, {optimum:.4f}, is the optimum" if optimum is not None else ""
        lines.append(f"**exhaustive grid**: one extra grid study over the whole space{found}.")
    return (
        f"Every strategy is an Optuna sampler {cite('akiba2019')}; all share one study loop, "
        f"the same folds and the same budget ({ctx.comparison.trials} trials per study, seeds "
        f"{', '.join(map(str, ctx.comparison.seeds))}).\n\n" + bullets(lines)
    )


def _grid_size(space: str | Path) -> int | None:
    try:
        return load_space(space).grid_size
    except HarnessError:
        return None


def _values(distribution: optuna.distributions.BaseDistribution) -> str:
    if isinstance(distribution, CategoricalDistribution):
        return ", ".join(with_refs(choice) for choice in distribution.choices)
    scale = ", log scale" if getattr(distribution, "log", False) else ""
    step = f", step {distribution.step:g}" if getattr(distribution, "step", None) else ""
    return f"{distribution.low:g} to {distribution.high:g}{scale}{step}"


def _space_text(ctx: ReportContext) -> str:
    space = pd.DataFrame(
        [
            {
                "parameter": name,
                "type": type(d).__name__.removesuffix("Distribution").lower(),
                "values": _values(d),
            }
            for name, d in ctx.distributions.items()
        ]
    )
    fixed = {k: v for k, v in ctx.config.items() if k not in ctx.distributions}
    parts = [f"Space `{ctx.comparison.space}`, as stored with the trials:", markdown_table(space)]
    if fixed:
        parts.append(f"Fixed: {', '.join(f'{k} = {_shown(v)}' for k, v in fixed.items())}.")
    imbalance = ctx.distributions.get(IMBALANCE)
    if isinstance(imbalance, CategoricalDistribution) and set(imbalance.choices) & set(
        RESAMPLER_NAMES
    ):
        parts.append(
            f"Resamplers come from imbalanced-learn {cite('lemaitre2017')} and see the training "
            "rows of each fit only, never a validation fold."
        )
    return "\n\n".join(parts)


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _evidence(ctx: ReportContext, name: str) -> str:
    distribution = ctx.distributions.get(name)
    if name not in ctx.config:
        return "not set by the search space: the estimator's default"
    if distribution is None:
        return "fixed by the search space"
    ranked = list(ctx.importances)
    importance = (
        f"importance {ctx.importances[name]:.3f} (rank {ranked.index(name) + 1} of {len(ranked)})"
        if name in ctx.importances
        else "searched"
    )
    if not isinstance(distribution, CategoricalDistribution):
        return importance
    table = ctx.tables.get(f"by_{name}")
    if table is None:
        table = factors.factor_effects(ctx.results.frame, name, budget=ctx.comparison.trials)
    means = "; ".join(
        f"{row[name]}: {row['effect']:.4f}" for _, row in table.iterrows() if row["seeds"] > 0
    )
    return f"{importance}; score on the same configurations per value: {means}"


def _family_changes_text(ctx: ReportContext) -> str:
    """What a non-MLP family's tuned configuration changed against the family's baseline."""
    family = family_of(ctx.config)
    before, after = dict(family.baseline), without_family(ctx.config)
    names = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    rows = [
        {
            "parameter": name,
            "baseline": _shown(before.get(name, "default")),
            "tuned": _shown(after.get(name, "default")),
            "evidence": _evidence(ctx, name),
        }
        for name in names
    ]
    same = [k for k in dict.fromkeys([*before, *after]) if k not in names]
    parts = [
        f"The tuned model: the {family.name!r} family ({family.description}). What changed "
        "against the family's baseline configuration, and the evidence from the trials "
        "(importance: fANOVA on the pooled trials; per-value scores: each value's effect on the "
        "same configurations, from a surrogate per seed, averaged over seeds):",
        markdown_table(pd.DataFrame(rows)) if rows else "No setting changed.",
    ]
    if same:
        parts.append(f"Unchanged: {', '.join(same)}.")
    return "\n\n".join(parts)


def _changes_text(ctx: ReportContext) -> str:
    if family_of(ctx.config).name not in (DEFAULT_FAMILY, "cnn"):
        return _family_changes_text(ctx)
    baseline = family_of(ctx.config).baseline_config()
    before, after = _settings(baseline), _settings(ctx.config)
    keys = [k for k in dict.fromkeys([*baseline, *ctx.config]) if k != FAMILY]
    names = [k for k in keys if before[k] != after[k]]
    rows = [
        {
            "parameter": name,
            "baseline": _shown(before[name]),
            "tuned": _shown(after[name]),
            "evidence": _evidence(ctx, name),
        }
        for name in names
    ]
    if _is_cnn(ctx.config):
        shape = square_image(ctx.n_inputs) or (1, 1, ctx.n_inputs)
        layers = tuple(
            tuple(
                b.channels_out
                for b in cnn_blocks(tuple(s["image_shape"] or shape), s["n_blocks"], s["channels"])
            )
            for s in (before, after)
        )
        label = "channels per block (resolved)"
    else:
        layers = (hidden_layers(BASELINE_CONFIG), hidden_layers(ctx.config))
        label = "hidden layers (resolved)"
    if layers[0] != layers[1]:
        rows.append(
            {
                "parameter": label,
                "baseline": str(layers[0]),
                "tuned": str(layers[1]),
                "evidence": "from the parameters above",
            }
        )
    same = [k for k in keys if k not in names]
    text = (
        f"The tuned model: {_architecture(ctx.config, ctx.n_inputs, ctx.dataset.n_classes)}. "
        "What changed against the baseline, and the evidence from the trials (importance: "
        "fANOVA on the pooled trials, see the figures; per-value scores: each value's effect "
        "on the same configurations, from a surrogate per seed, averaged over seeds):"
    )
    parts = [text, markdown_table(pd.DataFrame(rows)) if rows else "No setting changed."]
    if same:
        parts.append(f"Unchanged: {', '.join(same)}.")
    return "\n\n".join(parts)


def search_section(ctx: ReportContext) -> str:
    """The search: strategies and why, the space, and what the best configuration changed."""
    return "\n\n".join(
        [
            "### Strategies and why each was chosen",
            _strategies_text(ctx),
            "### The search space",
            _space_text(ctx),
            "### Changes made to the model",
            _changes_text(ctx),
        ]
    )


def published_text(ctx: ReportContext) -> str | None:
    """Scores others published on this data beside this study's, and where the protocols differ.

    From the dataset registry (:class:`harness.data.datasets.PublishedResult`): each
    published number with its source, then the majority-class rate of all the
    data's rows, the tuned model and every reference on the held-out rows, in the
    published numbers' metric. None for a dataset the registry says nothing about.
    """
    try:
        spec = get_spec(ctx.dataset.name)
    except HarnessError:
        return None
    if not spec.published:
        if spec.published_note is None:
            return None
        return f"Published results on {ctx.dataset.name}: {spec.published_note}."
    metric = spec.published[0].metric
    rate = float(ctx.dataset.class_counts.max() / ctx.dataset.n_samples)
    rows = [
        {"model": r.model, metric: r.value, "protocol": r.protocol, "source": r.source}
        for r in spec.published
    ]
    rows.append(
        {
            "model": "majority class (all rows)",
            metric: rate,
            "protocol": f"share of the largest class in all {ctx.dataset.n_samples} rows",
            "source": "computed from the data",
        }
    )
    protocol = (
        f"trained on the {len(ctx.train.y)} search rows, scored once on the "
        f"{len(ctx.test.y)} held-out rows (task seed {ctx.comparison.task_seed})"
    )
    for name, result in ctx.holdout.items():
        if metric in result.get("scores", {}):
            rows.append(
                {
                    "model": name,
                    metric: result["scores"][metric],
                    "protocol": protocol,
                    "source": "this study",
                }
            )
    works = DATASET_REFERENCES.get(ctx.dataset.name, ())
    tuned = ctx.holdout.get(TUNED, {}).get("scores", {}).get(metric, rate)
    return "\n\n".join(
        [
            f"Published results on {ctx.dataset.name}"
            + (f" {cite(*works)}" if works else "")
            + " beside this study's models, each row with its source. The protocols differ: "
            "the published numbers are means over repeated cross-validation on all rows, "
            f"these are one hold-out split of {len(ctx.test.y)} rows (a standard error near "
            f"{np.sqrt(tuned * (1 - tuned) / len(ctx.test.y)):.3f} for the tuned model), so a "
            "difference of a few points is within that split's noise:",
            markdown_table(pd.DataFrame(rows)),
        ]
    )


def model_choice_text(ctx: ReportContext) -> str | None:
    """Which model to deploy and why: the best CV score on the study's folds among every model.

    :func:`harness.study.holdout.model_choice`: the tuned model, the baseline, the
    references and the ensembles with trees, compared on the same folds; the
    held-out rows only say whether they agree (:func:`holdout_confirmation`). None
    where the references were not cross-validated (a study refitted before they were).
    """
    choice = model_choice(ctx.study)
    if choice is None:
        return None
    rows = [
        {
            "model": name,
            f"cv_{choice.metric}": mean,
            "folds": len(choice.folds[name]),
            f"test_{choice.metric}": ctx.holdout.get(name, {})
            .get("scores", {})
            .get(choice.metric, np.nan),
        }
        for name, mean in choice.cv.items()
    ]
    tuned = model_label(TUNED, family_of(ctx.config).name)
    if choice.chosen == TUNED:
        verdict = f"the {tuned} itself: no model of any kind beats it in CV."
    else:
        verdict = (
            f"{choice.chosen}, ahead of the {tuned} by {choice.gap:.4f} in mean CV "
            f"{choice.metric} ({choice.cv[choice.chosen]:.4f} against "
            f"{choice.cv[TUNED]:.4f})."
        )
    confirmation = holdout_confirmation(ctx.holdout, choice.chosen, list(choice.cv), choice.metric)
    parts = [
        f"Model to deploy, chosen as an AutoML system chooses: the best mean CV "
        f"{choice.metric} on the study's own {len(choice.folds[TUNED])} folds of the search "
        f"rows, among the tuned model, the baseline, the references and the ensembles with "
        f"trees. The held-out rows play no part in the choice. Deploy {verdict}"
        + (f" {confirmation.sentence()}" if confirmation is not None else ""),
        markdown_table(pd.DataFrame(rows)),
    ]
    if choice.missing:
        parts.append(
            f"Not cross-validated, so not candidates: {', '.join(choice.missing)} (stacking "
            "fits the network six times per fold)."
        )
    return "\n\n".join(parts)
