"""The leaderboard's figure: the critical-difference diagram of a post-hoc ranking.

The report's figures live in :mod:`harness.report.figures`; this one is drawn
beside the leaderboard tables (which sit below the report stage), from a
:class:`harness.results.statistics.Ranking`, with scikit-posthocs'
:func:`~scikit_posthocs.critical_difference_diagram`. The bars join
strategies the ranking's own test does not separate, and the critical
difference is drawn only for the Nemenyi test it belongs to.
"""

from __future__ import annotations

import math
import textwrap

import pandas as pd
from matplotlib.figure import Figure

from harness.results.statistics import Ranking


def critical_difference_figure(ranking: Ranking, *, title: str | None = None) -> Figure:
    """Demšar-style critical-difference diagram of average ranks.

    Parameters
    ----------
    ranking : harness.results.statistics.Ranking
        Average ranks and the p-values of the test that decides the bars.
    title : str, optional
        Default names the seeds, the convention and the test.

    Returns
    -------
    matplotlib.figure.Figure
        Built without pyplot state; the rank axis runs from 1 (best) to ``k``.
        Write it with :func:`harness.report.figures.save_figure`-style
        metadata-free PNG for reproducible bytes.
    """
    import scikit_posthocs

    ranks = pd.Series(ranking.avg_ranks, dtype=float)
    if ranks.empty:
        raise ValueError("critical_difference_figure needs at least one strategy")
    k = len(ranks)
    longest = max(len(str(name)) for name in ranks.index)
    side = 0.09 * longest + 0.5  # inches for the names on each side
    width = max(4.0, 0.9 * k) + 2 * side
    height = 1.9 + 0.3 * math.ceil(k / 2)
    figure = Figure(figsize=(width, height))
    ax = figure.add_axes((side / width, 0.05, 1 - 2 * side / width, 1 - 1.1 / height))
    cd = ranking.cd if math.isfinite(ranking.cd) else None
    scikit_posthocs.critical_difference_diagram(
        ranks,
        ranking.pvalues,
        alpha=ranking.alpha,
        cd=cd,
        ax=ax,
        color_palette=["black"] * k,
        label_fmt_left="{label} ({rank:.2f})",
        label_fmt_right="({rank:.2f}) {label}",
        label_props={"fontsize": 9},
    )
    # scikit-posthocs draws each crossbar through a set of names, whose order follows the
    # string hashes of this process (PYTHONHASHSEED): the same bar drawn in another order
    # antialiases to other bytes. A horizontal bar drawn left to right is the same bar.
    for line in ax.get_lines():
        xs, ys = (list(values) for values in line.get_data())
        if len(xs) >= 2 and len(set(ys)) == 1:
            line.set_data(sorted(xs), ys)
    seeds = f"{ranking.n_seeds} seed" + ("" if ranking.n_seeds == 1 else "s")
    heading = title or (
        f"Average rank over {seeds} (1 = best); bars: not separated by the "
        f"{ranking.label} at {ranking.alpha}"
    )
    figure.suptitle(textwrap.fill(heading, width=int(width * 14)), fontsize=9)
    return figure
