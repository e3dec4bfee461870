"""Cross-checks the field types alone cannot make: references, cycles, impossible values.

Each check yields ``(path, message)`` where ``path`` is the tuple of keys and
indices leading to the offending field in the file, so the loader can name the
line it sits on.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Iterable, Iterator

import numpy as np

from .costs import CHANGE_KINDS, Cost
from .drill import Drill
from .gates import GateError, parse_gate
from .names import code_points, lookalike_warnings, looks_identical
from .placeholders import placeholder_problems
from .topology import ALL_DAYS, DependencyGroup, RateProfile, Service, StaffRole, Step, Topology, Usable
from .units import MAX_DURATION

Problem = tuple[tuple, str]

#: Event rates above this (a billion a second) are typos, not real interfaces.
MAX_RATE = 1e9
#: Drill start dates outside these years are typos (and leave the clock no room).
START_YEARS = (1900, 2200)


#: A gap between a role's shifts shorter than this (minutes) is a typo, not a rota: a shift
#: ending at 23:59 leaves nobody on duty for a minute every night, and capacity follows the roster.
SHORT_GAP = 15
_WEEK = 7 * 1440


def _short_roster_gap(name: str, role: StaffRole) -> list[Problem]:
    """The first gap of less than :data:`SHORT_GAP` minutes in the week's roster of ``role``, if any."""
    covered = np.zeros(_WEEK, dtype=bool)
    for sh in role.shifts:
        length = (sh.end - sh.start) % 1440 or 1440  # end == start: a 24-hour shift
        for day in set(sh.days):
            first = ALL_DAYS.index(day) * 1440 + sh.start
            covered[np.arange(first, first + length) % _WEEK] = True
    if covered.all() or not covered.any():
        return []
    # the week read from a covered minute, so that no gap is split at its end
    origin = int(np.argmax(covered))
    step = np.diff(np.concatenate([np.roll(covered, -origin), [True]]).astype(np.int8))
    starts, ends = np.flatnonzero(step == -1) + 1, np.flatnonzero(step == 1) + 1
    short = np.flatnonzero(ends - starts < SHORT_GAP)
    if not len(short):
        return []
    k = int(short[0])
    length = int(ends[k] - starts[k])
    gap_start = (origin + int(starts[k])) % _WEEK
    clock = gap_start % 1440
    ends_there = [i for i, sh in enumerate(role.shifts) if sh.end == clock]
    when = f"{ALL_DAYS[gap_start // 1440]} {clock // 60:02d}:{clock % 60:02d}"
    return [
        (
            ("staff", name, "shifts", ends_there[0] if ends_there else 0, "end"),
            f"nobody is on duty from {when} for {length} minute{'s' if length > 1 else ''}: a gap that "
            f"short is a typo (a shift ending at 23:59 rather than '00:00'?); close it, or give a "
            f"24-hour shift the same start and end",
        )
    ]


def _rate(path: tuple, value: float | None, what: str, positive: bool = False) -> Iterator[Problem]:
    if value is None:
        return
    if not math.isfinite(value) or value > MAX_RATE:
        yield path, f"{what} is more than a billion a second; is it a typo?"
    elif positive and value <= 0:
        yield path, f"{what} must be positive, found 0"


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """The hint that follows "unknown ..." in a message: ``; did you mean 'x'?``, or nothing.

    ``x`` is the choice closest to ``word`` in spelling (a typo such as
    ``ehr-bd`` for ``ehr-db``); when none is close, the hint is empty.
    A choice that looks identical to ``word`` (the same but for look-alike
    letters from another alphabet) is preferred, and shown with its code
    points beside those typed, so that ``sso`` and Cyrillic ``ssо`` can be
    told apart; then one differing only in case.
    """
    word, pool = str(word), list(choices)
    same = [c for c in pool if looks_identical(word, c)]
    if same:
        return f"; did you mean {same[0]!r} ({code_points(same[0])}, not {code_points(word)})?"
    close = [c for c in pool if c.casefold() == word.casefold()]
    close = close or difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _ref(path: tuple, name: str, choices: Collection[str], what: str) -> Iterator[Problem]:
    """A reference by ``name`` to a ``what`` that none of ``choices`` is, with the closest as a hint."""
    if name not in choices:
        known = ", ".join(sorted(choices)) or "none defined"
        yield path, f"unknown {what} {name!r}{did_you_mean(name, choices)} (known: {known})"


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle in ``graph`` (node -> nodes it depends on), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in graph.get(n, []):
            if m not in graph:
                continue
            if state.get(m) == 1:
                return [*stack[stack.index(m) :], m]
            if m not in state and (c := visit(m)):
                return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (c := visit(n)):
            return c
    return None


