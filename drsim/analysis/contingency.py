"""Contingency-plan evidence: what history shows for each implementation specification of HIPAA's
contingency-plan standard, and what it does not.

45 CFR 164.308(a)(7) asks a covered entity for a contingency plan with five
implementation specifications (:data:`SPECIFICATIONS`): a data backup plan, a
disaster recovery plan, an emergency mode operation plan (all three
required), testing and revision procedures, and an applications and data
criticality analysis (both addressable). An auditor asks for *evidence*: what
was tested, when, how it did against its targets, what is still open and who
owns it.

drsim holds two kinds of evidence. The **estate** (the topology) is the plan as
written: each service's DR strategy, its backups, the tiers' RTO and RPO
targets, the clinical workflows and how long they can run on paper. **History**
holds the exercises: every ``drsim drill`` and ``drsim sweep`` run, with its
verdicts against those targets. Each run is read through its drill — the fault
kinds it injected and the services it took down — when the drill file it ran is
still there unchanged; a run whose drill has since changed or gone still counts
as a test, but what it exercised is not claimed.

The pack maps them to the specifications:

* **(A) data backup plan** — each service's backups; runs that restored from
  backup (a ``data-corruption`` fault), with their RPO results;
* **(B) disaster recovery plan** — each service's DR strategy; runs that took
  services down, with their RTO results;
* **(C) emergency mode operation plan** — each workflow's tolerance; runs that
  took a workflow down, with its downtime against that tolerance and the time
  to declare;
* **(D) testing and revision procedures** — every run in the last 12 months, each
  tier's last exercise, and runs whose inputs changed since (revisions);
* **(E) applications and data criticality analysis** — derived from the tiers
  and workflows: each service's tier, the most critical workflow needing it, and
  where the tiering contradicts itself (a tier0 service depending on a tier2 one).

What cannot be evidenced is said in so many words: a specification with no
test in the window, a tier never exercised, anything a simulation cannot show
(that paper downtime procedures were followed). A simulated exercise is evidence
about the plan as modelled; it is not a substitute for a restore actually
performed, and the pack says so.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..model import Drill, Topology
from ..model.units import write_duration
from ..plan.affected import affected_services


@dataclass(frozen=True)
class Specification:
    """One implementation specification of 45 CFR 164.308(a)(7)(ii): its letter, name, status and text."""

    letter: str
    name: str
    status: str
    text: str

    @property
    def citation(self) -> str:
        return f"45 CFR 164.308(a)(7)(ii)({self.letter})"


#: The five implementation specifications of the contingency-plan standard, in the rule's order.
SPECIFICATIONS: tuple[Specification, ...] = (
    Specification(
        "A",
        "Data backup plan",
        "Required",
        "Establish and implement procedures to create and maintain retrievable exact copies of electronic "
        "protected health information.",
    ),
    Specification(
        "B",
        "Disaster recovery plan",
        "Required",
        "Establish (and implement as needed) procedures to restore any loss of data.",
    ),
    Specification(
        "C",
        "Emergency mode operation plan",
        "Required",
        "Establish (and implement as needed) procedures to enable continuation of critical business processes "
        "for protection of the security of electronic protected health information while operating in emergency "
        "mode.",
    ),
    Specification(
        "D",
        "Testing and revision procedures",
        "Addressable",
        "Implement procedures for periodic testing and revision of contingency plans.",
    ),
    Specification(
        "E",
        "Applications and data criticality analysis",
        "Addressable",
        "Assess the relative criticality of specific applications and data in support of other contingency "
        "plan components.",
    ),
)

#: How far back a test counts as current evidence, in days (a year: the usual annual test).
WINDOW_DAYS = 365
#: Who owns a gap when nobody has been named.
UNASSIGNED = "to be assigned"


@dataclass(frozen=True)
class Exercised:
    """A run from history, with the drill it ran when that file is still there unchanged (else None)."""

    run_id: int
    journal: Mapping[str, Any]
    drill: Drill | None

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(str(self.journal["created_utc"])[:10])


@dataclass(frozen=True)
class Result:
    """One verdict of a run against a target: measured and threshold in seconds (or a probability)."""

    name: str
    verdict: str
    measured: float | None
    threshold: float
    unit: str
    kind: str


@dataclass(frozen=True)
class Test:
    """One run as evidence for a specification: when, what, and its results against the targets that matter."""

    run_id: int
    day: dt.date
    drill: str
    command: str
    n: int
    kinds: tuple[str, ...]
    results: tuple[Result, ...]

    @property
    def met(self) -> int:
        return sum(r.verdict == "PASS" for r in self.results)

    @property
    def missed(self) -> list[Result]:
        return [r for r in self.results if r.verdict != "PASS"]


@dataclass(frozen=True)
class Gap:
    """Something open: what, and who owns its remediation."""

    what: str
    owner: str = UNASSIGNED


@dataclass(frozen=True)
class Finding:
    """What the estate and history show for one specification, what is open, and what cannot be evidenced."""

    spec: Specification
    #: The plan as the estate declares it, one line each.
    plan: tuple[str, ...]
    tests: tuple[Test, ...]
    gaps: tuple[Gap, ...]
    cannot: tuple[str, ...]


@dataclass(frozen=True)
class ServiceCriticality:
    """A service's place in the criticality analysis."""

    service: str
    tier: str
    rto: float
    rpo: float
    strategy: str
    #: Workflows that need it, most critical (shortest tolerance) first.
    workflows: tuple[str, ...]
    #: Services that depend on it, directly or not.
    needed_by: tuple[str, ...]


