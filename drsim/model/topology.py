"""The estate: regions, tiers, services and their DR strategies, queues, staff, workflows.

A topology describes what a hospital runs and how each piece comes back after
a failure. It says nothing about any particular failure: that is a drill.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .types import Clock, DurationDist, Model, PositiveSeconds, Rate, Seconds, Size, Throughput

Name = str
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

STRATEGIES = ("active-active", "warm-standby", "pilot-light", "backup-restore", "none")
Strategy = Literal["active-active", "warm-standby", "pilot-light", "backup-restore", "none"]


class Region(Model):
    """A site that fails as a unit: an on-prem data centre, a cloud region, or a zone in one."""

    kind: Literal["datacenter", "cloud-region", "zone"]
    parent: Name | None = Field(None, description="The region a zone belongs to.")
    description: str = ""


class Tier(Model):
    """A class of services sharing recovery targets."""

    rto: Seconds = Field(description="Recovery time objective: longest acceptable outage.")
    rpo: Seconds = Field(description="Recovery point objective: largest acceptable window of lost writes.")
    description: str = ""


class Shift(Model):
    """Who is on duty in a role between two clock times, on some days of the week."""

    name: str
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
    access_via: list[Name] = Field(
        default_factory=list,
        description="Services this role's consoles and VPN sit behind (e.g. the identity provider).",
    )
    break_glass: DurationDist | None = Field(
        None, description="Time to reach emergency (break-glass) access when access_via is down."
    )


class Step(Model):
    """One step of a runbook: a duration, and the role that must do it (none = automated)."""

    name: str
    duration: DurationDist | None = None
    role: Name | None = None
    restore: bool = Field(False, description="A data restore: takes data size / restore throughput on top of duration.")
    people: int = Field(
        1, ge=1, le=100, description="People of the role needed at once (2: dual control, e.g. two key custodians)."
    )


class Replication(Model):
    """How writes reach the standby copy."""

    mode: Literal["sync", "async"]
    lag: DurationDist | None = Field(None, description="Async replication lag at any instant.")


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


class LocalHA(Model):
    """Automatic failover to another zone of the same region (e.g. a multi-AZ database)."""

    zone: Name
    failover: DurationDist


class Recovery(Model):
    """How a service comes back elsewhere when its site is lost: a DR strategy and its runbook."""

    strategy: Strategy
    standby_region: Name | None = None
    steps: list[Step] = Field(default_factory=list)
    validate_: Step | None = Field(None, alias="validate")
    restore: list[Step] = Field(
        default_factory=list,
        description="Runbook to rebuild from backup when data is corrupted (ransomware).",
    )

    model_config = Model.model_config | {"populate_by_name": True}


class Service(Model):
    """Something clinicians or other services use, with a tier, a home and a way back."""

    tier: Name
    region: Name
    description: str = ""
    depends_on: list[Name] = Field(default_factory=list)
    recovery: Recovery
    data: DataStore | None = None
    local_ha: LocalHA | None = None
    restart: DurationDist | None = Field(None, description="Time to come back in place once the fault itself clears.")


class Queue(Model):
    """An interface feed (HL7 v2, FHIR subscription, lab/pharmacy link) buffering messages."""

    description: str = ""
    producer: Name | None = None
    consumer: Name
    rate: Rate = Field(description="Message arrival rate, e.g. '40/min'.")
    buffer: int = Field(ge=0, le=10**12, description="Messages the buffer can hold.")
    drain: Rate = Field(description="Rate the consumer processes messages after recovery.")


class Workflow(Model):
    """A clinical journey that needs several services at once."""

    description: str = ""
    needs: list[Name] = Field(min_length=1)
    tolerance: Seconds = Field(description="Downtime the workflow can absorb on paper procedures.")


class Topology(Model):
    """A whole estate: what runs where, how it recovers, and who recovers it."""

    name: str
    description: str = ""
    regions: dict[Name, Region] = Field(min_length=1)
    tiers: dict[Name, Tier] = Field(min_length=1)
    staff: dict[Name, StaffRole] = Field(default_factory=dict)
    services: dict[Name, Service] = Field(min_length=1)
    queues: dict[Name, Queue] = Field(default_factory=dict)
    workflows: dict[Name, Workflow] = Field(default_factory=dict)

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