def check_topology(t: Topology) -> list[Problem]:
    """Every problem with references and values in a topology.

    The checks run in a fixed order (regions, staff, services, the service
    dependency graph, queues, workflows); the loader sorts what they find by
    the line it sits on.
    """
    return [
        *_region_problems(t),
        *_staff_problems(t),
        *(p for name, s in t.services.items() for p in _service_problems(t, name, s)),
        *_dependency_cycle(t),
        *_queue_problems(t),
        *_workflow_problems(t),
        *_cost_problems(t),
    ]


def name_warnings(t: Topology) -> list[Problem]:
    """Names easy to misread: mixing look-alike alphabets, or looking the same as another of their kind.

    Services and externals share one namespace (a queue's producer is either).
    """
    kinds: list[tuple[str, dict[str, tuple]]] = [
        ("region", {n: ("regions", n) for n in t.regions}),
        ("tier", {n: ("tiers", n) for n in t.tiers}),
        ("staff role", {n: ("staff", n) for n in t.staff}),
        ("service", {**{n: ("services", n) for n in t.services}, **{n: ("externals", n) for n in t.externals}}),
        ("profile", {n: ("profiles", n) for n in t.profiles}),
        ("queue", {n: ("queues", n) for n in t.queues}),
        ("workflow", {n: ("workflows", n) for n in t.workflows}),
    ]
    return [(paths[name], m) for what, paths in kinds for name, m in lookalike_warnings(paths, what)]


def _region_problems(t: Topology) -> list[Problem]:
    """Parents that are unknown, the region itself, missing for a zone, or that contain each other."""
    out: list[Problem] = []
    for name, r in t.regions.items():
        if r.parent is not None:
            out += _ref(("regions", name, "parent"), r.parent, t.regions, "region")
            if r.parent == name:
                out.append((("regions", name, "parent"), f"region {name!r} cannot contain itself"))
        if r.kind == "zone" and r.parent is None:
            out.append((("regions", name, "parent"), "a zone needs the region it belongs to (parent)"))
    region_graph = {n: [r.parent] if r.parent else [] for n, r in t.regions.items()}
    if cyc := find_cycle(region_graph):
        out.append((("regions", cyc[0], "parent"), "regions contain each other: " + " -> ".join(cyc)))
    return out


def _staff_problems(t: Topology) -> list[Problem]:
    """Roles reaching their tools through unknown services, without break-glass time, or with a rota gap."""
    out: list[Problem] = []
    for name, role in t.staff.items():
        for i, svc in enumerate(role.access_via):
            out += _ref(("staff", name, "access_via", i), svc, t.services, "service")
        if role.access_via and role.break_glass is None:
            out.append(
                (("staff", name, "break_glass"), "access_via needs break_glass: the time to reach emergency access")
            )
        out += _short_roster_gap(name, role)
        out += _people_beyond_the_shift(name, role)
    return out


def _cost_problems(t: Topology) -> list[Problem]:
    """Costs in two currencies, and ``change_costs`` keys that name no kind of change or no subject of it."""
    out: list[Problem] = []
    placed: list[tuple[tuple, Cost]] = []
    for name, role in t.staff.items():
        if role.cost is not None:
            placed.append((("staff", name, "cost"), role.cost))
        placed += [(("staff", name, "shifts", i, "cost"), sh.cost) for i, sh in enumerate(role.shifts) if sh.cost]
    placed += [(("services", n, "recovery", "cost"), s.recovery.cost) for n, s in t.services.items() if s.recovery.cost]
    placed += [(("change_costs", k), c) for k, c in t.change_costs.items()]
    first: tuple[tuple, str] | None = None
    for path, c in placed:
        if c.currency is None:
            continue
        if first is None:
            first = (path, c.currency)
        elif c.currency != first[1]:
            where = ".".join(str(p) for p in first[0])
            out.append(
                (
                    (*path, "currency"),
                    f"costs in one topology use one currency: {c.currency} here, {first[1]} at {where}",
                )
            )
    subjects: dict[str, Collection[str]] = {
        "responder": t.staff,
        "strategy": t.services,
        "backup": t.services,
        "buffer": t.queues,
    }
    what = {"responder": "staff role", "strategy": "service", "backup": "service", "buffer": "queue"}
    for key in t.change_costs:
        kind, _, subject = key.partition(":")
        if kind not in CHANGE_KINDS:
            out.append(
                (
                    ("change_costs", key),
                    f"unknown kind of change {kind!r}{did_you_mean(kind, CHANGE_KINDS)} (expected "
                    f"{', '.join(CHANGE_KINDS)}, alone or as KIND:SUBJECT such as backup:ehr-db)",
                )
            )
        elif subject:
            out += _ref(("change_costs", key), subject, subjects[kind], what[kind])
    return out


