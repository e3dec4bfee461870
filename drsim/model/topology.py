"""The estate: regions, tiers, services and their DR strategies, queues, staff, workflows.

A topology describes what an estate (a hospital, a payments platform) runs and
how each piece comes back after a failure. It says nothing about any particular
failure: that is a drill. Defaults that depend on the estate come from it: the
most critical tier (:meth:`Topology.most_critical_tier`) and the words reports
use (:meth:`Topology.words`, from its declared ``vocabulary``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .costs import Cost
from .types import Clock, DurationDist, Model, Name, PositiveSeconds, Rate, Seconds, Size, Throughput
from .vocabulary import Preset, Vocabulary, vocabulary

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

STRATEGIES = ("active-active", "warm-standby", "pilot-light", "backup-restore", "none")
Strategy = Literal["active-active", "warm-standby", "pilot-light", "backup-restore", "none"]


class Region(Model):
    """A site that fails as a unit: an on-prem data centre, a cloud region, or a zone in one."""

    kind: Literal["datacenter", "cloud-region", "zone"] | None = Field(
        None,
        description="What the site is, for readers: datacenter, cloud-region, or zone (a zone needs its parent). "
        "Optional: the model treats every region the same way; only a parent changes anything.",
    )
    parent: Name | None = Field(None, description="The region a zone belongs to.")
    description: str = ""


class Tier(Model):
    """A class of services sharing recovery targets."""

    rto: Seconds = Field(description="Recovery time objective: longest acceptable outage.")
    rpo: Seconds = Field(description="Recovery point objective: largest acceptable window of lost writes.")
    description: str = ""


class Shift(Model):
    """Who is on duty in a role between two clock times, on some days of the week."""

    name: Name
    start: Clock
    end: Clock = Field(
        description="End clock time; earlier than start means the shift runs past midnight, "
        "equal to start a 24-hour shift."
    )
    days: list[Weekday] = Field(default_factory=lambda: list(ALL_DAYS))
    headcount: int = Field(ge=0, le=1000, description="People on duty (and paged) in this role.")
    acknowledge: DurationDist = Field(description="Time for one paged person to acknowledge.")
    pace: float = Field(
        1.0, gt=0, le=10, description="Multiplier on the time this role's work takes (night fatigue > 1)."
    )
    cost: Cost | None = Field(
        None,
        description="What one more person on this shift costs, when not the role's cost (a night shift "
        "every night takes more than one person's year; an on-call slot an allowance).",
    )


class CallIn(Model):
    """Off-shift people of a role who may be called in: how many, and how long until they can work."""

    available: int = Field(ge=1, le=1000, description="Off-shift people who may be called in over the incident.")
    respond: DurationDist = Field(description="Time for a called person to answer and agree to come.")
    travel: DurationDist | None = Field(None, description="Time to reach the site (give travel or remote_login).")
    remote_login: DurationDist | None = Field(
        None, description="Time to log in from home instead of travelling (give travel or remote_login)."
    )


class External(Model):
    """Responders from outside (an incident-response retainer, vendor support), engaged on a contract."""

    response: DurationDist = Field(description="Time from engagement to the responders working (the contractual one).")
    headcount: int = Field(ge=1, le=1000, description="People the contract sends.")


class Fatigue(Model):
    """People slow down late in a long shift: from ``after`` into the shift on duty, work takes longer."""

    after: PositiveSeconds = Field(description="Time into a shift from which its people work at the fatigued pace.")
    pace: float = Field(gt=0, le=10, description="Multiplier on the shift's own pace from then on (e.g. 1.3).")


class StaffRole(Model):
    """A pool of interchangeable people: on-call engineers, DBAs, incident commanders."""

    description: str = ""
    shifts: list[Shift] = Field(
        default_factory=list, description="The roster; may be empty only for an external role (nobody on duty)."
    )
    call_in: CallIn | None = Field(None, description="Off-shift people of this role who may be called in.")
    fatigue: Fatigue | None = Field(
        None, description="A slower pace late in each shift: tasks begun from 'after' into it take 'pace' times longer."
    )
    external: External | None = Field(
        None, description="This role is an outside responder engaged when paged or called (a retainer, a vendor)."
    )
    handover: PositiveSeconds | None = Field(
        None,
        description="Time to hand a task still running at a shift's end to the incoming shift, whose pace it then "
        "takes (none: the person who began a task finishes it). Tasks with no more left than this are finished "
        "by their own person.",
    )
    access_via: list[Name] = Field(
        default_factory=list,
        description="Services this role's consoles and VPN sit behind (e.g. the identity provider).",
    )
    break_glass: DurationDist | None = Field(
        None, description="Time to reach emergency (break-glass) access when access_via is down."
    )
    cost: Cost | None = Field(
        None, description="What one more person in this role costs (hiring once, salary every year)."
    )


class Retry(Model):
    """How a failed attempt of a step is made again: by the same person, with its own duration."""

    duration: DurationDist | None = Field(
        None, description="Time each retry takes (default: the step's own duration, drawn afresh)."
    )
    limit: int = Field(ge=1, le=100, description="Retries allowed after the first attempt fails (at least 1).")


class StepFailure(Model):
    """A step that can fail: each attempt fails independently, then it is retried or given up on."""

    probability: float = Field(ge=0, le=1, description="Probability that one attempt fails, in [0, 1].")
    retry: Retry | None = Field(None, description="Retries after a failed attempt (none: the first failure is final).")
    otherwise: list[Step] | Literal["restore"] | None = Field(
        None,
        description="What runs when every attempt has failed: other steps (possibly other roles, an "
        "escalation), or 'restore' for the service's restore runbook (recovery.restore). None: that path "
        "never finishes.",
    )


class Step(Model):
    """One step of a runbook: a duration, and the role that must do it (none = automated)."""

    name: Name
    duration: DurationDist | None = None
    role: Name | None = None
    restore: bool = Field(False, description="A data restore: takes data size / restore throughput on top of duration.")
    people: int = Field(
        1, ge=1, le=100, description="People of the role needed at once (2: dual control, e.g. two key custodians)."
    )
    failure: StepFailure | None = Field(
        default=None, description="The chance that the step fails, and what follows: retries, then an alternate path."
    )
    needs: list[Name] | None = Field(
        default=None,
        description="What the step waits for besides the step before it: a service name (that service "
        "restored, when the drill takes it down; no wait when it is up) or 'service/step name' (that step "
        "of that service's runbook done, when the drill runs it). A service's validate step waits by "
        "default for every dependency the drill takes down; 'needs: []' waits for nothing more.",
    )


class Replication(Model):
    """How writes reach the standby copy."""

    mode: Literal["sync", "async"]
    lag: DurationDist | None = Field(None, description="Async replication lag at any instant.")


class TransactionLogs(Model):
    """An archive of immutable transaction logs (journals): a restore can roll them forward to any moment."""

    point_in_time: bool = Field(
        description="Whether a restore can stop the roll-forward at a chosen moment (just before a corruption "
        "began); false: the logs are not used to choose the restore point."
    )
    retention: PositiveSeconds = Field(
        description="How far back, from the moment the damage is found, the archived logs reach."
    )
    compromised: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Probability that the log archive turns out compromised or broken when it is needed: "
        "the restore falls back to the last clean backup.",
    )


class DataStore(Model):
    """The data a service keeps, and how it is protected."""

    size: Size | None = None
    restore_throughput: Throughput | None = None
    replication: Replication | None = None
    backup_interval: PositiveSeconds | None = None
    backup_retention: PositiveSeconds | None = Field(
        None, description="How far back restorable (immutable) backups reach."
    )
    immutable_backups: bool = False
    restore_point_unusable: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Probability that a restore point (a backup) turns out compromised or unrestorable: "
        "the restore falls back to the backup before it, one backup interval older, and runs again.",
    )
    logs: TransactionLogs | None = Field(
        None,
        description="Immutable transaction logs: a restore after corruption rolls forward to just before it began.",
    )


class WorkStep(Model):
    """A step of work after the technical restore or of a failback: a duration, and who does it (none = automated)."""

    name: Name
    duration: DurationDist
    role: Name | None = None
    people: int = Field(1, ge=1, le=100, description="People of the role needed at once.")


class ProportionalWork(Model):
    """Work that grows with how long something lasted: ``duration`` plus ``per_hour`` for each hour of it.

    Back-entry of what was recorded on paper grows with the downtime (an hour down leaves an
    hour of paper records); re-synchronising the primary grows with the time the standby took writes.
    """

    per_hour: PositiveSeconds = Field(
        description="Work per hour of what it scales with (e.g. '20m': twenty minutes of entry per hour down)."
    )
    duration: DurationDist | None = Field(None, description="A part that does not scale (setting up, checking).")
    role: Name | None = Field(None, description="Who does it (none = automated, e.g. reverse replication).")
    people: int = Field(1, ge=1, le=100, description="People of the role working on it at once.")


class Usable(Model):
    """When people can work on a service or workflow again, after the technical restore.

    Restored is a technical milestone; users are back in service later: clients reconnect
    (DNS and connection-pool lifetimes), a login storm ramps up, data is re-validated, and what
    was recorded on paper during the downtime is entered back (``backlog_entry``, scaled by the
    downtime). Usable is reached when ``steps`` (in order) and then the back-entry are done.
    """

    steps: list[WorkStep] = Field(
        default_factory=list, description="Work between restored and usable, in order (reconnect, re-validate)."
    )
    backlog_entry: ProportionalWork | None = Field(
        None,
        description="Back-entry of paper records kept during the downtime: 'per_hour' of work for each hour "
        "down (a service: its outage; a workflow: from the first service it needs going down until the last "
        "is usable, the time its downtime procedures ran).",
    )


class Failback(Model):
    """Returning to the primary after its site is back: the writes taken at the standby copied back
    (``resync``), writes frozen (``freeze``), then the switch-back runbook (``steps``).

    The service is down for the switch: from the end of the freeze until the last step is done.
    ``planned``: the switch waits for the change window (``after``) and the resync, so no write is
    lost. ``forced``: it switches as soon as the primary is back, before any resync; every write the
    standby took until the freeze is exposed (divergent, to be copied back after the switch).
    """

    mode: Literal["planned", "forced"] = "planned"
    after: DurationDist | None = Field(
        None, description="planned: from the primary being back until the change window the failback runs in."
    )
    resync: ProportionalWork | None = Field(
        None,
        description="Copying the standby's writes back to the primary: 'per_hour' for each hour the standby "
        "took writes (planned: before the freeze; forced: after the switch).",
    )
    freeze: WorkStep = Field(description="Stopping writes to the standby: the service is down from its end.")
    steps: list[WorkStep] = Field(min_length=1, description="The switch-back runbook, in order.")


class LocalHA(Model):
    """Automatic failover to another zone of the same region (e.g. a multi-AZ database)."""

    zone: Name
    failover: DurationDist


class Recovery(Model):
    """How a service comes back elsewhere when its site is lost: a DR strategy and its runbook.

    An active-active service runs live in its standby region too: its runbook (traffic moved by health
    checks, say) starts at the fault, without waiting for a decision, and may be empty — the other
    site simply keeps serving, and the service is back the moment its dependencies are.
    """

    strategy: Strategy
    standby_region: Name | None = None
    steps: list[Step] = Field(
        default_factory=list,
        description="The runbook, in order; needed by every strategy but none and active-active "
        "(whose other site keeps serving without one).",
    )
    validate_: Step | None = Field(None, alias="validate")
    restore: list[Step] = Field(
        default_factory=list,
        description="Runbook to rebuild from backup when data is corrupted (ransomware).",
    )
    failback: Failback | None = Field(
        None,
        description="Returning to the primary once the fault clears, after a failover (none: the failover "
        "is not undone during the drill).",
    )
    cost: Cost | None = Field(
        None,
        description="What this DR arrangement costs: setting it up (one_off) and running it every year "
        "(standby compute, replication, storage).",
    )

    model_config = Model.model_config | {"populate_by_name": True}


class DependencyGroup(Model):
    """Redundant services of which enough must be up: any one (``any_of``), or ``need`` of ``of``.

    A payment switch routing through either a Visa or a Mastercard gateway depends on
    ``{any_of: [visa-gw, mastercard-gw]}``; a quorum on ``{need: 2, of: [node-a, node-b, node-c]}``.
    """

    any_of: list[Name] | None = Field(None, description="Services any one of which is enough.")
    of: list[Name] | None = Field(None, description="Services of which 'need' must be up.")
    need: int | None = Field(None, ge=1, description="How many of 'of' must be up (k of n).")

    def members(self) -> list[Name]:
        """The services of the group."""
        return list(self.any_of if self.any_of is not None else self.of or [])

    def needed(self) -> int:
        """How many members must be up for the group to serve."""
        return 1 if self.any_of is not None else self.need or len(self.of or [])


class Service(Model):
    """Something people or other services use, with a tier, a home and a way back."""

    tier: Name
    region: Name
    description: str = ""
    depends_on: list[Name | DependencyGroup] = Field(
        default_factory=list,
        description="Services this one needs, every one of them; a group ({any_of: [...]} or "
        "{need: k, of: [...]}) is needed as a whole and served by enough of its members.",
    )
    recovery: Recovery
    data: DataStore | None = None
    local_ha: LocalHA | None = None
    restart: DurationDist | None = Field(None, description="Time to come back in place once the fault itself clears.")
    usable: Usable | None = Field(
        None, description="Work after the technical restore before users are back in service (none: at once)."
    )

    def needs_all(self) -> list[Name]:
        """The services this one needs every one of (its plain dependencies)."""
        return [d for d in self.depends_on if isinstance(d, str)]

    def groups(self) -> list[DependencyGroup]:
        """Its dependency groups (any-of, k-of-n)."""
        return [d for d in self.depends_on if not isinstance(d, str)]

    def dependency_names(self) -> list[Name]:
        """Every service it depends on, plainly or through a group."""
        return [*self.needs_all(), *(m for g in self.groups() for m in g.members())]


class ExternalSystem(Model):
    """A system outside the estate that feeds it (a card network, a reference lab): a drill's
    service-outage fault can name it, and queues it produces into stop filling while it is down."""

    description: str = ""


class RateProfile(Model):
    """How an arrival rate varies over the week: multipliers on a queue's ``rate``, piecewise constant
    by clock hour and by weekday (the rate at an instant is rate x hours[h] x days[d])."""

    description: str = ""
    hours: list[float] = Field(
        min_length=24,
        max_length=24,
        description="24 multipliers, for the clock hours 00:00-01:00 to 23:00-24:00.",
    )
    days: dict[Weekday, float] = Field(
        default_factory=dict, description="A multiplier per weekday (e.g. sat: 0.6); days not named: 1."
    )


class Queue(Model):
    """An interface feed (HL7 v2, FHIR subscription, lab/pharmacy link) buffering messages."""

    description: str = ""
    producer: Name | None = Field(
        None,
        description="The service or external system sending: messages arrive only while it is up. "
        "Omitted = a producer that never fails.",
    )
    consumer: Name
    rate: Rate = Field(description="Message arrival rate, e.g. '40/min' (with a profile: the rate it scales).")
    profile: Name | RateProfile | None = Field(
        None,
        description="How the rate varies by hour of day and day of week: the name of a profile under "
        "'profiles', or one written here. Omitted = the same rate at every hour.",
    )
    buffer: int = Field(ge=0, le=10**12, description="Messages the buffer can hold.")
    drain: Rate = Field(description="Rate the consumer processes messages after recovery.")


class Workflow(Model):
    """A journey people make that needs several services at once (in a hospital, a clinical workflow)."""

    description: str = ""
    needs: list[Name | DependencyGroup] = Field(
        min_length=1,
        description="Services the workflow needs, every one of them; a group ({any_of: [...]} or "
        "{need: k, of: [...]}) is needed as a whole and served by enough of its members.",
    )
    tolerance: Seconds = Field(description="Downtime the workflow can absorb on fallback (paper) procedures.")
    down_when_degraded: list[Name] = Field(
        default_factory=list,
        description="Needed services whose degraded state (up on fewer members of a dependency group) "
        "this workflow cannot run on: it counts as down while they are degraded. Others' degraded "
        "states it tolerates.",
    )
    usable: Usable | None = Field(
        None,
        description="Work after every service it needs is back before the workflow runs again "
        "(none: once they are back, or usable where they declare it).",
    )

    def needs_all(self) -> list[Name]:
        """The services it needs every one of (its plain needs)."""
        return [d for d in self.needs if isinstance(d, str)]

    def groups(self) -> list[DependencyGroup]:
        """Its dependency groups (any-of, k-of-n)."""
        return [d for d in self.needs if not isinstance(d, str)]

    def service_names(self) -> list[Name]:
        """Every service it needs, plainly or through a group."""
        return [*self.needs_all(), *(m for g in self.groups() for m in g.members())]


class Topology(Model):
    """A whole estate: what runs where, how it recovers, and who recovers it."""

    name: Name
    description: str = ""
    vocabulary: Preset | Vocabulary = Field(
        "generic",
        description="The words reports use: 'healthcare' (clinical workflows, the wards, clinicians), "
        "'generic' (workflows, users), or a mapping of the words to change (workflow, fallback, told, "
        "users, harmed, owners).",
    )
    regions: dict[Name, Region] = Field(min_length=1)
    tiers: dict[Name, Tier] = Field(min_length=1)
    staff: dict[Name, StaffRole] = Field(default_factory=dict)
    services: dict[Name, Service] = Field(min_length=1)
    externals: dict[Name, ExternalSystem] = Field(
        default_factory=dict, description="Systems outside the estate that queues receive from."
    )
    profiles: dict[Name, RateProfile] = Field(
        default_factory=dict, description="Arrival-rate profiles queues share, by name."
    )
    queues: dict[Name, Queue] = Field(default_factory=dict)
    workflows: dict[Name, Workflow] = Field(default_factory=dict)
    change_costs: dict[str, Cost] = Field(
        default_factory=dict,
        description="What candidate changes cost where the estate cannot say: by kind (responder, "
        "strategy, backup, buffer) or for one subject (backup:ehr-db, buffer:hl7-adt, responder:dba, "
        "strategy:ehr-app).",
    )

    def currency(self) -> str | None:
        """The currency the estate's costs are in (the first one named), or None."""
        for c in self.costs():
            if c.currency:
                return c.currency
        return None

    def costs(self) -> list[Cost]:
        """Every cost the topology states, in file order."""
        out = [c for r in self.staff.values() for c in (r.cost, *(s.cost for s in r.shifts)) if c is not None]
        out += [s.recovery.cost for s in self.services.values() if s.recovery.cost is not None]
        return out + list(self.change_costs.values())

    def words(self) -> Vocabulary:
        """The words reports use for this estate (see :mod:`drsim.model.vocabulary`)."""
        return vocabulary(self.vocabulary)

    def tier_rank(self, tier: Name) -> tuple[float, float, str]:
        """Most critical first: shortest RTO, then shortest RPO, then name."""
        t = self.tiers[tier]
        return (t.rto, t.rpo, tier)

    def most_critical_tier(self) -> Name:
        """The tier with the shortest RTO (then RPO, then name): what analyses look at by default."""
        return min(self.tiers, key=self.tier_rank)

    def profile_of(self, queue: Name) -> RateProfile | None:
        """The rate profile of ``queue``: its own, the shared one it names, or None."""
        p = self.queues[queue].profile
        return self.profiles[p] if isinstance(p, str) else p

    def region_contains(self, outer: Name, inner: Name) -> bool:
        """Whether ``inner`` is ``outer`` or lies inside it (a zone of a region)."""
        seen = set()
        r: Name | None = inner
        while r is not None and r not in seen:
            if r == outer:
                return True
            seen.add(r)
            r = self.regions[r].parent if r in self.regions else None
        return False


StepFailure.model_rebuild()
