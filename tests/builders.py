"""Small estates and drills built in code, for tests that compare with closed forms."""

from __future__ import annotations

import copy

import yaml

from drsim.model.loader import drill_from_text, topology_from_text
from drsim.plan import compile_plan

#: Two shifts covering every minute of every day (a shift cannot start and end at the same time).
ROUND_THE_CLOCK = ({"name": "am", "start": "00:00", "end": "12:00"}, {"name": "pm", "start": "12:00", "end": "00:00"})


def role(headcount=1, acknowledge="1m", **extra):
    """A role with the same headcount round the clock: its capacity never changes during a drill."""
    return {"shifts": [{**s, "headcount": headcount, "acknowledge": acknowledge} for s in ROUND_THE_CLOCK], **extra}


def base_topology(services: dict, staff: dict | None = None, queues=None, workflows=None, tiers=None) -> dict:
    return {
        "name": "test-estate",
        "regions": {
            "site": {"kind": "datacenter"},
            "dr": {"kind": "cloud-region"},
            "elsewhere": {"kind": "cloud-region"},
        },
        "tiers": tiers or {"tier0": {"rto": "15m", "rpo": "1m"}, "tier1": {"rto": "4h", "rpo": "1h"}},
        "staff": staff if staff is not None else {"ic": role(), "dba": role(), "oncall": role()},
        "services": services,
        "queues": queues or {},
        "workflows": workflows or {},
    }


def auto_service(steps, depends_on=(), region="site", tier="tier0", **extra) -> dict:
    """An active-active service: its runbook starts at the fault, no decision needed."""
    return {
        "tier": tier,
        "region": region,
        "depends_on": list(depends_on),
        "recovery": {"strategy": "active-active", "standby_region": "dr", "steps": steps},
        **extra,
    }


def base_drill(**over) -> dict:
    d = {
        "name": "test-drill",
        "start": "2026-03-11T10:00",
        "faults": [{"kind": "region-loss", "targets": ["site"]}],
        "detection": {"delay": "1m"},
        "response": {
            "page": ["ic"],
            "triage": {"role": "ic", "duration": "1m"},
            "declare": {"role": "ic", "duration": "1m"},
        },
    }
    d.update(over)
    return d


def plan_of(topology: dict, drill: dict):
    t = topology_from_text(yaml.safe_dump(topology, sort_keys=False), "topology.yaml")
    d = drill_from_text(yaml.safe_dump(drill, sort_keys=False), t, "drill.yaml")
    return compile_plan(t, d)


def variant(doc: dict, path: str, value):
    """A deep copy of ``doc`` with the dotted ``path`` set to ``value``."""
    out = copy.deepcopy(doc)
    cur = out
    keys = path.split(".")
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur[k]
    cur[keys[-1]] = value
    return out


def run_both(plan, seed: int, n: int, des_n: int = 300):
    """Metrics from the vectorized engine on ``n`` replicates, after checking that the
    SimPy engine gives identical task times on the first ``des_n`` of them."""
    import numpy as np

    from drsim.engine import des, vectorized
    from drsim.engine.draws import Draws
    from drsim.engine.outcomes import evaluate

    draws = Draws.sample(plan.elements(), seed, n)
    finish = vectorized.run_many(plan, draws)
    head = Draws(draws.seed, draws.start, min(des_n, n), {k: v[:des_n] for k, v in draws.values.items()})
    np.testing.assert_array_equal(des.run_many(plan, head).finish, finish.finish[: head.n])
    return evaluate(plan, draws, finish)


def two_jobs_for_one_dba(folder) -> tuple[str, str]:
    """Write a drill and an estate of two services whose runbooks share one DBA (a few metrics,
    so chunks are small and quick) into ``folder``; return their paths (drill, topology)."""
    services = {
        "db": auto_service([{"name": "promote", "duration": "lognormal(p50=5m, p95=15m)", "role": "dba"}]),
        "app": auto_service(
            [{"name": "restart", "duration": "exponential(mean=5m)", "role": "dba"}], depends_on=["db"], tier="tier1"
        ),
    }
    topo = folder / "topo.yaml"
    topo.write_text(yaml.safe_dump(base_topology(services, staff={"ic": role(), "dba": role()}), sort_keys=False))
    drill = folder / "drill.yaml"
    drill.write_text(yaml.safe_dump(base_drill(), sort_keys=False))
    return str(drill), str(topo)