def _people_beyond_the_shift(name: str, role: StaffRole) -> list[Problem]:
    """A call-in with neither or both ways of arriving; an external role with a roster or a call-in; no roster."""
    out: list[Problem] = []
    ci = role.call_in
    if ci is not None and (ci.travel is None) == (ci.remote_login is None):
        out.append(
            (
                ("staff", name, "call_in"),
                "expected exactly one of travel (to the site) or remote_login (from home), found "
                + ("both" if ci.travel is not None else "neither"),
            )
        )
    if role.external is not None and (role.shifts or ci is not None):
        what = "shifts" if role.shifts else "call_in"
        out.append(
            (
                ("staff", name, what),
                f"an external role has no {what}: its people come only when engaged (drop {what} or external)",
            )
        )
    if not role.shifts and role.external is None:
        out.append((("staff", name, "shifts"), "expected at least one shift (only an external role has none)"))
    return out


def _call_in_problems(d: Drill, t: Topology) -> list[Problem]:
    """Call-in requests naming unknown roles, roles that cannot be called, twice, or more people than exist."""
    out: list[Problem] = []
    seen: set[str] = set()
    for i, req in enumerate(d.response.call_in):
        path = ("response", "call_in", i)
        role = t.staff.get(req.role)
        if role is None:
            out += _ref((*path, "role"), req.role, t.staff, "staff role")
            continue
        if req.role in seen:
            out.append(((*path, "role"), f"role {req.role!r} is called in twice; give one request with a count"))
        seen.add(req.role)
        if role.call_in is None and role.external is None:
            out.append(
                (
                    (*path, "role"),
                    f"role {req.role!r} has no call_in section (who may be called and how fast) "
                    f"and is not external; add staff.{req.role}.call_in",
                )
            )
            continue
        if role.call_in is not None:
            most, what = role.call_in.available, "call_in.available"
        else:
            assert role.external is not None
            most, what = role.external.headcount, "external.headcount"
        if req.count is not None and req.count > most:
            out.append(((*path, "count"), f"expected at most {most} (staff.{req.role}.{what}), found {req.count}"))
    return out


def runbook_step_names(s: Service) -> list[str]:
    """The names of every step of ``s``'s runbooks (recovery, restore, validate) a need can name."""
    rec = s.recovery
    names = [st.name for st in (*rec.steps, *rec.restore)]
    if rec.validate_ is not None:
        names.append(rec.validate_.name)
    return names


def needs_problems(t: Topology, path: tuple, needs: list[str] | None, own: str | None = None) -> Iterator[Problem]:
    """Needs naming an unknown service or step, the step's own service, or the same thing twice.

    A need is a service name or ``service/step name``; ``own`` is the service whose runbook the
    step belongs to (None for a drill's steps and for detection).
    """
    seen: set[str] = set()
    for j, need in enumerate(needs or []):
        where = (*path, j)
        service, _, step = need.partition("/")
        if need in seen:
            yield where, f"{need!r} is listed twice"
        seen.add(need)
        if service not in t.services:
            yield from _ref(where, service, t.services, "service")
            continue
        if step:
            names = runbook_step_names(t.services[service])
            if step not in names:
                hint = did_you_mean(step, names)
                known = ", ".join(repr(n) for n in names) or "none"
                yield where, f"service {service!r} has no runbook step {step!r}{hint} (its steps: {known})"
        elif service == own:
            yield (
                where,
                f"a step of {own!r} cannot need {own!r} restored: the service is restored only after "
                "its own runbook, so the step would wait for ever",
            )


