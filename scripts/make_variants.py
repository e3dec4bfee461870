"""Derive the DR-strategy variants of the reference estate from ``ehr-hybrid.yaml``.

The reference estate mixes strategies (a warm-standby EHR database, a
pilot-light interface engine, a backup-restore billing system...). Planners
compare it with the same estate run *entirely* under one strategy, and with
the legacy estate before any cloud DR:

* ``active-active.yaml``  every protected service runs live in both sites;
  health checks move traffic within minutes and nobody has to decide anything;
* ``warm-standby.yaml``   a scaled-down running copy is scaled up and switched
  to after a declaration;
* ``pilot-light.yaml``    data is replicated but compute is idle: it is
  started from images after a declaration;
* ``backup-restore.yaml`` nothing runs in the DR region: the environment is
  provisioned from infrastructure code and data restored from the last backup;
* ``legacy-onprem.yaml``  everything in the hospital's data centre, no DR copy:
  services come back only when the site does (backups still go to an offsite
  vault).

Every variant keeps the reference's regions, tiers, staff, queues and
workflows, so every bundled drill runs against every variant and the
comparison isolates the DR strategy. Runbooks follow one skeleton per
service (:data:`SERVICES`): the switch-over work people do (fence the old
primary, promote the replica, repoint clients, restart channels) and the
automated compute step the strategies differ in (scale a running standby up,
start idle compute from images), then the reference's validation. Under
backup-restore the environment must first be provisioned and the data
restored from the last backup, so those automated steps come first.

Staff priority: people take waiting work first come, first served, and only
ties go to the more critical tier. Putting the human switch-over steps first
makes them all ready at the moment of the declaration, so a scarce night-shift
DBA or network engineer starts on tier-0 work before tier-2 work — as an
incident commander would direct — instead of on whichever service's automated
step happened to finish first. The serial chain takes the same time either
way when nobody is waiting. Steps keep the same name and position across the
warm-standby and pilot-light variants, so their durations are common random
numbers in a comparison.

Not varied: ``dns`` (a managed, health-checked global service, live in every
variant), ``bca-web`` (the continuity copy keeps its own arrangement), and the
services with no DR at all in the reference (pharmacy cabinets and PACS links,
whose vendor tunnels end on premises, and the backup vault).

Run ``python scripts/make_variants.py`` after changing ``ehr-hybrid.yaml`` or
this script; ``--check`` exits 1 if a committed variant differs from what this
script generates (the test suite runs the same check).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGIES = ROOT / "drsim" / "data" / "topologies"
REFERENCE = TOPOLOGIES / "ehr-hybrid.yaml"

# ------------------------------------------------------------------ strategy building blocks
# Durations cite /work/shared/REFERENCE-DATA.md by section; [EST] = our estimate.

#: Active-active: health checks fail and the traffic manager moves users to the live copy.
#: §3 Route 53: 30 s x 3 failures + 60 s TTL ~ 2.5 min, fast setting ~1.5 min [D].
ACTIVE_STEP = {"name": "health checks fail and traffic shifts to the live copy", "duration": "uniform(1m30s, 2m30s)"}

#: Step 0 of every other runbook: bring the DR compute up to production size.
COMPUTE = {
    # §3 EC2 launch to serving 2-5 min [EST], ASG warm-up [P]: the copy is running, only resized.
    "warm-standby": {"name": "scale the running standby up to production size", "duration": "triangular(3m, 5m, 15m)"},
    # Instances are started from images and warmed up: 2-5 min launch + 300 s ASG grace (§3 [P]) + app start [EST].
    "pilot-light": {"name": "start the idle compute from images", "duration": "lognormal(p50=15m, p95=40m)"},
    # Nothing exists yet: the whole environment is built by the pipeline [EST] (as the reference's billing runbook).
    "backup-restore": {
        "name": "provision the environment from infrastructure code",
        "duration": "lognormal(p50=1h, p95=3h)",
    },
}

#: Replication lag at the failure, by strategy (services that keep replicated data).
LAG = {
    # §3 Aurora Global Database: lag typically < 1 s [P].
    "active-active": "lognormal(p50=500ms, p95=2s)",
    # Continuous async shipping: seconds, tens of seconds when busy [EST] (the reference's ehr-db).
    "warm-standby": "lognormal(p50=2s, p95=30s)",
    # Periodic log shipping to a cheap, stopped-compute copy: minutes (§7 pilot light: RPO minutes [P]) [EST].
    "pilot-light": "lognormal(p50=2m, p95=10m)",
}

#: Nightly image/configuration backups for services that keep no data of their own,
#: which backup-restore needs to rebuild them [EST].
STATELESS_BACKUP = {"backup_interval": "24h", "backup_retention": "35d"}

DBA_PROMOTE = "lognormal(p50=10m, p95=30m)"  # [EST], as the reference's ehr-db promotion

#: What each protected service costs to run in production, a year (USD). Illustrative [EST]:
#: REFERENCE-DATA has no cost figures; replace them with your own.
PRODUCTION = {
    "sso": 60_000,
    "ehr-db": 400_000,
    "ehr-app": 300_000,
    "registration": 60_000,
    "order-entry": 80_000,
    "emar": 60_000,
    "chart-viewer": 50_000,
    "ed-tracking": 30_000,
    "interface-engine": 120_000,
    "lab-feed": 40_000,
    "fhir-api": 50_000,
    "documents": 60_000,
    "patient-portal": 40_000,
    "billing": 80_000,
    "analytics": 150_000,
}

#: A DR arrangement's cost as shares of the service's production cost: (one_off, per_year).
#: Per year follows each variant's "Running cost" line (active-active ~100% more, warm standby
#: 30-50%, pilot light 10-20%, backup-restore a few percent) [EST]; the one-off set-up (building
#: the standby, the runbooks, the first test) is our estimate [EST].
STRATEGY_COST = {
    "active-active": (0.6, 1.0),
    "warm-standby": (0.25, 0.4),
    "pilot-light": (0.15, 0.15),
    "backup-restore": (0.05, 0.05),
}


def _amount(value: float) -> str:
    """``75000`` -> ``'75k'``: an amount as the topology files write it."""
    return f"{value / 1000:g}k"


def strategy_cost(name: str, strategy: str) -> dict | None:
    """The ``recovery.cost`` of service ``name`` under ``strategy`` (None: no DR arrangement to pay for)."""
    if strategy not in STRATEGY_COST or name not in PRODUCTION:
        return None
    once, year = STRATEGY_COST[strategy]
    return {
        "currency": "USD",
        "one_off": _amount(once * PRODUCTION[name]),
        "per_year": _amount(year * PRODUCTION[name]),
    }


def reference_cost_problems(reference: dict) -> list[str]:
    """Services of the reference whose ``recovery.cost`` is not :func:`strategy_cost` of their strategy."""
    out = []
    for name in SERVICES:
        rec = reference["services"][name]["recovery"]
        want = strategy_cost(name, rec["strategy"])
        if rec.get("cost") != want:
            out.append(f"ehr-hybrid.yaml: services.{name}.recovery.cost is {rec.get('cost')}, expected {want}")
    return out


# ------------------------------------------------------------------ per-service skeletons
# pre: work before the data is brought up (fencing the old primary against split brain).
# core: the switch-over work after compute and data are up (same in every strategy but active-active).
# promote: the step that makes the replicated data primary (warm standby, pilot light); a service
#          with `promote` restores its data from backup in its place under backup-restore.
SERVICES: dict[str, dict] = {
    "sso": {
        "core": [
            {
                "name": "switch federation to the secondary IdP in cloud-west",
                "duration": "lognormal(p50=15m, p95=45m)",
                "role": "oncall-engineer",
            },
            {
                "name": "repoint the login hostname to the secondary IdP",
                "duration": "triangular(5m, 10m, 20m)",
                "role": "network-engineer",
            },
            {"name": "DNS caches expire", "duration": "60s"},
        ],
    },
    "ehr-db": {
        "pre": [
            {
                "name": "fence the on-prem primary (cut the replication link)",
                "duration": "lognormal(p50=8m, p95=25m)",
                "role": "network-engineer",
            },
        ],
        "promote": {"name": "promote the cloud copy of the database", "duration": DBA_PROMOTE, "role": "dba"},
        "core": [
            {
                "name": "repoint EHR connection strings to the cloud copy",
                "duration": "triangular(5m, 10m, 25m)",
                "role": "oncall-engineer",
            },
        ],
    },
    "ehr-app": {
        "core": [
            {
                "name": "apply DR configuration and start EHR services",
                "duration": "lognormal(p50=15m, p95=45m)",
                "role": "oncall-engineer",
            },
        ],
    },
    "registration": {
        "core": [
            {
                "name": "enable registration and bed board in the DR environment",
                "duration": "triangular(5m, 10m, 30m)",
                "role": "oncall-engineer",
            },
        ],
    },
    "order-entry": {
        "core": [
            {
                "name": "enable CPOE and check order routing tables",
                "duration": "triangular(5m, 10m, 30m)",
                "role": "oncall-engineer",
            },
        ],
    },
    "emar": {
        "core": [
            {
                "name": "repoint the BCMA scanner gateway to the cloud environment",
                "duration": "lognormal(p50=15m, p95=45m)",
                "role": "network-engineer",
            },
        ],
    },
    "chart-viewer": {
        # §3 Aurora Global promote < 1 min [P]
        "promote": {"name": "promote the cloud-west copy of the viewer dataset", "duration": "1m"},
        "core": [
            {
                "name": "shift viewer traffic to cloud-west",
                "duration": "triangular(5m, 10m, 30m)",
                "role": "oncall-engineer",
            },
        ],
    },
    "ed-tracking": {
        "core": [
            {
                "name": "repoint ED workstations' board URL",
                "duration": "triangular(5m, 10m, 20m)",
                "role": "oncall-engineer",
            },
        ],
    },
    "interface-engine": {
        "core": [
            {
                "name": "repoint sender and receiver endpoints and VPN tunnels",
                "duration": "lognormal(p50=30m, p95=90m)",
                "role": "network-engineer",
            },
            {
                "name": "start channels and resend from the last checkpoint",
                "duration": "lognormal(p50=20m, p95=60m)",
                "role": "interface-analyst",
            },
        ],
    },
    "lab-feed": {
        "core": [
            {
                "name": "connect the cloud LIS interface node to the lab over VPN",
                "duration": "lognormal(p50=20m, p95=60m)",
                "role": "network-engineer",
            },
            {
                "name": "restart LIS channels",
                "duration": "triangular(5m, 10m, 30m)",
                "role": "interface-analyst",
                # LIS channels connect through the interface engine: they restart once its channels run
                "needs": ["interface-engine/start channels and resend from the last checkpoint"],
            },
        ],
    },
    "fhir-api": {
        "core": [
            {
                "name": "switch FHIR endpoints to cloud-west",
                "duration": "triangular(5m, 10m, 20m)",
                "role": "oncall-engineer",
            },
        ],
    },
    "documents": {
        "promote": {"name": "promote the cloud-west index replica", "duration": DBA_PROMOTE, "role": "dba"},
        "core": [
            {
                "name": "switch document endpoints to cloud-west",
                "duration": "triangular(5m, 10m, 20m)",
                "role": "oncall-engineer",
            },
        ],
    },
    "patient-portal": {
        "core": [
            {
                "name": "switch portal DNS and post a banner",
                "duration": "triangular(5m, 10m, 30m)",
                "role": "oncall-engineer",
            },
        ],
    },
    "billing": {
        "promote": {"name": "promote the billing database copy", "duration": DBA_PROMOTE, "role": "dba"},
        "core": [
            {
                "name": "reconnect the clearinghouse (SFTP/AS2)",
                "duration": "lognormal(p50=1h, p95=4h)",
                "role": "network-engineer",
            },
        ],
    },
    "analytics": {
        "promote": {"name": "promote the warehouse copy", "duration": DBA_PROMOTE, "role": "dba"},
        "core": [
            {
                "name": "switch dashboards to cloud-west",
                "duration": "triangular(5m, 10m, 30m)",
                "role": "oncall-engineer",
            },
        ],
    },
}

#: Services whose reference arrangement every variant keeps, and why.
KEPT = {
    "dns": "managed global DNS with health checks: live in every variant",
    "dns-onprem": "the on-prem domain controllers' DNS: on-prem services use it or the cloud DNS",
    "bca-web": "the business-continuity copy keeps its own arrangement",
    "pharmacy-feed": "no DR: the vendor VPN ends on premises",
    "imaging-refs": "no DR: legacy PACS integration",
    "backup-vault": "the offsite immutable vault itself",
}

# ------------------------------------------------------------------ what each variant says about itself

VARIANTS: dict[str, dict] = {
    "active-active": {
        "title": "Reference EHR estate under multi-site active-active: every protected service runs live in two sites and fails over by itself.",
        "cost": "Costs the most to run: production twice over, always on (roughly 100% more than one site), plus the engineering of multi-site writes [EST].",
        "band": "REFERENCE-DATA §7 [P]: RPO near zero, RTO potentially zero - no human decision is on the path.",
        "description": "The reference EHR estate with every protected service active-active across its home site and its DR region: health-checked traffic moves within minutes, replication lag under a second.",
    },
    "warm-standby": {
        "title": "Reference EHR estate under warm standby: a scaled-down running copy of every protected service, scaled up and switched to after a declaration.",
        "cost": "Costs a scaled-down second copy running all the time: roughly 30-50% of production on top [EST].",
        "band": "REFERENCE-DATA §7 [P]: RPO seconds, RTO minutes - plus the human decision to fail over.",
        "description": "The reference EHR estate with every protected service on warm standby: async replication (seconds), a running scaled-down copy scaled up after the incident commander declares.",
    },
    "pilot-light": {
        "title": "Reference EHR estate under pilot light: data replicated, compute idle and started from images after a declaration.",
        "cost": "Costs replicated storage and a minimal always-on core: roughly 10-20% of production on top [EST].",
        "band": "REFERENCE-DATA §7 [P]: RPO minutes, RTO tens of minutes - plus the human decision to fail over.",
        "description": "The reference EHR estate with every protected service on pilot light: data shipped every few minutes to a copy whose compute is off until a declaration starts it from images.",
    },
    "backup-restore": {
        "title": "Reference EHR estate under backup and restore: nothing runs in the DR region; environments are rebuilt from code and data from the last backup.",
        "cost": "Costs the least to run: backup storage and restore tests only, a few percent of production [EST].",
        "band": "REFERENCE-DATA §7 [P]: RPO hours, RTO up to 24 h - plus the human decision to invoke DR.",
        "description": "The reference EHR estate under backup and restore: every protected service is provisioned from infrastructure code in its DR region and its data restored from the last backup.",
    },
    "legacy-onprem": {
        "title": "Legacy baseline: the whole EHR estate in the hospital data centre with no DR copy; services come back only when the site does.",
        "cost": "Costs nothing extra for DR (backups go to an offsite vault), but the data centre is a single point of failure for every clinical system.",
        "band": "No DR strategy: RTO is the site's outage plus restarts; RPO is zero when the site returns intact.",
        "description": "The EHR estate before migration: every service in the hospital data centre, no standby anywhere; backups go to the offsite immutable vault, restored only after data corruption.",
    },
}

# ------------------------------------------------------------------ building


def _step(s: dict) -> dict:
    return copy.deepcopy(s)


def _strategy_recovery(name: str, ref: dict, strategy: str) -> dict:
    """The service's ``recovery`` and ``data`` under ``strategy`` (derived from its reference entry)."""
    spec = SERVICES[name]
    rec = copy.deepcopy(ref["recovery"])
    data = copy.deepcopy(ref.get("data"))
    rec["strategy"] = strategy
    rec.pop("validate", None)
    if strategy == "active-active":
        rec["steps"] = [_step(ACTIVE_STEP)]
        if data is not None and data.get("size") is not None:
            repl = data.get("replication") or {}
            if repl.get("mode") != "sync":
                data["replication"] = {"mode": "async", "lag": LAG["active-active"]}
    else:
        pre = [_step(x) for x in spec.get("pre", [])]
        core = [_step(x) for x in spec["core"]]
        if strategy == "backup-restore":
            # nothing exists in the DR region: build it, restore the data, then switch over
            steps = [_step(COMPUTE[strategy])]
            if data is not None and data.get("size") is not None:
                steps.append({"name": "restore data from the last backup", "restore": True, "duration": "30m"})
            steps += pre + core
            if data is None:
                data = dict(STATELESS_BACKUP)
            data.pop("replication", None)
            for k, v in STATELESS_BACKUP.items():
                data.setdefault(k, v)
        else:
            # people start the switch-over as soon as failover is declared; the automated
            # compute step runs last (see the module docstring on staff priority)
            steps = [*pre, *([_step(spec["promote"])] if "promote" in spec else []), *core, _step(COMPUTE[strategy])]
            if data is not None and (data.get("replication") is not None or "promote" in spec):
                repl = data.get("replication") or {}
                if repl.get("mode") != "sync":
                    ref_lag = repl.get("lag")
                    keep_ref = strategy == "warm-standby" and ref_lag is not None
                    data["replication"] = {"mode": "async", "lag": ref_lag if keep_ref else LAG[strategy]}
        rec["steps"] = steps
        if "validate" in ref["recovery"]:
            rec["validate"] = copy.deepcopy(ref["recovery"]["validate"])
    if strategy not in ("warm-standby", "pilot-light"):
        # a failback returns from a standby copy; active-active has no primary to return to,
        # backup-restore runs where it was rebuilt
        rec.pop("failback", None)
    # keep the key order of the reference: strategy, standby_region, cost, steps, validate, restore, failback
    cost = strategy_cost(name, strategy)
    if cost is not None:
        rec["cost"] = cost
    order = ["strategy", "standby_region", "cost", "steps", "validate", "restore", "failback"]
    rec = {k: rec[k] for k in order if k in rec}
    return rec, data