@dataclass(frozen=True)
class EvidencePack:
    """The evidence for the contingency-plan standard on one estate, as of a day."""

    estate: str
    as_of: dt.date
    window_start: dt.date
    runs_total: int
    runs_in_window: int
    findings: tuple[Finding, ...]
    criticality: tuple[ServiceCriticality, ...]
    #: Workflows with their tolerance (seconds) and services, most critical first.
    workflows: tuple[tuple[str, float, tuple[str, ...]], ...] = field(default=())


# ------------------------------------------------------------------ reading runs


def _results(journal: Mapping[str, Any], keep) -> tuple[Result, ...]:
    return tuple(
        Result(v["name"], v["verdict"], v.get("measured"), v["threshold"], v.get("unit", "s"), v.get("kind", ""))
        for v in journal.get("verdicts", [])
        if keep(str(v.get("metric", "")))
    )


def _test(e: Exercised, keep) -> Test:
    j = e.journal
    kinds = tuple(sorted({f.kind for f in e.drill.faults})) if e.drill is not None else ()
    return Test(e.run_id, e.day, str(j["drill"]), str(j["command"]), int(j["n"]), kinds, _results(j, keep))


def _down(topology: Topology, e: Exercised) -> set[str]:
    """The services a run took down or hit (empty when its drill is not known)."""
    if e.drill is None:
        return set()
    hit = affected_services(topology, e.drill)
    return set(hit.unavailable) | set(hit.direct)


def _owner(owners: Mapping[str, str], *subjects: str) -> str:
    return next((owners[s] for s in subjects if owners.get(s)), UNASSIGNED)


def _missed(tests: Sequence[Test], owners: Mapping[str, str]) -> list[Gap]:
    """One gap per run that missed targets: how many, and the first few by name."""
    out = []
    for t in tests:
        missed = t.missed
        if missed:
            names = ", ".join(r.name for r in missed[:4]) + (f" and {len(missed) - 4} more" if len(missed) > 4 else "")
            subject = missed[0].name.split()[0]
            what = f"run {t.run_id} ({t.drill}, {t.day.isoformat()}) missed {len(missed)} of {len(t.results)}: {names}"
            out.append(Gap(what, _owner(owners, subject, t.drill)))
    return out


# ------------------------------------------------------------------ the five specifications