def _runbook_problems(
    t: Topology,
    path: tuple,
    steps: list[Step],
    service: Service | None = None,
    in_restore: bool = False,
    *,
    own: str | None = None,
    with_needs: bool = True,
) -> Iterator[Problem]:
    """Runbook steps done by unknown roles, or with no duration (only a restore step may omit it), and
    failures falling back to a restore that ``service`` cannot run (``in_restore``: the restore runbook), and
    bad needs (``own``: the service whose runbook it is; ``with_needs``: check them)."""
    for i, st in enumerate(steps):
        if st.role is not None:
            yield from _ref((*path, i, "role"), st.role, t.staff, "staff role")
        if st.duration is None and not st.restore:
            yield (*path, i, "duration"), "a step needs a duration (or restore: true)"
        yield from _crew_problems(t, (*path, i), st)
        if with_needs:
            yield from needs_problems(t, (*path, i, "needs"), st.needs, own)
        if st.failure is not None:
            yield from _failure_problems(t, (*path, i, "failure"), st, service, in_restore)


def _failure_problems(
    t: Topology, path: tuple, st: Step, service: Service | None, in_restore: bool
) -> Iterator[Problem]:
    """An alternate path naming no step, or a fallback to a restore that is impossible here."""
    failure = st.failure
    if failure is None:  # pragma: no cover - only called for steps that can fail
        return
    other = failure.otherwise
    if isinstance(other, list):
        if not other:
            yield (*path, "otherwise"), "expected at least one step (or 'restore'), found an empty list"
        yield from _runbook_problems(t, (*path, "otherwise"), other, service, in_restore)
    elif other == "restore":
        if service is None:  # steps shared by several services: each is checked as it is compiled
            return
        if in_restore:
            yield (*path, "otherwise"), "a step of the restore runbook cannot fall back to the restore runbook"
        elif not service.recovery.restore:
            yield (*path, "otherwise"), "'restore' needs the service's recovery.restore runbook, which is empty"
        elif service.data is None or service.data.backup_interval is None:
            yield (*path, "otherwise"), "'restore' needs backups to restore from (data.backup_interval)"


def most_people(role: StaffRole) -> int:
    """The most people of ``role`` who can ever work at once: the largest shift, plus everyone who may be
    called in (or an external role's headcount)."""
    rostered = max((sh.headcount for sh in role.shifts), default=0)
    extra = role.call_in.available if role.call_in is not None else 0
    return rostered + extra + (role.external.headcount if role.external is not None else 0)


def _crew_problems(t: Topology, path: tuple, st: Step) -> Iterator[Problem]:
    """A step needing more people at once than its role can ever have, or several people and no role."""
    if st.people == 1:
        return
    if st.role is None:
        yield (*path, "people"), f"a step needing {st.people} people at once needs a role"
        return
    role = t.staff.get(st.role)
    if role is not None and st.people > (most := most_people(role)):
        yield (
            (*path, "people"),
            f"expected at most {most} (the most people of role {st.role!r} ever on duty, called in "
            f"included), found {st.people}: the step could never start",
        )


def _service_problems(t: Topology, name: str, s: Service) -> list[Problem]:
    """Everything wrong with one service: its references, recovery, data and local high availability."""
    base = ("services", name)
    out: list[Problem] = []
    out += _ref((*base, "tier"), s.tier, t.tiers, "tier")
    out += _ref((*base, "region"), s.region, t.regions, "region")
    seen: set[str] = set()
    for i, entry in enumerate(s.depends_on):
        refs: list[tuple[tuple, str]]
        if isinstance(entry, str):
            refs = [((*base, "depends_on", i), entry)]
        else:
            key = "any_of" if entry.any_of is not None else "of"
            refs = [((*base, "depends_on", i, key, j), m) for j, m in enumerate(entry.members())]
            out += _group_problems((*base, "depends_on", i), entry)
        for path, dep in refs:
            out += _ref(path, dep, t.services, "service")
            if dep == name:
                out.append((path, f"service {name!r} cannot depend on itself"))
            if dep in seen:
                out.append((path, f"{dep!r} is listed twice"))
            seen.add(dep)
    out += _recovery_problems(t, base, s)
    out += _failback_problems(t, (*base, "recovery", "failback"), s)
    if s.usable is not None:
        out += _usable_problems(t, (*base, "usable"), s.usable)
    out += _data_problems(base, s)
    out += _local_ha_problems(t, base, s)
    return out


