"""Which changes to buy together within a budget: a beam search over combinations.

With ``k`` candidate changes there are ``2^k`` combinations, each worth a replay of the drill,
so they are not all tried. The search grows combinations one change at a time:

1. every single change whose cost fits the budget is evaluated;
2. the ``beam`` best by **value** (improvement bought per unit of cost) are kept;
3. each kept combination is extended by every other change it can still afford, and a
   combination is kept only if every change in it adds improvement: it buys more than the
   same combination without any one of them (a change that buys nothing on top of the
   others only spends money); the ``beam`` best by value are kept;
4. step 3 repeats until combinations hold ``max_changes`` changes or none can grow.

Every single change within the budget and every combination that added improvement on the
way is returned, so a caller can rank them, draw the cost-benefit frontier, or pick the one
that buys the most within the budget. A combination is evaluated once, however many paths
reach it. A free change (cost 0) that improves anything has
infinite value and is kept first.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """A set of candidates (indices, ascending) bought together: its cost and the improvement it buys."""

    members: tuple[int, ...]
    cost: float
    gain: float

    @property
    def value(self) -> float:
        """Improvement bought per unit of cost (infinite for a free improvement; 0 when it buys nothing)."""
        if not math.isfinite(self.gain) or self.gain <= 0:
            return 0.0 if self.gain == 0 or math.isnan(self.gain) else -math.inf
        return math.inf if self.cost <= 0 else self.gain / self.cost


def _rank(option: Option) -> tuple:
    """Best value first; then the larger gain, the cheaper, the fewer changes, the earlier candidates."""
    gain = option.gain if math.isfinite(option.gain) else -math.inf
    return (-option.value, -gain, option.cost, len(option.members), option.members)


def beam_search(
    costs: list[float | None],
    gain_of: Callable[[tuple[int, ...]], float],
    budget: float,
    beam: int = 3,
    max_changes: int = 3,
) -> list[Option]:
    """The single changes within ``budget`` and the combinations kept on the way, best value first.

    ``costs[i]`` is what candidate ``i`` costs (None: unknown, never bought); the cost of a
    combination is the sum of its members'. ``gain_of(members)`` is the improvement a
    combination buys (larger is better; called once per combination).
    """
    if beam < 1 or max_changes < 1:
        raise ValueError(f"beam and max_changes must be at least 1, found {beam} and {max_changes}")
    seen: dict[tuple[int, ...], Option] = {}

    def evaluate(members: tuple[int, ...]) -> Option:
        if members not in seen:
            cost = sum(c for c in (costs[i] for i in members) if c is not None)
            seen[members] = Option(members, cost, float(gain_of(members)))
        return seen[members]

    affordable = [i for i, c in enumerate(costs) if c is not None and c <= budget]
    singles = [evaluate((i,)) for i in affordable]
    accepted = {o.members: o for o in singles}
    kept = sorted(singles, key=_rank)[:beam]
    for _size in range(2, max_changes + 1):
        grown: dict[tuple[int, ...], Option] = {}
        for option in kept:
            for i in affordable:
                members = tuple(sorted((*option.members, i)))
                if i in option.members or members in grown:
                    continue
                cost = option.cost + (costs[i] or 0.0)
                if cost > budget:
                    continue
                new = evaluate(members)
                if new.gain > option.gain and all(
                    new.gain > evaluate(tuple(j for j in members if j != k)).gain for k in members if k != i
                ):
                    grown[members] = new
        if not grown:
            break
        accepted.update(grown)
        kept = sorted(grown.values(), key=_rank)[:beam]
    return sorted(accepted.values(), key=_rank)