def _backup(topology: Topology, runs: Sequence[Exercised], owners: Mapping[str, str]) -> Finding:
    plan, gaps = [], []
    for name, s in sorted(topology.services.items()):
        d = s.data
        if d is None:
            continue
        if d.backup_interval is None and d.replication is None:
            gaps.append(
                Gap(f"{name} ({s.tier}) keeps data but declares neither backups nor replication", _owner(owners, name))
            )
            continue
        parts = []
        if d.backup_interval is not None:
            parts.append(f"backup every {write_duration(d.backup_interval)}")
        if d.backup_retention is not None:
            parts.append(f"kept {write_duration(d.backup_retention)}")
        if d.immutable_backups:
            parts.append("immutable")
        if d.logs is not None:
            parts.append("transaction logs for point-in-time recovery")
        if d.replication is not None:
            parts.append(f"{d.replication.mode} replication")
        plan.append(f"{name} ({s.tier}): " + ", ".join(parts))
    restores = [e for e in runs if e.drill is not None and any(f.kind == "data-corruption" for f in e.drill.faults)]
    tests = tuple(_test(e, lambda m: m.endswith(":rpo")) for e in restores)
    cannot = []
    if not tests:
        cannot.append(
            "No backup restore test in history in the last 12 months (no run of a drill with a "
            "data-corruption fault, which restores from backup)."
        )
        gaps.append(
            Gap("run a restore-from-backup exercise (e.g. drsim drill ransomware-restore)", _owner(owners, "backup"))
        )
    cannot.append(
        "A simulated restore shows the plan as modelled would meet (or miss) its RPO; it does not show "
        "that a backup was actually restored and verified. Attach the restore test records."
    )
    gaps += _missed(tests, owners)
    return Finding(SPECIFICATIONS[0], tuple(plan), tests, tuple(gaps), tuple(cannot))


def _recovery(topology: Topology, runs: Sequence[Exercised], owners: Mapping[str, str]) -> Finding:
    plan, gaps = [], []
    for name, s in sorted(topology.services.items(), key=lambda kv: (topology.tier_rank(kv[1].tier), kv[0])):
        r = s.recovery
        where = f" to {r.standby_region}" if r.standby_region else ""
        plan.append(f"{name} ({s.tier}, RTO {write_duration(topology.tiers[s.tier].rto)}): {r.strategy}{where}")
        if r.strategy == "none":
            gaps.append(Gap(f"{name} ({s.tier}) has no DR strategy (strategy: none)", _owner(owners, name)))
    known = [e for e in runs if e.drill is not None]
    tests = tuple(_test(e, lambda m: m.endswith(":rto")) for e in known if _down(topology, e))
    exercised = set().union(*(_down(topology, e) for e in known)) if known else set()
    for name, s in sorted(topology.services.items(), key=lambda kv: (topology.tier_rank(kv[1].tier), kv[0])):
        if s.tier == topology.most_critical_tier() and name not in exercised:
            gaps.append(
                Gap(f"{name} ({s.tier}) was not taken down by any exercise in the last 12 months", _owner(owners, name))
            )
    cannot = []
    if not tests:
        cannot.append("No disaster recovery exercise in history in the last 12 months.")
    unknown = [e for e in runs if e.drill is None]
    if unknown:
        cannot.append(
            f"{len(unknown)} run(s) ({', '.join(str(e.run_id) for e in unknown)}) ran a drill file that has since "
            "changed or gone: they count as tests, but what they took down is not claimed."
        )
    gaps += _missed(tests, owners)
    return Finding(SPECIFICATIONS[1], tuple(plan), tests, tuple(gaps), tuple(cannot))


def _emergency(topology: Topology, runs: Sequence[Exercised], owners: Mapping[str, str]) -> Finding:
    plan = [
        f"{name}: may run on downtime (paper) procedures for {write_duration(w.tolerance)}; needs "
        + ", ".join(w.service_names())
        for name, w in sorted(topology.workflows.items(), key=lambda kv: (kv[1].tolerance, kv[0]))
    ]
    keep = lambda m: m.startswith("workflow:") or m.startswith("milestone:declared")  # noqa: E731
    tests = []
    taken: set[str] = set()
    for e in runs:
        down = _down(topology, e)
        hit = {n for n, w in topology.workflows.items() if set(w.service_names()) & down}
        if hit:
            taken |= hit
            tests.append(_test(e, keep))
    gaps = [
        Gap(
            f"workflow {n} was not taken down by any exercise in the last 12 months",
            _owner(owners, *topology.workflows[n].service_names()),
        )
        for n in sorted(topology.workflows)
        if n not in taken
    ]
    gaps += _missed(tests, owners)
    cannot = []
    if not tests:
        cannot.append("No exercise in history in the last 12 months took a clinical workflow down.")
    cannot.append(
        "A simulation measures how long each workflow is down against how long it can run on paper; it cannot "
        "show that downtime procedures were followed, that read-only copies were at hand, or that security "
        "controls held in emergency mode. Attach the exercise's after-action report."
    )
    return Finding(SPECIFICATIONS[2], tuple(plan), tuple(tests), tuple(gaps), tuple(cannot))


