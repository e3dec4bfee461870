"""Synthetic estates of any size, grown from the reference hospital estate, for scale benchmarks.

An estate of about ``S`` services is the reference estate (``ehr-hybrid``, 21 services) and
``k - 1`` further copies of its 18 application services — every service but the DNS
resolvers and the identity provider, which the whole estate shares — so the mix of tiers,
strategies, runbooks, queues and workflows stays that of a real hospital estate (its figures
are cited in ``ehr-hybrid.yaml`` from /work/shared/REFERENCE-DATA.md). Copy ``i`` of service
``x`` is ``x-i``; it depends on its own copy's services, on the shared DNS and identity provider,
and its interface engine on the interface engine of copy ``(i - 1) // 2``: the copies form a
binary tree, so the estate's dependencies stay a DAG as deep as ``log2 k``. Every role's
headcount and call-in pool grow with the number of copies (each copy brings its own team),
except the incident commander and the clinical operations lead, who run one bridge
(and no shift beyond the model's 1,000 people).

``python benchmarks/estates.py 1000 -o estate.yaml`` writes one; the bundled ``region-loss``
drill runs on every size (it takes the on-prem data centre, which every copy lives in).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parent.parent / "drsim" / "data" / "topologies" / "ehr-hybrid.yaml"
#: Services every copy shares: one DNS (cloud and on-prem resolvers) and one identity provider.
SHARED = ("dns", "dns-onprem", "sso")
#: Roles that run the one bridge of the incident whatever the estate's size.
ONE_BRIDGE = ("incident-commander", "clinical-ops-lead")
#: The most people a shift may have (the model's limit): the largest estates' biggest teams stop there.
MAX_HEADCOUNT = 1000
#: The sizes the scale benchmark measures (services, approximately).
SIZES = (20, 200, 1000, 5000)


def reference() -> dict[str, Any]:
    """The reference estate, as its YAML document."""
    return yaml.safe_load(REFERENCE.read_text())


def copies_for(services: int) -> int:
    """Copies of the reference's application services for an estate of about ``services`` services."""
    own = len(reference()["services"]) - len(SHARED)
    return max(1, 1 + round((services - len(SHARED) - own) / own))


def _renamed(name: str, i: int, names: set[str]) -> str:
    """Service ``name`` in copy ``i`` (the shared services and copy 0 keep their names)."""
    return name if i == 0 or name in SHARED or name not in names else f"{name}-{i}"


def _rename_needs(value: Any, i: int, names: set[str]) -> Any:
    """A ``depends_on`` / ``needs`` list with each service renamed to copy ``i`` (``any_of`` groups too)."""
    if isinstance(value, str):
        return _renamed(value, i, names)
    if isinstance(value, list):
        return [_rename_needs(v, i, names) for v in value]
    if isinstance(value, dict):
        return {k: _rename_needs(v, i, names) if k == "any_of" else v for k, v in value.items()}
    return value


def _service_copy(doc: dict[str, Any], i: int, names: set[str]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    if "depends_on" in out:
        out["depends_on"] = _rename_needs(out["depends_on"], i, names)
    for part in ("restore", "steps"):
        for step in out.get("recovery", {}).get(part, []) or []:
            if isinstance(step, dict) and "needs" in step:
                step["needs"] = _rename_needs(step["needs"], i, names)
    return out


def estate(services: int) -> dict[str, Any]:
    """A topology document of about ``services`` services (see the module docstring)."""
    doc = reference()
    k = copies_for(services)
    names = set(doc["services"])
    own = [s for s in doc["services"] if s not in SHARED]
    out_services = dict(doc["services"])
    queues = dict(doc.get("queues") or {})
    workflows = dict(doc.get("workflows") or {})
    for i in range(1, k):
        for s in own:
            svc = _service_copy(doc["services"][s], i, names)
            if s == "interface-engine":  # the copies form a binary tree through their interface engines
                svc.setdefault("depends_on", []).append(_renamed("interface-engine", (i - 1) // 2, names))
            out_services[_renamed(s, i, names)] = svc
        for q, qd in (doc.get("queues") or {}).items():
            qc = copy.deepcopy(qd)
            qc["producer"], qc["consumer"] = _renamed(qd["producer"], i, names), _renamed(qd["consumer"], i, names)
            queues[f"{q}-{i}"] = qc
        for w, wd in (doc.get("workflows") or {}).items():
            wc = copy.deepcopy(wd)
            wc["needs"] = _rename_needs(wd["needs"], i, names)
            workflows[f"{w}-{i}"] = wc
    for role, rd in doc["staff"].items():
        if role in ONE_BRIDGE:
            continue
        for shift in rd.get("shifts", []):
            shift["headcount"] = min(int(shift["headcount"]) * k, MAX_HEADCOUNT)
        if isinstance(rd.get("call_in"), dict) and "available" in rd["call_in"]:
            rd["call_in"]["available"] = int(rd["call_in"]["available"]) * k
    doc["services"] = out_services
    doc["queues"] = queues
    doc["workflows"] = workflows
    doc["name"] = f"synthetic-{len(out_services)}"
    doc["description"] = (
        f"The reference hospital estate grown to {len(out_services)} services: {k} copies of its application "
        "services sharing one DNS and identity provider, staff scaled with the copies (benchmarks/estates.py)."
    )
    return doc


def write(services: int, path: str | Path) -> Path:
    """Write the estate of about ``services`` services to ``path`` as YAML; return the path."""
    path = Path(path)
    path.write_text(yaml.safe_dump(estate(services), sort_keys=False, width=120))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("services", type=int, help="about how many services")
    parser.add_argument("-o", "--out", required=True, help="the YAML file to write")
    args = parser.parse_args(argv)
    p = write(args.services, args.out)
    print(f"wrote {p}: {len(estate(args.services)['services'])} services")
    return 0


if __name__ == "__main__":
    sys.exit(main())
