"""The grid of a conditional search space, indexed without listing it.

A parameter that some condition tests ("branching", e.g. ``optimizer``) splits
the grid into blocks, one per combination of branching values; inside a block
the active remaining parameters form a plain product. Inactive parameters are
not multiplied in, so the grid has no duplicate points, and point ``i`` is found
by locating its block and decoding a mixed-radix number: grids of millions of
points cost nothing until a point is used.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol


class Param(Protocol):
    """What the grid needs of a search-space parameter (:class:`harness.search.space.Param`)."""

    name: str
    when: Mapping[str, Sequence[Any]]
    grid: Sequence[Any]

    def is_active(self, values: Mapping[str, Any]) -> bool:
        """Whether the parameter is searched given the values of its parents."""


_MISSING = object()


class Grid:
    """The grid points of a search space.

    Parameters
    ----------
    params : sequence of Param
        Every searched parameter, parents before the parameters they
        condition, each with grid values.
    """

    def __init__(self, params: Sequence[Param]) -> None:
        tested = {parent for param in params for parent in param.when}
        self._order = [param.name for param in params]
        branching = [param for param in params if param.name in tested]
        others = [param for param in params if param.name not in tested]
        self._blocks = []
        for prefix in _prefixes(branching):
            active = [param for param in others if param.is_active(prefix)]
            self._blocks.append((prefix, active))
        sizes = (math.prod(len(p.grid) for p in active) for _, active in self._blocks)
        self._offsets = list(itertools.accumulate(sizes, initial=0))

    @property
    def size(self) -> int:
        """The number of grid points."""
        return self._offsets[-1]

    def point(self, index: int) -> dict[str, Any]:
        """Return the active parameter values of grid point ``index``, in space order.

        Raises
        ------
        IndexError
            When ``index`` is not in ``[0, size)``.
        """
        if not 0 <= index < self.size:
            raise IndexError(f"grid point {index} is not in [0, {self.size})")
        block = bisect.bisect_right(self._offsets, index) - 1
        prefix, active = self._blocks[block]
        values = dict(prefix)
        rest = index - self._offsets[block]
        for param in reversed(active):
            rest, position = divmod(rest, len(param.grid))
            values[param.name] = param.grid[position]
        return {name: values[name] for name in self._order if name in values}

    def index(self, values: Mapping[str, Any]) -> int | None:
        """The index of the grid point whose active values are ``values``, or None.

        The inverse of :meth:`point`: ``index(point(i)) == i``. Entries of
        ``values`` that are not searched parameters are ignored.
        """
        for (prefix, active), offset in zip(self._blocks, self._offsets, strict=False):
            if any(values.get(name, _MISSING) != value for name, value in prefix.items()):
                continue
            names = {*prefix, *(param.name for param in active)}
            if {n for n in values if n in self._order} != names:
                continue
            rest = 0
            for param in active:
                if values[param.name] not in param.grid:
                    return None
                rest = rest * len(param.grid) + list(param.grid).index(values[param.name])
            return offset + rest
        return None

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self.point(index) for index in range(self.size))


def _prefixes(branching: Sequence[Param]) -> list[dict[str, Any]]:
    """Every combination of the active branching parameters' grid values."""
    prefixes: list[dict[str, Any]] = [{}]
    for param in branching:
        grown: list[dict[str, Any]] = []
        for prefix in prefixes:
            if param.is_active(prefix):
                grown.extend({**prefix, param.name: value} for value in param.grid)
            else:
                grown.append(prefix)
        prefixes = grown
    return prefixes