def _testing(topology: Topology, runs: Sequence[Exercised], all_runs: Sequence[Exercised], owners) -> Finding:
    tests = tuple(_test(e, lambda m: True) for e in runs)
    plan = [f"{len(all_runs)} run(s) recorded in history; {len(runs)} in the last 12 months."]
    last_of: dict[str, dt.date] = {}
    for e in all_runs:
        for s in _down(topology, e):
            tier = topology.services[s].tier
            last_of[tier] = max(last_of.get(tier, e.day), e.day)
    gaps, cannot = [], []
    window = {e.run_id for e in runs}
    for tier in sorted(topology.tiers, key=topology.tier_rank):
        when = last_of.get(tier)
        if when is None:
            gaps.append(
                Gap(
                    f"tier {tier} has never been exercised (no recorded run took one of its services down)",
                    _owner(owners, tier),
                )
            )
        else:
            recent = any(
                e.run_id in window and any(topology.services[s].tier == tier for s in _down(topology, e))
                for e in all_runs
            )
            plan.append(f"tier {tier} last exercised {when.isoformat()}")
            if not recent:
                gaps.append(
                    Gap(
                        f"tier {tier} not exercised in the last 12 months (last {when.isoformat()})",
                        _owner(owners, tier),
                    )
                )
    by_drill: dict[str, list[Exercised]] = {}
    for e in all_runs:
        by_drill.setdefault(str(e.journal["drill"]), []).append(e)
    for drill, rs in sorted(by_drill.items()):
        for a, b in itertools.pairwise(rs):
            changed = _changed_inputs(a.journal, b.journal)
            if changed:
                plan.append(
                    f"revision: {drill} re-run as run {b.run_id} ({b.day.isoformat()}) after its "
                    f"{', '.join(changed)} changed since run {a.run_id}"
                )
        last = rs[-1]
        if not last.journal.get("passed", False):
            gaps.append(
                Gap(
                    f"{drill}: its latest run ({last.run_id}, {last.day.isoformat()}) missed targets; no later run shows them met",
                    _owner(owners, drill),
                )
            )
    if not runs:
        cannot.append("History holds no exercise in the last 12 months: periodic testing cannot be evidenced.")
    cannot.append(
        "Revisions of the written contingency plan itself (documents, contact lists) are not in drsim's "
        "history; only changes to the modelled estate and drills are."
    )
    return Finding(SPECIFICATIONS[3], tuple(plan), tests, tuple(gaps), tuple(cannot))