def _recovery_problems(t: Topology, base: tuple, s: Service) -> list[Problem]:
    """A standby region that is missing, unknown or inside the service's own; runbooks without steps or roles."""
    out: list[Problem] = []
    rec = s.recovery
    if rec.standby_region is not None:
        out += _ref((*base, "recovery", "standby_region"), rec.standby_region, t.regions, "region")
        if (
            rec.standby_region in t.regions
            and s.region in t.regions
            and t.region_contains(s.region, rec.standby_region)
        ):
            out.append(
                (
                    (*base, "recovery", "standby_region"),
                    f"standby region {rec.standby_region!r} lies inside the service's own "
                    f"region {s.region!r}: one failure would take both",
                )
            )
    elif rec.strategy not in ("none",):
        out.append(((*base, "recovery", "standby_region"), f"strategy {rec.strategy} needs a standby_region"))
    if rec.strategy not in ("none", "active-active") and not rec.steps:
        out.append(((*base, "recovery", "steps"), f"strategy {rec.strategy} needs at least one runbook step"))
    own = base[1]
    out += _runbook_problems(t, (*base, "recovery", "steps"), rec.steps, s, rec.strategy == "backup-restore", own=own)
    out += _runbook_problems(t, (*base, "recovery", "restore"), rec.restore, s, in_restore=True, own=own)
    if rec.validate_ is not None:
        out += _runbook_problems(t, (*base, "recovery"), [rec.validate_], s, with_needs=False)
        out += needs_problems(t, (*base, "recovery", "validate", "needs"), rec.validate_.needs, own)
    return out


def _data_problems(base: tuple, s: Service) -> list[Problem]:
    """Data a restore or a backup strategy needs but lacks, replication lag that contradicts its mode,
    sizes and rates too large to be real, and retention that keeps no backup."""
    out: list[Problem] = []
    rec, d = s.recovery, s.data
    needs_data = any(st.restore for st in [*rec.steps, *rec.restore])
    if needs_data and (d is None or d.size is None or d.restore_throughput is None):
        out.append(((*base, "data"), "a restore step needs data.size and data.restore_throughput"))
    if rec.strategy == "backup-restore" and (d is None or d.backup_interval is None):
        out.append(((*base, "data", "backup_interval"), "strategy backup-restore needs data.backup_interval"))
    if d is None:
        return out
    if d.replication is not None:
        if d.replication.mode == "async" and d.replication.lag is None:
            out.append(((*base, "data", "replication", "lag"), "async replication needs a lag distribution"))
        if d.replication.mode == "sync" and d.replication.lag is not None:
            out.append(((*base, "data", "replication", "lag"), "sync replication has no lag; remove it"))
    if d.size is not None and d.restore_throughput is not None:
        if not math.isfinite(d.size) or not math.isfinite(d.restore_throughput):
            bad = "size" if not math.isfinite(d.size) else "restore_throughput"
            out.append(((*base, "data", bad), f"data.{bad} is too large to be real; is it a typo?"))
        elif d.size / d.restore_throughput > MAX_DURATION:
            out.append(
                (
                    (*base, "data", "restore_throughput"),
                    "restoring data.size at data.restore_throughput would take more than ten years; is it a typo?",
                )
            )
    if d.backup_retention is not None and d.backup_interval is not None and d.backup_retention < d.backup_interval:
        out.append(((*base, "data", "backup_retention"), "retention shorter than the backup interval keeps no backup"))
    if d.logs is not None and d.backup_interval is None:
        out.append(
            (
                (*base, "data", "logs"),
                "transaction logs are rolled forward from a backup: data.logs needs data.backup_interval",
            )
        )
    return out


def _local_ha_problems(t: Topology, base: tuple, s: Service) -> list[Problem]:
    """A high-availability zone that is unknown, the service's own, not a zone, or in another region."""
    out: list[Problem] = []
    if s.local_ha is None:
        return out
    out += _ref((*base, "local_ha", "zone"), s.local_ha.zone, t.regions, "region")
    z = t.regions.get(s.local_ha.zone)
    if z is not None and s.region in t.regions:
        if s.local_ha.zone == s.region:
            out.append(((*base, "local_ha", "zone"), "the HA zone must differ from the service's own"))
        elif z.kind != "zone":
            out.append(((*base, "local_ha", "zone"), f"{s.local_ha.zone!r} is a {z.kind}, not a zone"))
        elif z.parent is not None and z.parent != t.regions[s.region].parent:
            out.append(
                (
                    (*base, "local_ha", "zone"),
                    f"{s.local_ha.zone!r} is not a zone of the same region as {s.region!r}",
                )
            )
    return out


def _dependency_cycle(t: Topology) -> list[Problem]:
    """Services that depend on each other in a loop (a service naming itself is reported with the service)."""
    graph = {n: [d for d in s.dependency_names() if d != n] for n, s in t.services.items()}
    if cyc := find_cycle(graph):
        return [(("services", cyc[0], "depends_on"), "dependency cycle: " + " -> ".join(cyc))]
    return []