#: How each arrangement is described after a service's own description.
PHRASE = {
    "active-active": "live in {home} and {standby} (active-active)",
    "warm-standby": "warm standby in {standby}",
    "pilot-light": "pilot light in {standby}",
    "backup-restore": "rebuilt from backup in {standby}",
    "none": "no DR copy",
}
_STRATEGY_WORDS = re.compile(r"warm standby|warm-standby|pilot-light|pilot light|active-active|standby")


def _describe(ref: dict, strategy: str, home: str, standby: str | None) -> str:
    """The reference description, its part about the DR arrangement replaced by ``strategy``'s."""
    desc = ref.get("description", "")
    head, _, tail = desc.partition("; ")
    if tail and _STRATEGY_WORDS.search(tail):
        desc = head
    return f"{desc.rstrip('.')}; {PHRASE[strategy].format(home=home, standby=standby)}."


def _legacy(name: str, ref: dict) -> dict:
    out = copy.deepcopy(ref)
    out["description"] = _describe(ref, "none", "", None) if name != "backup-vault" else ref["description"]
    if name != "backup-vault":
        out["region"] = "onprem-dc"
    out.pop("local_ha", None)
    restore = out["recovery"].get("restore")
    out["recovery"] = {"strategy": "none"}
    if restore:
        out["recovery"]["restore"] = restore
    if out.get("data") is not None:
        out["data"].pop("replication", None)
    return out


