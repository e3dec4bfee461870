"""Handing a running task to the incoming shift: when it then ends, and at what share of people's work.

A task of a role with a ``handover`` time that is still running when a shift
begins (:class:`drsim.plan.roster.ShiftChange`) is handed to that shift. Its
remaining time at the outgoing pace splits, in the proportions the task began
with, into people's work and the rest (a data transfer, a replay that grows
with the time lost): the work is rescaled from the pace it was being done at to
the incoming shift's, the rest is kept, and the handover's own time comes first.

Both engines call :func:`hand_over` (the kernel through a compiled copy), so a
handed-over task ends at the same instant, to the bit, in either.
"""

from __future__ import annotations


def work_share(paced: float, unpaced: float, offset: float, drawn: float) -> float:
    """The share of a staffed task's time that is people's work, as it begins.

    ``paced`` is its duration at the pace it begins at, ``unpaced`` the same before any pace was applied,
    ``drawn`` its drawn (or constant) duration and ``offset`` the data-transfer seconds included in it:
    neither the transfer nor a term added to the drawn duration (``unpaced - drawn``) is work.
    """
    return 1.0 - (offset + (unpaced - drawn)) / paced


def hand_over(now: float, finish: float, cost: float, share: float, ratio_then: float, ratio_now: float):
    """A task due to finish at ``finish``, handed over at ``now``: (seconds from ``now`` until it ends, new share).

    ``share`` of the remaining time is people's work at pace ratio ``ratio_then``; the incoming shift does it at
    ``ratio_now`` after ``cost`` seconds of handover. The new share is that of the rescaled remaining time.
    """
    left = finish - now
    if ratio_now == ratio_then:
        return cost + left, share
    work = left * share
    rest = left - work
    work = work * (ratio_now / ratio_then)
    left = rest + work
    return cost + left, (work / left if left > 0.0 else share)