def _group_problems(path: tuple, g: DependencyGroup) -> list[Problem]:
    """A dependency group that is not exactly one of any_of and of, or that needs too many."""
    if (g.any_of is None) == (g.of is None):
        return [(path, "a dependency group has either any_of (any one of them) or of (with need), not both or neither")]
    if g.any_of is not None and g.need is not None:
        return [((*path, "need"), "need goes with of; any_of always needs one")]
    if len(g.members()) < 2:
        return [(path, "a dependency group needs at least two services; depend on one by name")]
    if g.of is not None and g.need is None:
        return [((*path, "need"), "of needs need: how many of them must be up")]
    if g.need is not None and g.need > len(g.members()):
        return [((*path, "need"), f"need is {g.need}, but the group has only {len(g.members())} services")]
    return []


def _queue_problems(t: Topology) -> list[Problem]:
    """Queues between unknown services, with impossible rates, or a backlog that never drains."""
    out: list[Problem] = []
    for name, q in t.queues.items():
        out += _ref(("queues", name, "consumer"), q.consumer, t.services, "service")
        if q.producer is not None:
            out += _ref(("queues", name, "producer"), q.producer, {*t.services, *t.externals}, "service or external")
        if isinstance(q.profile, str):
            out += _ref(("queues", name, "profile"), q.profile, t.profiles, "profile")
        rate_problems = [*_rate(("queues", name, "rate"), q.rate, "the arrival rate")]
        rate_problems += _rate(("queues", name, "drain"), q.drain, "the drain rate")
        out += rate_problems
        profile = t.profiles.get(q.profile) if isinstance(q.profile, str) else q.profile
        peak = q.rate * (max(profile.hours) * max(profile.days.values(), default=1.0) if profile else 1.0)
        if q.rate <= 0:
            out.append((("queues", name, "rate"), "the arrival rate must be positive"))
        elif q.drain <= peak and not rate_problems:
            what = "the arrival rate at the profile's peak" if profile else "the arrival rate"
            out.append((("queues", name, "drain"), f"drain must exceed {what}, or the backlog never clears"))
    for name in t.externals:
        if name in t.services:
            out.append(
                (("externals", name), f"{name!r} is already a service of the estate; an external needs its own name")
            )
    for name, p in t.profiles.items():
        out += _profile_problems(("profiles", name), p)
    for name, q in t.queues.items():
        if q.profile is not None and not isinstance(q.profile, str):
            out += _profile_problems(("queues", name, "profile"), q.profile)
    return out


def _profile_problems(path: tuple, p: RateProfile) -> list[Problem]:
    """Multipliers that are negative or not finite, or a profile under which nothing ever arrives."""
    out: list[Problem] = []
    for i, m in enumerate(p.hours):
        if not (math.isfinite(m) and m >= 0):
            out.append(((*path, "hours", i), f"expected a multiplier of 0 or more, found {m}"))
    for day, m in p.days.items():
        if not (math.isfinite(m) and m >= 0):
            out.append(((*path, "days", day), f"expected a multiplier of 0 or more, found {m}"))
    if not out and (max(p.hours) == 0 or (all(m == 0 for m in p.days.values()) and len(p.days) == 7)):
        out.append(((*path, "hours"), "the profile is zero at every hour: nothing would ever arrive"))
    return out


def _workflow_problems(t: Topology) -> list[Problem]:
    """Workflows that need services the topology does not have, or malformed dependency groups."""
    out: list[Problem] = []
    for name, w in t.workflows.items():
        seen: set[str] = set()
        for i, entry in enumerate(w.needs):
            refs: list[tuple[tuple, str]]
            if isinstance(entry, str):
                refs = [(("workflows", name, "needs", i), entry)]
            else:
                key = "any_of" if entry.any_of is not None else "of"
                refs = [(("workflows", name, "needs", i, key, j), m) for j, m in enumerate(entry.members())]
                out += _group_problems(("workflows", name, "needs", i), entry)
            for path, svc in refs:
                out += _ref(path, svc, t.services, "service")
                if svc in seen:
                    out.append((path, f"{svc!r} is listed twice"))
                seen.add(svc)
        if w.usable is not None:
            out += _usable_problems(t, ("workflows", name, "usable"), w.usable)
        for i, svc in enumerate(w.down_when_degraded):
            if svc not in w.needs:
                out.append(
                    (
                        ("workflows", name, "down_when_degraded", i),
                        f"{svc!r} is not among the services the workflow needs",
                    )
                )
    return out


