"""Comparisons, sensitivity and advice as tables for people, and as CSV or JSON for machines.

Each analysis of :mod:`drsim.analysis` returns a result with a tidy frame
(``to_frame()``); this module lays those results out for a terminal:

* a comparison of estates (:func:`render_comparison`): per metric, each
  estate's P50, P90 and P(meet) with 95% intervals, and its difference from
  the baseline estate;
* one-at-a-time sensitivity (:func:`render_sensitivity`): each parameter's
  value and effect at the low and high scale factors, biggest swing first,
  with Sobol indices when computed;
* advice (:func:`render_advice`): candidate changes, best first, each with its
  effect, its 95% interval and whether it is shown to help; with a budget
  (:func:`render_budgeted_advice`), each change's cost and what it buys per
  100k of it, the combinations found within the budget, and the one that buys most.

Durations are written as people read them (``1h52m``), differences with a
sign, probabilities to three decimals; ``-`` stands for a value that does not
exist (a percentile of a metric some replicates never reach, say).
"""

from __future__ import annotations

import math

from rich.console import Console, JustifyMethod
from rich.table import Table

from ..analysis.advise import AdviceResult
from ..analysis.compare import ComparisonResult
from ..analysis.metrics import Metric
from ..analysis.sensitivity import SensitivityResult
from ..io import csv_safe
from ..model.costs import format_amount
from ..model.units import format_duration


def frame_text(df, fmt: str) -> str:
    """A tidy frame as CSV (``fmt == "csv"``) or as indented JSON records (otherwise)."""
    if fmt == "csv":
        return csv_safe(df).to_csv(index=False)  # names such as =HYPERLINK(...) stay text in a spreadsheet
    return df.to_json(orient="records", indent=2)


# ------------------------------------------------------------------ comparison


def _d(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    return format_duration(seconds)


def _signed(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "-"
    if seconds == 0:
        return "0"
    return ("+" if seconds > 0 else "-") + _d(abs(seconds))


def _p(x: float | None) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.3f}"


def _dp(x: float | None) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:+.3f}"


def render_comparison(result: ComparisonResult, drill: str, keys: list[str] | None, console: Console) -> None:
    """A rich table of the comparison for one drill: the rows of ``keys`` (default: the tiers)."""
    df = result.summary(drill, keys)
    table = Table(
        title=f"{drill}: {len(result.topologies)} estates, n = {result.n}, seed {result.seed}; "
        f"differences from {result.baseline}; (lo-hi) = 95% interval",
        title_justify="left",
    )
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("metric (target)", "left"),
        ("estate", "left"),
        ("P50", "right"),
        ("P90 (lo-hi)", "right"),
        ("P(meet) (lo-hi)", "right"),
        ("ΔP90 (lo-hi)", "right"),
        ("ΔP(meet) (lo-hi)", "right"),
    )
    for col, just in columns:
        table.add_column(col, justify=just, no_wrap=col in ("metric (target)", "estate"))
    last = None
    for r in df.itertuples():
        measure = r.measure.upper() if r.measure in ("rto", "rpo") else r.measure
        metric = f"{r.subject} {measure} ({_d(r.target_s)})"
        if last is not None and metric != last:
            table.add_section()
        base = r.estate == result.baseline
        table.add_row(
            metric if metric != last else "",
            r.estate + (" (baseline)" if base else ""),
            _d(r.p50_s),
            f"{_d(r.p90_s)} ({_d(r.p90_lo_s)}-{_d(r.p90_hi_s)})",
            f"{_p(r.p_meet)} ({_p(r.p_meet_lo)}-{_p(r.p_meet_hi)})" if not math.isnan(r.p_meet) else "-",
            "" if base else f"{_signed(r.d_p90_s)} ({_signed(r.d_p90_lo_s)} to {_signed(r.d_p90_hi_s)})",
            ""
            if base or math.isnan(r.d_p_meet)
            else f"{_dp(r.d_p_meet)} ({_dp(r.d_p_meet_lo)} to {_dp(r.d_p_meet_hi)})",
        )
        last = metric
    console.print(table)


# ------------------------------------------------------------------ sensitivity and advice


def metric_value(metric: Metric, v: float | None) -> str:
    """A value of ``metric``: a probability to three decimals, else a duration."""
    if v is None or math.isnan(v):
        return "-"
    return f"{v:.3f}" if metric.probability else format_duration(v)


def metric_effect(metric: Metric, v: float | None) -> str:
    """A change in ``metric``, signed: ``+0.120`` or ``-14m``."""
    if v is None or math.isnan(v):
        return "-"
    if metric.probability:
        return f"{v:+.3f}"
    if v == 0:
        return "0"
    return ("+" if v > 0 else "-") + format_duration(abs(v))


def _with_interval(m: Metric, value: float, lo: float, hi: float) -> str:
    return f"{metric_effect(m, value)} [{metric_effect(m, lo)}, {metric_effect(m, hi)}]"


