"""Tasks: the timed pieces of work a recovery is made of, and how they wait for each other.

Everything that takes time in a recovery is a task: the fault itself, the
monitoring alert, each page to each person on shift, triage, escalation, the
decision to fail over, every runbook step, validation, communication, and the
milestones "service restored". A task has a duration distribution, an optional
staff role it occupies while it runs, and the tasks it waits for — all of them
(:data:`ALL`) or the first (:data:`ANY`, e.g. the first of several pages to be
acknowledged, or the first of "failover done" and "site came back").

Tasks are numbered in the order they are compiled, and that index is part of
the model: it breaks ties between equally old tasks when people are scarce,
names each task's column of finish times, and is what both engines agree on
replicate by replicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from ..model.distributions import Distribution, Uniform
from ..model.topology import Retry

#: How a task waits for its predecessors: every one finished, or the first one.
Join = Literal["all", "any"]
#: The task starts when every predecessor has finished.
ALL: Final = "all"
#: The task starts when its first predecessor finishes.
ANY: Final = "any"

#: What a task stands for; reports and the replay timeline read it, the schedule does not
#: (except that the DES times the actors of ``step``, ``validate`` and ``reconcile`` tasks).
TaskKind = Literal[
    "fault",
    "fault-end",
    "detect",
    "page",
    "ack",
    "break-glass",
    "triage",
    "escalate",
    "declare",
    "communicate",
    "step",
    "validate",
    "reconcile",
    "call-in",
    "never",
    "escalation",
    "deputy",
    "trigger",
    "milestone",
    "restored",
]


@dataclass(frozen=True)
class Attempts:
    """How a task that can fail is tried: each attempt fails with ``probability``, independently.

    The number of failed attempts ``K`` is drawn from the task's outcome element
    (a uniform ``u`` on its own stream): ``K`` counts the ``k`` in ``1 .. limit + 1``
    with ``u < probability ** k``, so ``P(K >= k) = probability ** k``. The task
    takes its first attempt plus ``min(K, limit)`` retries (the same person
    throughout); it is *exhausted* when ``K = limit + 1``: every attempt failed.

    Attributes
    ----------
    probability
        Chance that one attempt fails.
    limit
        Retries allowed after the first attempt (0: none).
    retry
        The duration of each retry (None: the task's own duration, drawn afresh).
    """

    probability: float
    limit: int = 0
    retry: Distribution | None = None

    @classmethod
    def of(cls, probability: float, retry: Retry | None) -> Attempts:
        """The attempts a declared failure allows: its probability, and its retries if it has any."""
        return cls(probability, retry.limit if retry is not None else 0, retry.duration if retry is not None else None)


@dataclass(frozen=True)
class OnDuty:
    """From ``time`` seconds after the drill start, who answers a page sent then.

    A page goes to one person of the shift on duty when it fires. ``shift`` is the shift whose
    person answers it from ``time`` on (None: the shift then on duty has nobody with this page's
    number, or nobody is rostered — the page is not answered). ``duration`` is that shift's time to
    acknowledge (None: the starting shift's, the task's own ``duration`` and element).

    The first task of a call made by turns of the roster (``call-in:dba:if-off-duty:respond``) has
    entries too: ``"called-in"`` (answered at its own ``duration``) while nobody of the role is on
    duty, None (never answered: the role is paged instead) while somebody is.
    """

    time: float
    shift: str | None
    duration: Distribution | None = None

    @property
    def starting(self) -> bool:
        """Whether the starting shift answers (at the page's own duration and element)."""
        return self.shift is not None and self.duration is None


@dataclass
class Task:
    """One timed piece of work or milestone in the recovery.

    **The engines' contract.** Both engines schedule a plan from these fields
    only (the vectorized engine through :class:`~drsim.plan.arrays.PlanArrays`):

    * ``index``, ``preds``, ``join`` — when the task becomes ready;
    * ``role``, ``people``, ``priority`` — who (and how many at once) must be free to start it, and in which order
      waiting tasks are taken;
    * ``duration`` (through :attr:`element`), ``offset``, ``elapsed_from``,
      ``elapsed_to``, ``elapsed_coef`` — how long it takes
      (:func:`drsim.engine.draws.task_durations` and the kernel);
    * ``blocked_by_rpo`` — whether it can finish at all in a replicate (and, where restore
      points can be unusable, how many times a restore runs);
    * ``attempts`` — retries added to its duration; ``gate_of`` — a gate taking no time or
      never finishing, by the outcome of another task's attempts;
    * ``skip_if`` — whether a staffed task takes no time;
    * ``cancel_if`` — whether a role-free task finishes at all: it is
      *cancelled* (never finishes, though it started) when that task has
      finished by the instant it would finish. The check is made at that
      instant after every finish of it that needs nobody dispatched then (so
      a tie with such a finish cancels), and before anybody is dispatched.
      The named task need not precede it: a check reads only what has
      happened, so a task that can finish only through the cancelled one
      never cancels it (an escalation timeout is cancelled by an
      acknowledgement, a decision trigger by the service coming back);
    * ``on_duty`` — for a page, whose time to acknowledge it takes: the shift on duty when it starts
      (for a call made by turns of the roster, whether it is answered at all);
    * ``adds_role``, ``adds_count`` — people who join a role when the task finishes (a call-in);
      ``people`` — people of its role it needs at once (dual control).

    ``key``, ``kind``, ``label`` and ``service`` describe the task for the
    replay timeline and the reports; they never change a number.

    Attributes
    ----------
    index
        Position in :attr:`Plan.tasks <drsim.plan.compiled.Plan.tasks>`; the column of its finish times.
    key
        A stable, unique name (``"svc:ehr-db:step:0:promote replica"``); random draws are keyed on it.
    kind
        What the task stands for (:data:`TaskKind`).
    label
        The task as a person reads it in a timeline.
    duration
        How long the work takes once started (for a staffed task: at the starting shift's pace, rescaled
        by the engines to the pace of the shift on duty when it starts, see ``Plan.paces``).
    role
        The staff role occupied while it runs (None: needs nobody).
    preds
        Indices of the tasks it waits for, ascending.
    join
        :data:`ALL` or :data:`ANY` of ``preds``.
    service
        The service the work belongs to (None for incident-wide work).
    """

    index: int
    key: str
    kind: TaskKind
    label: str
    duration: Distribution
    role: str | None = None
    preds: list[int] = field(default_factory=list)
    join: Join = ALL
    service: str | None = None
    #: Extra seconds added to every draw (a data transfer of known size).
    offset: float = 0.0
    #: Duration grows with elapsed time: ``coef * (finish[elapsed_to] - finish[elapsed_from])``.
    elapsed_from: int = -1
    elapsed_to: int = -1
    elapsed_coef: float = 0.0
    #: The task can never finish in a replicate whose RPO item of this index is infinite.
    blocked_by_rpo: int = -1
    #: Dispatch class when people are scarce: lower goes first (0 = incident command and
    #: the most critical tier); within a class, first come first served.
    priority: int = 0
    #: A staffed task that takes no time if this task has already finished when it starts
    #: (break-glass access is moot once the identity provider is back).
    skip_if: int = -1
    #: A role-free task whose finish adds ``adds_count`` people to this role for the rest of the
    #: incident (off-shift staff called in, external responders arriving); None: adds nobody.
    adds_role: str | None = None
    adds_count: int = 0
    #: People of ``role`` the task needs at once (2: dual control); it starts when that many are free.
    people: int = 1
    #: The task can fail: its attempts (retries lengthen it; see :class:`Attempts`).
    attempts: Attempts | None = None
    #: A gate on the outcome of task ``gate_of``'s attempts: it takes no time when that task
    #: succeeded (``gate_exhausted`` False) or was exhausted (True), and never finishes otherwise.
    gate_of: int = -1
    gate_exhausted: bool = False
    #: A page: who answers it by the time it fires, changing at shift changes, ascending (empty: the
    #: starting shift's person always answers, at the task's own ``duration``).
    on_duty: tuple[OnDuty, ...] = ()

    def duty_element(self, shift: str) -> str:
        """The name of the element of the time ``shift``'s person takes to acknowledge this page."""
        return f"task:{self.key}@{shift}"

    def duty_elements(self) -> dict[str, Distribution]:
        """The random elements of a page's other shifts: one per shift (not the starting one) whose time to
        acknowledge is not fixed, by name."""
        return {
            self.duty_element(d.shift): d.duration
            for d in self.on_duty
            if d.shift and d.duration is not None and not d.duration.is_fixed
        }

    @property
    def outcome_element(self) -> str:
        """The name of the uniform element deciding how many attempts of this task fail."""
        return f"outcome:{self.key}"

    def retry_element(self, j: int) -> str:
        """The name of the element of the ``j``-th retry's duration (``j`` from 1)."""
        return f"task:{self.key}:retry:{j}"

    def attempt_elements(self) -> dict[str, Distribution]:
        """The random elements of this task's attempts: the outcome, and each retry's duration."""
        a = self.attempts
        if a is None:
            return {}
        out: dict[str, Distribution] = {self.outcome_element: Uniform(0.0, 1.0)}
        retry = a.retry if a.retry is not None else self.duration
        if not retry.is_fixed:
            for j in range(1, a.limit + 1):
                out[self.retry_element(j)] = retry
        return out

    #: A role-free task that never finishes if this task has finished by the instant it would
    #: finish (an escalation level's timeout, cancelled by an acknowledgement).
    cancel_if: int = -1

    @property
    def element(self) -> str | None:
        """The name of the random element this task's duration draws from (None if fixed)."""
        return None if self.duration.is_fixed else f"task:{self.key}"