def _work_step_problems(t: Topology, path: tuple, role: str | None, people: int) -> list[Problem]:
    """A work step done by an unknown role, or by more people at once than its role can ever have."""
    if role is None:
        return [((*path, "people"), f"work needing {people} people at once needs a role")] if people > 1 else []
    out = list(_ref((*path, "role"), role, t.staff, "staff role"))
    if role in t.staff and people > (most := most_people(t.staff[role])):
        out.append(((*path, "people"), f"expected at most {most} (the most people of role {role!r} ever on duty)"))
    return out


def _usable_problems(t: Topology, path: tuple, u: Usable) -> list[Problem]:
    """The work between restored and usable: its roles and crews."""
    out: list[Problem] = []
    for i, st in enumerate(u.steps):
        out += _work_step_problems(t, (*path, "steps", i), st.role, st.people)
    if u.backlog_entry is not None:
        out += _work_step_problems(t, (*path, "backlog_entry"), u.backlog_entry.role, u.backlog_entry.people)
    return out


def _failback_problems(t: Topology, path: tuple, s: Service) -> list[Problem]:
    """A failback with nothing to fail back from, a change window on a forced one, unknown roles."""
    fb = s.recovery.failback
    if fb is None:
        return []
    out: list[Problem] = []
    if s.recovery.strategy in ("none", "backup-restore"):
        out.append(
            (path, f"strategy {s.recovery.strategy} runs on its own site: there is no standby to fail back from")
        )
    if fb.mode == "forced" and fb.after is not None:
        out.append(((*path, "after"), "a forced failback switches as soon as the primary is back: drop after"))
    out += _work_step_problems(t, (*path, "freeze"), fb.freeze.role, fb.freeze.people)
    for i, st in enumerate(fb.steps):
        out += _work_step_problems(t, (*path, "steps", i), st.role, st.people)
    if fb.resync is not None:
        out += _work_step_problems(t, (*path, "resync"), fb.resync.role, fb.resync.people)
    return out


def _escalation_problems(d: Drill, t: Topology) -> list[Problem]:
    """Problems with a drill's escalation policy, deputy and decision triggers."""
    out: list[Problem] = []
    r = d.response
    if r.escalation is not None:
        esc = r.escalation
        if esc.timeout <= 0:
            out.append((("response", "escalation", "timeout"), "expected a positive timeout, e.g. '10m'"))
        for i, level in enumerate(esc.levels):
            if not level:
                out.append((("response", "escalation", "levels", i), "a level must page at least one role"))
            for j, role in enumerate(level):
                out += _ref(("response", "escalation", "levels", i, j), role, t.staff, "staff role")
    dep = r.declare.deputy
    if dep is not None:
        out += _ref(("response", "declare", "deputy", "role"), dep.role, t.staff, "staff role")
        if dep.role == r.declare.role:
            out.append((("response", "declare", "deputy", "role"), "the deputy must be another role than the decider"))
        if dep.after <= 0:
            out.append((("response", "declare", "deputy", "after"), "expected a positive time, e.g. '30m'"))
    kinds = {f.kind for f in d.faults}
    for i, tr in enumerate(r.declare_when):
        path = ("response", "declare_when", i)
        given = [k for k in ("service", "tier", "fault_detected") if getattr(tr, k) is not None]
        if len(given) != 1:
            out.append((path, "expected exactly one of service, tier or fault_detected"))
            continue
        if tr.fault_detected is not None:
            if tr.not_back_within is not None:
                out.append(((*path, "not_back_within"), "fault_detected fires at detection: drop not_back_within"))
            if tr.fault_detected not in kinds:
                out.append(((*path, "fault_detected"), f"the drill has no {tr.fault_detected} fault"))
            continue
        if tr.service is not None:
            out += _ref((*path, "service"), tr.service, t.services, "service")
        if tr.tier is not None:
            out += _ref((*path, "tier"), tr.tier, t.tiers, "tier")
        if tr.not_back_within is None or tr.not_back_within <= 0:
            out.append(((*path, "not_back_within"), "expected a positive time, e.g. '30m'"))
    return out


