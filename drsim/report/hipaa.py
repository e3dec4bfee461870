"""The contingency-plan evidence pack (45 CFR 164.308(a)(7)) as a printable document.

One section per implementation specification — the rule's text, the plan as the
estate models it, what was tested and when with its results against the targets,
the gaps with their remediation owners, and, in so many words, what the pack
cannot evidence — then the applications and data criticality table and sign-off
blocks. Rendered like every drsim pack (:mod:`drsim.report.document`): HTML, or
PDF through :mod:`drsim.report.pages`. The evidence itself is assembled by
:mod:`drsim.analysis.contingency`.
"""

from __future__ import annotations

from ..analysis.contingency import EvidencePack, Finding, Result, Test
from .document import Bullets, Document, Heading, Keep, Para, Ruled, Section, Table
from .wording import dur

#: Who signs the pack: the roles the Security Rule and a hospital's governance expect.
SIGNATORIES = (
    "Prepared by (IT service continuity / DR lead)",
    "Reviewed by (Security Official, 45 CFR 164.308(a)(2))",
    "Approved by (executive sponsor)",
)


def _value(x: float | None, unit: str) -> str:
    if x is None:
        return "never"
    return f"{x:.3f}" if unit == "probability" else dur(x)


def _result(r: Result) -> str:
    return f"{r.name}: {_value(r.measured, r.unit)} against {_value(r.threshold, r.unit)}"


def _results(t: Test) -> str:
    if not t.results:
        return "no target of this kind recorded"
    text = f"{t.met} of {len(t.results)} met"
    missed = t.missed
    if missed:
        shown = "; ".join(_result(r) for r in missed[:3])
        more = f"; and {len(missed) - 3} more" if len(missed) > 3 else ""
        text += f"; missed: {shown}{more}"
    return text


def _standing(f: Finding) -> str:
    """A specification's standing at a glance."""
    if f.spec.letter == "E":
        return "derived from the estate" + (f"; {len(f.gaps)} inconsistency(ies)" if f.gaps else "")
    if not f.tests:
        return "NOT EVIDENCED: no test in the last 12 months"
    return f"{len(f.tests)} test(s); {len(f.gaps)} gap(s)"


def _section(f: Finding) -> Section:
    spec = f.spec
    blocks: list = [
        Heading(f"({spec.letter}) {spec.name} - {spec.status}", 2),
        Para(f"{spec.citation}: {spec.text}", "quote"),
        Heading("The plan as modelled", 3),
        Bullets(list(f.plan) or ["nothing declared in the estate"]),
        Heading("What was tested", 3),
    ]
    if f.tests:
        blocks.append(
            Table(
                ["Run", "Day", "Drill", "How", "Fault kinds", "Results against targets"],
                [
                    [
                        str(t.run_id),
                        t.day.isoformat(),
                        t.drill,
                        "one replay" if t.n == 1 else f"sweep of {t.n}",
                        ", ".join(t.kinds) or "not known",
                        _results(t),
                    ]
                    for t in f.tests
                ],
                weights=[0.5, 1.0, 1.4, 1.0, 1.3, 4.0],
                nowrap=2,
            )
        )
    elif spec.letter == "E":
        blocks.append(Para("Not a test: the analysis below is derived from the estate's tiers and workflows."))
    else:
        blocks.append(Para("Nothing in the last 12 months.", "strong"))
    blocks.append(Heading("Gaps and remediation owners", 3))
    if f.gaps:
        blocks.append(
            Table(
                ["Gap", "Remediation owner", "Target date", "Closed"],
                [[g.what, g.owner, "", ""] for g in f.gaps],
                weights=[5.0, 1.6, 1.0, 0.8],
            )
        )
    else:
        blocks.append(Para("None found."))
    blocks += [Heading("What this pack cannot evidence", 3), Bullets(list(f.cannot) or ["nothing further"])]
    return Section(f"spec-{spec.letter.lower()}", blocks, new_page=True)


def _criticality_section(pack: EvidencePack) -> Section:
    rows = [
        [
            c.service,
            c.tier,
            dur(c.rto),
            dur(c.rpo),
            c.strategy,
            ", ".join(c.workflows) or "-",
            str(len(c.needed_by)),
        ]
        for c in pack.criticality
    ]
    flows = [[n, dur(tol), ", ".join(services)] for n, tol, services in pack.workflows]
    return Section(
        "criticality",
        [
            Heading("Applications and data criticality", 2),
            Para(
                "Services, most critical tier first, with the clinical workflows that need them (shortest "
                "tolerance first) and how many other services depend on them."
            ),
            Table(
                ["Service", "Tier", "RTO", "RPO", "DR strategy", "Workflows needing it", "Depended on by"],
                rows,
                weights=[1.3, 0.7, 0.7, 0.7, 1.1, 3.0, 0.9],
                nowrap=1,
            ),
            Heading("Clinical workflows", 3),
            Table(["Workflow", "Tolerance on paper", "Needs"], flows, weights=[1.5, 1.0, 4.0], nowrap=1),
        ],
        new_page=True,
        landscape=False,
    )


def _sign_off() -> Section:
    blocks: list = [
        Heading("Sign-off", 2),
        Para(
            "By signing, each signatory confirms having reviewed this evidence, its gaps and what it cannot "
            "evidence, and agrees the remediation owners and target dates above."
        ),
    ]
    blocks += [
        Keep([Heading(who, 3), Ruled(1, "Name"), Ruled(1, "Signature"), Ruled(1, "Date")]) for who in SIGNATORIES
    ]
    return Section("sign-off", blocks, new_page=True)


def hipaa_document(pack: EvidencePack) -> Document:
    """The evidence pack: a summary, one section per specification, the criticality analysis, sign-off."""
    title = "Contingency plan evidence - 45 CFR 164.308(a)(7)"
    summary = Table(
        ["Specification", "Status", "Standing"],
        [[f"({f.spec.letter}) {f.spec.name}", f.spec.status, _standing(f)] for f in pack.findings],
        weights=[2.6, 1.0, 3.0],
        emphasis={i for i, f in enumerate(pack.findings) if not f.tests and f.spec.letter != "E"},
    )
    not_evidenced = [c for f in pack.findings for c in f.cannot if not f.tests and f.spec.letter != "E"]
    cover: list = [
        Heading(title, 1),
        Para(
            f"Estate: {pack.estate}. Evidence as of {pack.as_of.isoformat()}; tests count from "
            f"{pack.window_start.isoformat()} (12 months). History holds {pack.runs_total} run(s) up to that "
            f"day, {pack.runs_in_window} in the window.",
            "strong",
        ),
        Para(
            "The evidence is drsim's record of simulated exercises (drsim drill and drsim sweep) against the "
            "estate as modelled, and the estate's own declarations. A simulation is evidence about the plan; "
            "it does not replace a restore or failover actually performed, and the pack says where that matters.",
            "note",
        ),
        Heading("Summary", 2),
        summary,
    ]
    if not_evidenced:
        cover += [Heading("Not evidenced", 2), Bullets(not_evidenced)]
    sections = [Section("cover", cover, new_page=False)]
    sections += [_section(f) for f in pack.findings]
    sections += [_criticality_section(pack), _sign_off()]
    footer = f"drsim contingency plan evidence - {pack.estate} - as of {pack.as_of.isoformat()}"
    return Document(title, footer, sections)


__all__ = ["SIGNATORIES", "hipaa_document"]