def render_sensitivity(res: SensitivityResult, top: int, console: Console) -> None:
    """The ``top`` parameters by swing: value and effect at each scale factor, and Sobol indices if computed."""
    m, low, high = res.metric, res.low, res.high
    table = Table(
        title=f"{res.drill} on {res.topology}: {m.describe()} = {metric_value(m, res.base)} as modelled "
        f"(n = {res.n}, seed {res.seed}; durations x{low:g} / x{high:g}, 95% intervals)",
        title_justify="left",
    )
    for col in ("parameter", f"x{low:g}", "effect [95% CI]", f"x{high:g}", "effect [95% CI] ", "swing"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    if res.sobol:
        table.add_column("S1 ± conf", justify="right")
        table.add_column("ST ± conf", justify="right")
    sob = {r["parameter"]: r for r in (res.sobol or [])}
    for r in res.ranked(top):
        cells = [
            r["parameter"],
            metric_value(m, r["value_low"]),
            _with_interval(m, r["effect_low"], r["effect_low_lo"], r["effect_low_hi"]),
            metric_value(m, r["value_high"]),
            _with_interval(m, r["effect_high"], r["effect_high_lo"], r["effect_high_hi"]),
            metric_effect(m, r["swing"]),
        ]
        if res.sobol:
            s = sob.get(r["parameter"])
            cells += [f"{s['S1']:.2f} ± {s['S1_conf']:.2f}", f"{s['ST']:.2f} ± {s['ST_conf']:.2f}"] if s else ["-", "-"]
        table.add_row(*cells)
    console.print(table)


def render_advice(res: AdviceResult, top: int, console: Console) -> None:
    """The ``top`` candidate changes, best first: the metric after each, its effect and whether it helps."""
    m = res.metric
    table = Table(
        title=f"{res.drill} on {res.topology}: {m.describe()} = {metric_value(m, res.base)} as it is "
        f"(n = {res.n}, seed {res.seed}); best changes first",
        title_justify="left",
    )
    for col in ("#", "change", "after", "effect [95% CI]", "sure?"):
        table.add_column(col, justify="right" if col not in ("change", "sure?") else "left")
    for i, r in enumerate(res.top(top), 1):
        table.add_row(
            str(i),
            r["change"],
            metric_value(m, r["value"]),
            _with_interval(m, r["effect"], r["effect_lo"], r["effect_hi"]),
            "improves" if r["improves"] else "not shown to help",
        )
    console.print(table)


#: Value is shown per this much money: "per 100k".
PER = 100_000


def _money(res: AdviceResult, amount: float) -> str:
    return "not stated" if math.isnan(amount) else format_amount(amount, res.currency)


def _per(res: AdviceResult, r: dict) -> str:
    """Improvement per 100k of cost: ``-2m30s`` of RTO, ``+0.012`` of P(meet); ``free`` when it costs nothing."""
    v = r["gain_per_cost"]
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return "free"
    sign = 1.0 if res.metric.higher_is_better else -1.0
    return metric_effect(res.metric, sign * v * PER)


def _advice_table(res: AdviceResult, rows: list[dict], title: str) -> Table:
    m = res.metric
    table = Table(title=title, title_justify="left")
    per = f"per {format_amount(PER, res.currency)}"
    for col in ("#", "change", f"cost ({res.years:g} yr)", "after", "effect [95% CI]", per, "sure?"):
        table.add_column(col, justify="left" if col in ("change", "sure?") else "right")
    for i, r in enumerate(rows, 1):
        beyond = math.isfinite(r["cost"]) and not r["within_budget"]
        table.add_row(
            str(i),
            r["change"].replace(" + ", "\n+ "),
            _money(res, r["cost"]) + (" (over)" if beyond else ""),
            metric_value(m, r["value"]),
            _with_interval(m, r["effect"], r["effect_lo"], r["effect_hi"]),
            _per(res, r),
            "improves" if r["improves"] else "not shown to help",
        )
    return table


def render_budgeted_advice(res: AdviceResult, top: int, console: Console) -> None:
    """Single changes and combinations within the budget, by what they buy per 100k; the best buy."""
    assert res.budget is not None, "advice without a budget is rendered by render_advice"
    m = res.metric
    budget = format_amount(res.budget, res.currency)
    head = (
        f"{res.drill} on {res.topology}: {m.describe()} = {metric_value(m, res.base)} as it is (n = {res.n}, "
        f"seed {res.seed}); budget {budget} over {res.years:g} years (one-off + years x per year)"
    )
    singles = [r for r in res.rows if r["changes"] == 1]
    combos = res.combinations()
    console.print(_advice_table(res, singles[:top], f"{head}\nOne change at a time, most bought per cost first"))
    if combos:
        console.print(
            _advice_table(
                res, combos[:top], "Changes bought together within the budget (beam search), most bought per cost first"
            )
        )
    else:
        console.print("No combination of changes within the budget improves on a single change.")
    best = res.best()
    if best is None:
        console.print(f"Nothing within {budget} is shown to improve {m.describe()}.")
    else:
        console.print(
            f"Most bought within {budget}: {best['change']} ({_money(res, best['cost'])} over {res.years:g} years): "
            f"{m.describe()} {metric_value(m, res.base)} -> {metric_value(m, best['value'])} "
            f"({_with_interval(m, best['effect'], best['effect_lo'], best['effect_hi'])}, 95% paired interval)."
        )
    unpriced = [r["subject"] for r in singles if math.isnan(r["cost"])]
    if unpriced:
        console.print(
            f"No cost stated for {len(unpriced)} change(s) ({', '.join(unpriced)}); give one in the topology "
            "(a role's or shift's cost, a strategy's recovery cost, or change_costs) to weigh it within the budget."
        )
