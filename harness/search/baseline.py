"""A model family's baseline configuration as a point of a search space.

Every study evaluates its family's unoptimized baseline first (enqueued by
:func:`harness.study.loop.start_points`), so the tuned model's CV score is never
below the baseline's on the same folds. That needs the baseline to be a point of
the space: :func:`baseline_point` finds the searched values whose configuration
trains the same model as the baseline (equal
:func:`harness.model.families.resolved_settings`), or None when the space has no
such point.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from harness.model.ensemble_vocabulary import NETWORK_PREFIX
from harness.model.families import SIZING, get_family, resolved_settings
from harness.search.space import CategoricalParam, SearchSpace

MAX_COMBINATIONS = 100_000
"""Most combinations of the coupled parameters (layer sizing, irrelevant settings) tried."""


def _sizing(name: str) -> bool:
    return name.removeprefix(NETWORK_PREFIX) in SIZING


def _candidates(
    space: SearchSpace, name: str, baseline: Mapping[str, Any], layers: tuple[int, ...]
) -> list[Any]:
    """Values of one searched parameter that may belong to the baseline point."""
    param = space.params[name]
    if isinstance(param, CategoricalParam):
        return list(param.choices)
    values = list(param.grid or ())
    if name in baseline:
        values.append(baseline[name])
    short = name.removeprefix(NETWORK_PREFIX)
    prefix = name[: len(name) - len(short)]
    if short == "neuron_pct" and layers:
        widths = [space.fixed.get(prefix + "max_neurons")]
        widths += list(getattr(space.params.get(prefix + "max_neurons"), "grid", None) or ())
        values += [layers[0] / width for width in widths if width]
    elif short == "neuron_shrink" and len(layers) > 1:
        values.append(layers[1] / layers[0])
    elif short == "max_layers":
        values.append(len(layers))
    elif short == "max_neurons" and layers:
        values.append(layers[0])
    return [v for v in dict.fromkeys(values) if param.contains(v)]


def baseline_point(space: SearchSpace) -> dict[str, Any] | None:
    """The searched values at which ``space`` trains its family's baseline, or None.

    Parameters
    ----------
    space : SearchSpace
        A search space of any family.

    Returns
    -------
    dict or None
        The active searched parameters (as :meth:`SearchSpace.suggest` would
        propose them) whose configuration, with the space's fixed values, has
        the same :func:`~harness.model.families.resolved_settings` as the
        family's baseline; None when no such point exists (a fixed value
        differs, or no value of some parameter matches).
    """
    family = get_family(space.family)
    baseline = dict(family.baseline_config())
    target = resolved_settings(baseline)
    layers = tuple(
        target.get("hidden_layers") or target.get(NETWORK_PREFIX + "hidden_layers") or ()
    )
    options: dict[str, list[Any]] = {}
    for name in space.params:
        values = _candidates(space, name, baseline, layers)
        # A parameter that alone decides one setting keeps only the values giving the baseline's.
        if not _sizing(name) and name in target:
            values = [
                v for v in values if resolved_settings({**baseline, name: v})[name] == target[name]
            ]
        options[name] = values
    names = list(options)
    combinations = 1
    for values in options.values():
        combinations *= max(1, len(values))
    if combinations > MAX_COMBINATIONS:
        return None
    for values in itertools.product(*(options[n] or [None] for n in names)):
        point = space.active({n: v for n, v in zip(names, values, strict=True) if v is not None})
        if any(n not in point and space.params[n].is_active(point) for n in names):
            continue  # an active parameter without a candidate value
        if resolved_settings(space.configuration(point)) == target:
            return point
    return None