def _changed_inputs(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    before = {i["role"]: i["sha256"] for i in a.get("inputs", [])}
    return [i["role"] for i in b.get("inputs", []) if i["role"] in before and before[i["role"]] != i["sha256"]]


def needed(topology: Topology, services: Sequence[str], strict: bool = False) -> list[str]:
    """``services`` and everything they depend on, directly or not, in the order first reached.

    ``strict``: only what they cannot do without — plain dependencies, not the members of a dependency
    group (``any_of: [dns, dns-onprem]`` needs either, so neither alone is needed)."""
    out: dict[str, None] = {}
    stack = list(reversed(services))
    while stack:
        s = stack.pop()
        if s in out or s not in topology.services:
            continue
        out[s] = None
        svc = topology.services[s]
        stack.extend(reversed(svc.needs_all() if strict else svc.dependency_names()))
    return list(out)


def criticality(topology: Topology) -> tuple[ServiceCriticality, ...]:
    """Each service with its tier, targets, strategy, the workflows needing it (through a dependency too)
    and what depends on it, most critical tier first."""
    needed_by: dict[str, set[str]] = {n: set() for n in topology.services}
    for name, s in topology.services.items():
        stack = list(s.dependency_names())
        while stack:
            d = stack.pop()
            if d in needed_by and name not in needed_by[d]:
                needed_by[d].add(name)
                stack.extend(topology.services[d].dependency_names())
    out = []
    for name, s in sorted(topology.services.items(), key=lambda kv: (topology.tier_rank(kv[1].tier), kv[0])):
        flows = sorted(
            (w.tolerance, n) for n, w in topology.workflows.items() if name in needed(topology, w.service_names())
        )
        t = topology.tiers[s.tier]
        out.append(
            ServiceCriticality(
                name,
                s.tier,
                t.rto,
                t.rpo,
                s.recovery.strategy,
                tuple(n for _, n in flows),
                tuple(sorted(needed_by[name])),
            )
        )
    return tuple(out)


def _criticality(topology: Topology, owners: Mapping[str, str]) -> Finding:
    rows = criticality(topology)
    tiers = sorted(topology.tiers, key=topology.tier_rank)
    plan = [
        f"{tier}: RTO {write_duration(topology.tiers[tier].rto)}, RPO {write_duration(topology.tiers[tier].rpo)}; "
        + ", ".join(r.service for r in rows if r.tier == tier)
        for tier in tiers
    ]
    gaps = []
    for name, s in sorted(topology.services.items()):
        for d in s.needs_all():
            if d in topology.services and topology.tier_rank(topology.services[d].tier) > topology.tier_rank(s.tier):
                dt_ = topology.services[d].tier
                gaps.append(
                    Gap(
                        f"{name} ({s.tier}) depends on {d} ({dt_}): {d} is tiered below what relies on it",
                        _owner(owners, d),
                    )
                )
    for n, w in sorted(topology.workflows.items()):
        for sname in needed(topology, w.needs_all(), strict=True):
            if sname in topology.services:
                rto = topology.tiers[topology.services[sname].tier].rto
                if rto > w.tolerance:
                    gaps.append(
                        Gap(
                            f"workflow {n} can run on paper for {write_duration(w.tolerance)} but needs {sname}, "
                            f"whose tier allows {write_duration(rto)} down",
                            _owner(owners, sname),
                        )
                    )
    cannot = [
        "The analysis is derived from the tiers and workflows declared in the estate; that those tiers "
        "match the organisation's own business impact analysis is for the signatories to confirm."
    ]
    return Finding(SPECIFICATIONS[4], tuple(plan), (), tuple(gaps), tuple(cannot))


def evidence_pack(
    topology: Topology,
    runs: Sequence[Exercised],
    as_of: dt.date,
    owners: Mapping[str, str] | None = None,
) -> EvidencePack:
    """The contingency-plan evidence on ``topology`` from ``runs`` (oldest first) as of ``as_of``.

    Tests count for 12 months (:data:`WINDOW_DAYS`); ``owners`` names who owns the remediation of gaps
    about a service, tier or drill (unnamed ones are :data:`UNASSIGNED`).
    """
    owners = owners or {}
    start = as_of - dt.timedelta(days=WINDOW_DAYS)
    upto = [e for e in runs if e.day <= as_of]
    window = [e for e in upto if e.day > start]
    findings = (
        _backup(topology, window, owners),
        _recovery(topology, window, owners),
        _emergency(topology, window, owners),
        _testing(topology, window, upto, owners),
        _criticality(topology, owners),
    )
    flows = tuple(
        (n, w.tolerance, tuple(w.service_names()))
        for n, w in sorted(topology.workflows.items(), key=lambda kv: (kv[1].tolerance, kv[0]))
    )
    return EvidencePack(topology.name, as_of, start, len(upto), len(window), findings, criticality(topology), flows)


__all__ = [
    "SPECIFICATIONS",
    "UNASSIGNED",
    "WINDOW_DAYS",
    "EvidencePack",
    "Exercised",
    "Finding",
    "Gap",
    "Result",
    "ServiceCriticality",
    "Specification",
    "Test",
    "criticality",
    "evidence_pack",
]