def check_drill(d: Drill, t: Topology) -> list[Problem]:
    """Every problem with a drill's references into its topology."""
    out: list[Problem] = []
    lo, hi = START_YEARS
    if not lo <= d.start.year <= hi:
        out.append((("start",), f"expected a start date between the years {lo} and {hi}, found {d.start:%Y-%m-%d}"))
    for i, f in enumerate(d.faults):
        pool: Collection[str] = t.regions if f.kind == "region-loss" else t.services
        what = "region" if f.kind == "region-loss" else "service"
        if f.kind == "service-outage" and t.externals:
            pool, what = {*t.services, *t.externals}, "service or external"
        for j, tgt in enumerate(f.targets):
            out += _ref(("faults", i, "targets", j), tgt, pool, what)
        if f.kind == "data-corruption":
            for j, tgt in enumerate(f.targets):
                s = t.services.get(tgt)
                if s is None:
                    continue
                lacks = []
                if f.steps is None and not s.recovery.restore and s.recovery.strategy != "backup-restore":
                    lacks.append("no recovery.restore runbook")
                if s.data is None or s.data.backup_interval is None:
                    lacks.append("no backups (data.backup_interval)")
                if lacks:
                    out.append(
                        (
                            ("faults", i, "targets", j),
                            f"service {tgt!r} cannot be rebuilt from backup: it has {' and '.join(lacks)}",
                        )
                    )
        if f.kind != "data-drift":
            if f.on_detect != "stay-up":
                out.append((("faults", i, "on_detect"), f"on_detect applies to a data-drift fault, not {f.kind}"))
            if f.write_rate is not None:
                out.append((("faults", i, "write_rate"), f"write_rate applies to a data-drift fault, not {f.kind}"))
        elif f.write_rate is not None:
            out += _rate(("faults", i, "write_rate"), f.write_rate, "the write rate")
        if f.kind == "cutover-failure" and d.rollback is None:
            out.append((("faults", i, "kind"), "a cutover-failure drill needs a rollback section"))
        # fault steps run as each target's runbook (a corruption's as its restore runbook)
        svc = t.services.get(f.targets[0]) if f.kind != "region-loss" and f.targets else None
        for path, message in _runbook_problems(
            t, ("faults", i, "steps"), f.steps or [], svc, f.kind in ("data-corruption", "data-drift"), with_needs=False
        ):
            if path[-1] == "role" or "failure" in path:
                out.append((path, message))
        for j, st in enumerate(f.steps or []):
            out += _crew_problems(t, ("faults", i, "steps", j), st)
            out += needs_problems(t, ("faults", i, "steps", j, "needs"), st.needs)
        out += needs_problems(t, ("faults", i, "detect_needs"), f.detect_needs)
    out += needs_problems(t, ("detection", "needs"), d.detection.needs)
    r = d.response
    for i, role in enumerate(r.page):
        out += _ref(("response", "page", i), role, t.staff, "staff role")
    for i, role in enumerate(r.escalate):
        out += _ref(("response", "escalate", i), role, t.staff, "staff role")
    for key in ("triage", "declare", "communicate"):
        hs = getattr(r, key)
        if hs is not None:
            out += _ref(("response", key, "role"), hs.role, t.staff, "staff role")
    out += _call_in_problems(d, t)
    out += _escalation_problems(d, t)
    if d.rollback is not None:
        rb = d.rollback
        out += _ref(("rollback", "freeze", "role"), rb.freeze.role, t.staff, "staff role")
        for j, st in enumerate(rb.steps):
            if st.role is not None:
                out += _ref(("rollback", "steps", j, "role"), st.role, t.staff, "staff role")
            out += _crew_problems(t, ("rollback", "steps", j), st)
            if st.failure is not None:
                out.append((("rollback", "steps", j, "failure"), "rollback steps cannot fail in this model; remove it"))
            out += needs_problems(t, ("rollback", "steps", j, "needs"), st.needs)
        out += _rate(("rollback", "write_rate"), rb.write_rate, "the write rate")
        if rb.policy != "discard" and rb.reconcile_rate is None:
            out.append((("rollback", "reconcile_rate"), f"policy {rb.policy} needs a reconcile_rate"))
        elif rb.policy != "discard":
            out += _rate(("rollback", "reconcile_rate"), rb.reconcile_rate, "the reconcile rate", positive=True)
        if not any(f.kind == "cutover-failure" for f in d.faults):
            out.append((("rollback",), "a rollback section needs a cutover-failure fault"))
    for i, gate in enumerate(d.gates):
        try:
            parse_gate(gate, t)
        except GateError as exc:
            out.append((("gates", i), str(exc)))
    out += placeholder_problems(d, t)
    return out