def build(variant: str, reference: dict) -> dict:
    """The topology document of ``variant``, derived from the reference document."""
    doc = copy.deepcopy(reference)
    info = VARIANTS[variant]
    doc["name"] = variant
    doc["description"] = info["description"]
    services = {}
    for name, ref in reference["services"].items():
        if variant == "legacy-onprem":
            services[name] = _legacy(name, ref)
        elif name in SERVICES:
            s = copy.deepcopy(ref)
            rec, data = _strategy_recovery(name, ref, variant)
            s["recovery"] = rec
            s["description"] = _describe(ref, variant, ref["region"], rec.get("standby_region"))
            if data is not None:
                s["data"] = data
            # keep the reference's key order, adding data where it had none
            keys = list(ref) + [k for k in ("data",) if k not in ref and k in s]
            services[name] = {k: s[k] for k in sorted(s, key=lambda k: keys.index(k) if k in keys else len(keys))}
        else:
            services[name] = copy.deepcopy(ref)
    doc["services"] = services
    return doc


class _Dumper(yaml.SafeDumper):
    pass


_CLOCK = re.compile(r"^\d{1,2}:\d{2}$")


def _str(dumper, value):
    style = "'" if _CLOCK.match(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _cost_total(doc: dict) -> str:
    """What the services' DR arrangements cost in all: ``USD 1.23M to set up, 1.9M a year``."""
    costs = [s["recovery"]["cost"] for s in doc["services"].values() if "cost" in s["recovery"]]
    if not costs:
        return "nothing"
    once = sum(float(c.get("one_off", "0k")[:-1]) for c in costs)
    year = sum(float(c.get("per_year", "0k")[:-1]) for c in costs)
    return f"USD {once:,.0f}k to set up, {year:,.0f}k a year"


def render(variant: str, reference_text: str) -> str:
    """The file text of ``variant``: a header saying what it is and costs, then the YAML."""
    reference = yaml.safe_load(reference_text)
    doc = build(variant, reference)
    info = VARIANTS[variant]
    header = [
        f"# {info['title']}",
        "#",
        f"# Running cost: {info['cost']}",
        f"# Expected band: {info['band']}",
        f"# DR arrangements as costed (recovery.cost, illustrative USD [EST]): {_cost_total(doc)}.",
        "#",
        "# GENERATED by scripts/make_variants.py from ehr-hybrid.yaml - do not edit by hand; change the",
        "# script or the reference and re-run it. Regions, tiers, staff, profiles, queues and workflows are the",
        "# reference's; see ehr-hybrid.yaml for what every figure means and where it comes from.",
    ]
    if variant == "legacy-onprem":
        header += [
            "# Every service runs in onprem-dc with no standby and no zone failover (the cloud regions stay",
            "# declared so every bundled drill runs; only the offsite backup vault lives there). Restore",
            "# runbooks for corrupted data are kept.",
        ]
    else:
        header += ["#", f"# Every protected service uses {variant}. Kept as in the reference:"]
        header += [f"#   {k}: {why}" for k, why in KEPT.items()]
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=200, allow_unicode=True)
    return "\n".join(header) + "\n\n" + body


def generate() -> dict[str, str]:
    """Every variant's file name and text."""
    text = REFERENCE.read_text()
    return {f"{v}.yaml": render(v, text) for v in VARIANTS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a committed variant is out of date")
    args = ap.parse_args(argv)
    problems = reference_cost_problems(yaml.safe_load(REFERENCE.read_text()))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    stale = []
    for fname, text in generate().items():
        path = TOPOLOGIES / fname
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(fname)
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python scripts/make_variants.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
