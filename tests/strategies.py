"""Hypothesis strategies for random *valid* estates and drills.

An estate is drawn as a :class:`Spec`: the topology and drill as nested
dictionaries in which every quantity that carries time is a small object —
:class:`Dur` (a duration or distribution), :class:`PerSec` (an event or data
rate), :class:`Bytes` (a data size) and :class:`GateText` (a gate with its
bound). :meth:`Spec.render` writes the two YAML files, optionally with every
duration multiplied by ``k`` (and every rate divided by it), so a test can
build the *scaled files* and compare. Numbers are written in seconds with
``repr`` so a power-of-two ``k`` changes no digit beyond the scaling.

Every model type is drawn: regions with zones, tiers, staff with day/night or
round-the-clock shifts (pace, break-glass access behind a service), services
with each DR strategy, validation, restore runbooks, local HA, data stores
(async/sync replication, backups, retention), restarts, queues and workflows;
drills with every fault kind (region loss, service outage, corruption, drift,
cutover failure with a rollback), detection overrides, fault runbooks,
communication, injects, questions and gates.

Rosters always cover every hour of every day, so any role a drill needs is on
duty: the drawn files are valid, and a test may demand that they load.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import yaml
from hypothesis import strategies as st

# ---------------------------------------------------------------- scalable quantities


def _sec(x: float) -> str:
    return f"{float(x)!r}s"


@dataclass(frozen=True)
class Dur:
    """A duration or distribution, in seconds, written back scaled by ``k``."""

    kind: str
    args: tuple

    def render(self, k: float = 1.0) -> str:
        a = [v * k for v in self.args]
        if self.kind == "fixed":
            return _sec(a[0])
        if self.kind == "triangular":
            return f"triangular({_sec(a[0])}, {_sec(a[1])}, {_sec(a[2])})"
        if self.kind == "exponential":
            return f"exponential(mean={_sec(a[0])})"
        if self.kind == "uniform":
            return f"uniform({_sec(a[0])}, {_sec(a[1])})"
        return "empirical([" + ", ".join(_sec(v) for v in a) + "])"


@dataclass(frozen=True)
class LogN(Dur):
    """A lognormal given by its median and one high percentile."""

    percentile: int = 95

    def render(self, k: float = 1.0) -> str:
        p50, hi = (v * k for v in self.args)
        return f"lognormal(p50={_sec(p50)}, p{self.percentile}={_sec(hi)})"


@dataclass(frozen=True)
class PerSec:
    """An event rate (``unit=""``) or data rate (``unit="B"``) per second; scales as 1/k."""

    value: float
    unit: str = ""

    def render(self, k: float = 1.0) -> str:
        return f"{self.value / k!r}{self.unit}/s"


@dataclass(frozen=True)
class Bytes:
    """A data size (does not scale with time)."""

    value: int

    def render(self, k: float = 1.0) -> str:
        return f"{self.value}B"


@dataclass(frozen=True)
class GateText:
    """A gate whose bound is a duration: ``template`` holds ``{bound}``."""

    template: str
    bound: Dur

    def render(self, k: float = 1.0) -> str:
        return self.template.format(bound=self.bound.render(k))


def render(obj, k: float = 1.0):
    """Plain YAML-ready data from a spec tree, every duration scaled by ``k``."""
    if isinstance(obj, Dur | PerSec | Bytes | GateText):
        return obj.render(k)
    if isinstance(obj, dict):
        return {key: render(v, k) for key, v in obj.items()}
    if isinstance(obj, list):
        return [render(v, k) for v in obj]
    return obj


@dataclass
class Spec:
    """A drawn topology and drill (spec trees), and the seed to replay them with."""

    topology: dict
    drill: dict
    seed: int

    def render(self, k: float = 1.0) -> tuple[str, str]:
        """The topology and drill YAML texts, with every duration scaled by ``k``."""
        return (
            yaml.safe_dump(render(self.topology, k), sort_keys=False),
            yaml.safe_dump(render(self.drill, k), sort_keys=False),
        )

    def variant(self, edit) -> Spec:
        """A deep copy after ``edit(topology, drill)`` changed it in place."""
        t, d = copy.deepcopy(self.topology), copy.deepcopy(self.drill)
        edit(t, d)
        return Spec(t, d, self.seed)


# ---------------------------------------------------------------- durations

#: Seconds, from a few to a couple of days: wide enough to mix scales, far below the ten-year cap.
SECONDS = st.one_of(st.integers(1, 600), st.integers(600, 4 * 3600), st.integers(4 * 3600, 2 * 86400))


@st.composite
def durations(draw, fixed_only: bool = False, positive: bool = True) -> Dur:
    """Any duration the grammar accepts: fixed, lognormal, triangular, exponential, uniform, empirical."""
    kinds = ["fixed"] if fixed_only else ["fixed", "lognormal", "triangular", "exponential", "uniform", "empirical"]
    kind = draw(st.sampled_from(kinds))
    if kind == "fixed":
        return Dur("fixed", (draw(SECONDS) if positive else draw(st.integers(0, 3600)),))
    if kind == "lognormal":
        p50 = draw(SECONDS)
        return LogN(
            "lognormal", (p50, p50 + draw(st.integers(1, 4 * p50 + 60))), draw(st.sampled_from([75, 90, 95, 99]))
        )
    if kind == "triangular":
        a, c, b = sorted(draw(st.lists(SECONDS, min_size=3, max_size=3)))
        if a == b:
            b += 1
        return Dur("triangular", (a, c, b))
    if kind == "exponential":
        return Dur("exponential", (draw(SECONDS),))
    if kind == "uniform":
        a = draw(st.integers(0, 3600))
        return Dur("uniform", (a, a + draw(SECONDS)))
    return Dur("empirical", tuple(draw(st.lists(SECONDS, min_size=1, max_size=4))))


# ---------------------------------------------------------------- topology

SERVICE_NAMES = ["ehr-db", "sso", "ehr-app", "fhir-api", "lab-feed", "pharmacy", "pacs", "portal"]
ROLE_NAMES = ["oncall", "dba", "ic", "netops"]
ZONED = {"east-a": "east", "east-b": "east"}


def _contains(regions: dict, outer: str, inner: str) -> bool:
    r = inner
    while r is not None:
        if r == outer:
            return True
        r = regions[r].get("parent")
    return False


@st.composite
def shifts(draw) -> list:
    """A roster covering every minute of every day, so the role is always on duty."""
    pattern = draw(st.sampled_from(["day-night", "always", "week-weekend"]))

    def shift(name, start, end, days=None):
        s = {"name": name, "start": start, "end": end}
        if days:
            s["days"] = days
        s["headcount"] = draw(st.integers(1, 3))
        s["acknowledge"] = draw(durations())
        if draw(st.booleans()):
            s["pace"] = draw(st.sampled_from([0.75, 1.0, 1.25, 1.5]))
        return s

    if pattern == "always":
        return [shift("am", "00:00", "12:00"), shift("pm", "12:00", "00:00")]
    if pattern == "day-night":
        return [shift("day", "07:00", "19:00"), shift("night", "19:00", "07:00")]
    week, weekend = ["mon", "tue", "wed", "thu", "fri"], ["sat", "sun"]
    return [
        shift("weekday-day", "08:00", "20:00", week),
        shift("weekday-night", "20:00", "08:00", week),
        shift("weekend-day", "08:00", "20:00", weekend),
        shift("weekend-night", "20:00", "08:00", weekend),
    ]


@st.composite
def steps(draw, roles: list[str], prefix: str, min_size: int = 1, restore_ok: bool = False) -> list:
    out = []
    for i in range(draw(st.integers(min_size, 3))):
        step = {"name": f"{prefix}{i}"}
        restore = restore_ok and draw(st.integers(0, 3)) == 0
        if restore:
            step["restore"] = True
        if not restore or draw(st.booleans()):
            step["duration"] = draw(durations(positive=draw(st.booleans())))
        role = draw(st.sampled_from([None, *roles]))
        if role is not None:
            step["role"] = role
        out.append(step)
    return out


@st.composite
def topologies(draw) -> dict:
    """A valid topology spec tree."""
    regions = {"dc": {"kind": "datacenter"}, "east": {"kind": "cloud-region"}, "west": {"kind": "cloud-region"}}
    if draw(st.booleans()):
        regions |= {z: {"kind": "zone", "parent": p} for z, p in ZONED.items()}
    names = list(regions)
    tiers = {
        f"tier{i}": {"rto": draw(durations(fixed_only=True)), "rpo": draw(durations(fixed_only=True))}
        for i in range(draw(st.integers(1, 3)))
    }
    roles = draw(st.lists(st.sampled_from(ROLE_NAMES), min_size=1, max_size=4, unique=True))
    staff = {r: {"shifts": draw(shifts())} for r in roles}
    n = draw(st.integers(1, 6))
    svc_names = draw(st.permutations(SERVICE_NAMES))[:n]
    services: dict = {}
    for i, name in enumerate(svc_names):
        region = draw(st.sampled_from(names))
        strategy = draw(st.sampled_from(["active-active", "warm-standby", "pilot-light", "backup-restore", "none"]))
        s: dict = {"tier": draw(st.sampled_from(list(tiers))), "region": region}
        deps = draw(st.lists(st.sampled_from(svc_names[:i]), unique=True, max_size=3)) if i else []
        if deps:
            s["depends_on"] = deps
        data = None
        if strategy == "backup-restore" or draw(st.booleans()):
            data = {}
            if draw(st.booleans()):
                data["size"] = Bytes(draw(st.integers(1, 10**12)))
                data["restore_throughput"] = PerSec(float(draw(st.integers(10**6, 10**9))), "B")
            if strategy == "backup-restore" or draw(st.booleans()):
                interval = draw(st.integers(600, 2 * 86400))
                data["backup_interval"] = Dur("fixed", (interval,))
                if draw(st.booleans()):
                    data["backup_retention"] = Dur("fixed", (interval * draw(st.integers(1, 30)),))
                if draw(st.integers(0, 3)) == 0:
                    data["logs"] = {
                        "point_in_time": draw(st.booleans()),
                        "retention": Dur("fixed", (interval * draw(st.integers(1, 30)),)),
                        "compromised": draw(st.sampled_from([0.0, 0.3, 1.0])),
                    }
            mode = draw(st.sampled_from([None, "sync", "async"]))
            if mode == "sync":
                data["replication"] = {"mode": "sync"}
            elif mode == "async":
                data["replication"] = {"mode": "async", "lag": draw(durations())}
            if draw(st.booleans()):
                data["immutable_backups"] = draw(st.booleans())
        can_restore = data is not None and "size" in data
        rec: dict = {"strategy": strategy}
        if strategy != "none":
            standby = [r for r in names if not _contains(regions, region, r)]
            rec["standby_region"] = draw(st.sampled_from(standby))
            rec["steps"] = draw(steps(roles, "step", restore_ok=can_restore))
            if draw(st.booleans()):
                rec["validate"] = draw(steps(roles, "validate", restore_ok=False))[0]
        if draw(st.booleans()):
            rec["restore"] = draw(steps(roles, "restore", restore_ok=can_restore))
        s["recovery"] = rec
        if data is not None:
            s["data"] = data
        if region in ZONED and draw(st.booleans()):
            other = next(z for z in ZONED if z != region)
            s["local_ha"] = {"zone": other, "failover": draw(durations())}
        if draw(st.booleans()):
            s["restart"] = draw(durations())
        services[name] = s
    for r in roles:
        if draw(st.integers(0, 3)) == 0:
            staff[r]["access_via"] = [draw(st.sampled_from(svc_names))]
            staff[r]["break_glass"] = draw(durations())
    queues = {}
    for q in range(draw(st.integers(0, 2))):
        rate = draw(st.integers(1, 80)) / 8
        queues[f"feed{q}"] = {
            "consumer": draw(st.sampled_from(svc_names)),
            "rate": PerSec(rate),
            "buffer": draw(st.integers(0, 20_000)),
            "drain": PerSec(rate * draw(st.integers(5, 40)) / 4),
        }
        if draw(st.booleans()):
            queues[f"feed{q}"]["producer"] = draw(st.sampled_from(svc_names))
    workflows = {
        f"journey{w}": {
            "needs": draw(st.lists(st.sampled_from(svc_names), min_size=1, max_size=3, unique=True)),
            "tolerance": draw(durations(fixed_only=True)),
        }
        for w in range(draw(st.integers(0, 2)))
    }
    return {
        "name": "fuzz-estate",
        "regions": regions,
        "tiers": tiers,
        "staff": staff,
        "services": services,
        "queues": queues,
        "workflows": workflows,
    }


# ---------------------------------------------------------------- drill

FAULT_KINDS = ["region-loss", "service-outage", "data-corruption", "data-drift", "cutover-failure"]


def _human(draw, roles):
    return {"role": draw(st.sampled_from(roles)), "duration": draw(durations())}


@st.composite
def drills(draw, topo: dict) -> dict:
    """A valid drill spec tree on the topology spec ``topo``."""
    roles = list(topo["staff"])
    services = topo["services"]
    svc = list(services)

    def backed_up(name):
        d = services[name].get("data") or {}
        return "backup_interval" in d

    def has_runbook(name):
        rec = services[name]["recovery"]
        return bool(rec.get("restore")) or rec["strategy"] == "backup-restore"

    faults = []
    kinds = draw(st.lists(st.sampled_from(FAULT_KINDS), min_size=1, max_size=3))
    for kind in kinds:
        f: dict = {"kind": kind}
        if kind == "region-loss":
            f["targets"] = [draw(st.sampled_from(list(topo["regions"])))]
        else:
            pool = svc
            if kind == "data-corruption":
                pool = [s for s in svc if backed_up(s)]
            if not pool:
                continue
            f["targets"] = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
        if draw(st.booleans()):
            f["at"] = draw(durations(fixed_only=True, positive=False))
        if kind != "cutover-failure" and draw(st.booleans()):
            f["duration"] = draw(durations())
        if kind in ("data-corruption", "data-drift") and draw(st.booleans()):
            f["dwell"] = draw(durations())
        if draw(st.integers(0, 3)) == 0:
            f["detect"] = draw(durations())
        needs_steps = kind in ("data-corruption", "data-drift") and not all(has_runbook(t) for t in f["targets"])
        if needs_steps or (kind != "cutover-failure" and draw(st.integers(0, 4)) == 0):
            restorable = kind != "region-loss" and all("size" in (services[t].get("data") or {}) for t in f["targets"])
            f["steps"] = draw(steps(roles, "fix", restore_ok=restorable))
        faults.append(f)
    if not faults:
        faults = [{"kind": "service-outage", "targets": [svc[0]]}]
    day, hour, minute = draw(st.integers(9, 15)), draw(st.integers(0, 23)), draw(st.sampled_from([0, 10, 30, 45]))
    d: dict = {
        "name": "fuzz-drill",
        "start": f"2026-03-{day:02d}T{hour:02d}:{minute:02d}",
        "faults": faults,
        "detection": {"delay": draw(durations())},
        "response": {
            "page": draw(st.lists(st.sampled_from(roles), min_size=1, max_size=3, unique=True)),
            "triage": _human(draw, roles),
            "declare": _human(draw, roles),
        },
    }
    if draw(st.booleans()):
        d["response"]["escalate"] = draw(st.lists(st.sampled_from(roles), max_size=3, unique=True))
    if draw(st.booleans()):
        d["response"]["communicate"] = _human(draw, roles)
    if any(f["kind"] == "cutover-failure" for f in faults):
        policy = draw(st.sampled_from(["replay", "preserve", "discard"]))
        rate = draw(st.integers(1, 64)) / 4
        rb = {
            "cutover_before": draw(durations(fixed_only=True, positive=False)),
            "write_rate": PerSec(rate),
            "policy": policy,
            "freeze": _human(draw, roles),
            "steps": draw(steps(roles, "back")),
        }
        if policy != "discard":
            rb["reconcile_rate"] = PerSec(rate * draw(st.integers(1, 40)) / 2)
        d["rollback"] = rb
    if draw(st.booleans()):
        d["injects"] = [
            {"at": draw(durations(fixed_only=True, positive=False)), "audience": "ward", "text": "Screens are frozen."}
        ]
        d["questions"] = ["Who decides to fail over?"]
    if draw(st.booleans()):
        tier = draw(st.sampled_from(list(topo["tiers"])))
        d["gates"] = [
            GateText(
                f"{tier} rto p{draw(st.sampled_from([50, 90, 95]))} <= {{bound}}", draw(durations(fixed_only=True))
            ),
            GateText(f"P({tier} rpo <= {{bound}}) >= 0.9", draw(durations(fixed_only=True))),
        ]
    return d


@st.composite
def specs(draw) -> Spec:
    """A valid topology, a valid drill on it, and a seed."""
    topo = draw(topologies())
    return Spec(topo, draw(drills(topo)), draw(st.integers(0, 2**32 - 1)))
