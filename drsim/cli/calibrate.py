"""``drsim calibrate``: fit the estate's distributions to incident exports and chaos journals."""

from __future__ import annotations

import json

import click

from .common import EXIT_OK, handle_errors


@click.command()
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("--map", "mapping", required=True, metavar="MAPPING.yaml", help="Which model element each record feeds.")
@click.option("-o", "--out", required=True, metavar="OVERLAY.yaml", help="Write the fitted overlay here.")
@click.option(
    "--topology",
    "-t",
    metavar="NAME|PATH",
    default=None,
    envvar="DRSIM_TOPOLOGY",
    show_envvar=True,
    help="The estate, when the mapping names none (default: ehr-hybrid).",
)
@click.option("--drill", metavar="NAME|PATH", default=None, help="The drill, for drill.* elements the mapping names.")
@click.option(
    "--bootstrap", type=click.IntRange(0), default=None, help="Bootstrap resamples (default: the mapping's, 200)."
)
@click.option("--seed", type=click.IntRange(0), default=None, help="Bootstrap seed (default: the mapping's, 0).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--report",
    type=click.Choice(["md", "html"]),
    default=None,
    help="Print the calibration report instead (every element's fit, the families it beat by AIC, goodness of "
    "fit, P50/P90/P95 with bootstrap intervals, the source files' SHA-256; html with a chart per element).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing OVERLAY file.")
@handle_errors
def calibrate(sources, mapping, out, topology, drill, bootstrap, seed, fmt, report, force):
    """Fit distributions to SOURCE files and write them as an overlay.

    SOURCE files are PagerDuty incident exports, Opsgenie alert exports, Chaos
    Toolkit journal.json files or steps CSVs (element,duration or
    element,start,end); the format is read from each file's content. The
    mapping says which model element (a dotted path, as --grid takes it) each
    record feeds. Each element gets the best of lognormal, gamma, Weibull and
    exponential by AIC, fitted by maximum likelihood with censored records
    (unacknowledged before escalation, still open) included. Apply the result
    with drsim drill|sweep DRILL --calibration OVERLAY.yaml. Exits 2 on bad input,
    including an element with too few records; nothing is written then.
    """
    # imported on use: keeps drsim --help fast
    from ..calibrate.run import calibrate as run_calibration
    from ..calibrate.run import describe
    from ..io import atomic_write, check_writable

    check_writable(out, force)
    result = run_calibration(sources, mapping, topology, drill, bootstrap=bootstrap, seed=seed)
    atomic_write(out, result.overlay_text(), force=force)
    if report is not None:
        # imported on use: keeps drsim --help fast
        from ..report.calibration_report import calibration_document
        from ..report.pages import render_document

        click.echo(render_document(calibration_document(result), report), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(result.to_json_data(), indent=2, default=str))
    else:
        for line in describe(result):
            click.echo(line)
    click.echo(f"wrote {out}", err=fmt != "table" or report is not None)
    raise SystemExit(EXIT_OK)


def register(main) -> None:
    main.add_command(calibrate)
