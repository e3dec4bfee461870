"""The duration grammar: what people write and what drsim understands by it."""

import numpy as np
import pytest
from scipy import stats

from drsim.model.distributions import (
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Triangular,
    Uniform,
    Weibull,
    parse_distribution,
)
from drsim.model.units import UnitError, format_duration, parse_duration, parse_rate, parse_size, parse_throughput


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("4h", 14400), ("1h30m", 5400), ("2d", 172800), ("250ms", 0.25), ("1.5h", 5400)],
)
def test_durations_are_read_in_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["15", 15, "15 minutes", "m", "", "1:30", True, "-5m", "1e9d"])
def test_durations_without_clear_units_are_refused(bad):
    with pytest.raises(UnitError):
        parse_duration(bad)


def test_sizes_and_rates():
    assert parse_size("500GB") == 500e9
    assert parse_size("2TiB") == 2 * 2**40
    assert parse_throughput("200MB/s") == 200e6
    assert parse_throughput("1TiB/h") == pytest.approx(2**40 / 3600)
    assert parse_rate("40/min") == pytest.approx(40 / 60)
    with pytest.raises(UnitError):
        parse_rate("40")


@pytest.mark.parametrize(
    ("seconds", "text"), [(42, "42s"), (425, "7m05s"), (8040, "2h14m"), (273600, "3d4h"), (float("inf"), "never")]
)
def test_durations_print_for_people(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", Fixed(900.0)),
        ("lognormal(p50=10m, p95=45m)", LogNormal(600.0, 2700.0, 95)),
        ("triangular(5m, 10m, 30m)", Triangular(300.0, 600.0, 1800.0)),
        ("exponential(mean=30s)", Exponential(30.0)),
        ("uniform(1m, 2m)", Uniform(60.0, 120.0)),
        ("empirical([9m, 4m, 6m])", Empirical((240.0, 360.0, 540.0))),
        ("gamma(shape=2.5, scale=4m)", Gamma(2.5, 240.0)),
        ("weibull(shape=0.8, scale=90s)", Weibull(0.8, 90.0)),
    ],
)
def test_grammar_reads_each_distribution_and_writes_it_back(text, expected):
    d = parse_distribution(text)
    assert d == expected
    assert parse_distribution(str(d)) == d


@pytest.mark.parametrize(
    "bad",
    [
        "lognormal(p50=45m, p95=10m)",  # percentiles out of order
        "lognormal(p50=10m)",
        "triangular(10m, 5m, 30m)",
        "exponential(mean=0s)",
        "uniform(5m, 1m)",
        "empirical([])",
        "weibull(k=2)",
        "lognormal(p50=10m, p95=45m",
        "gamma(shape=0, scale=5m)",
        "gamma(shape=2)",
        "weibull(shape=1.5, scale=-1m)",
        "weibull(shape=abc, scale=1m)",
        "gamma(2, 5m)",
    ],
)
def test_impossible_distributions_are_refused(bad):
    with pytest.raises(UnitError):
        parse_distribution(bad)


@pytest.mark.parametrize(
    ("text", "frozen"),
    [
        ("lognormal(p50=10m, p95=45m)", stats.lognorm(s=np.log(4.5) / 1.6448536269514722, scale=600)),
        ("triangular(5m, 10m, 30m)", stats.triang(c=(600 - 300) / 1500, loc=300, scale=1500)),
        ("exponential(mean=30s)", stats.expon(scale=30)),
        ("uniform(1m, 2m)", stats.uniform(loc=60, scale=60)),
        ("gamma(shape=2.5, scale=4m)", stats.gamma(a=2.5, scale=240)),
        ("weibull(shape=0.8, scale=90s)", stats.weibull_min(c=0.8, scale=90)),
    ],
)
def test_inverse_transform_matches_the_textbook_quantiles(text, frozen):
    u = np.array([0.01, 0.1, 0.5, 0.9, 0.95, 0.99])
    np.testing.assert_allclose(parse_distribution(text).ppf(u), frozen.ppf(u), rtol=1e-9)
    assert parse_distribution(text).mean == pytest.approx(frozen.mean(), rel=1e-9)


def test_scaling_a_distribution_scales_every_draw():
    u = np.linspace(0, 0.999, 50)
    for text in [
        "lognormal(p50=10m, p95=45m)",
        "triangular(5m, 10m, 30m)",
        "empirical([1m, 3m])",
        "7m",
        "gamma(shape=2, scale=1m)",
        "weibull(shape=2, scale=1m)",
    ]:
        d = parse_distribution(text)
        np.testing.assert_allclose(d.scaled(3.0).ppf(u), 3.0 * d.ppf(u), rtol=1e-12)


@pytest.mark.parametrize(
    "text",
    [
        "lognormal(p50=1ms, p95=3650d)",
        "lognormal(p50=1h, p99=3000d)",
        "exponential(mean=730d)",
    ],
)
def test_a_distribution_with_a_tail_beyond_ten_years_is_refused_like_a_fixed_duration(text):
    with pytest.raises(UnitError, match=r"is longer than ten years \(99\.9th percentile [0-9.e+]+s\); is it a typo"):
        parse_distribution(text)


def test_a_long_but_plausible_distribution_is_kept():
    # the 99.9th percentile decides, not the median: a year-long median with a modest spread is accepted
    assert parse_distribution("lognormal(p50=365d, p95=730d)").ppf(np.array([0.999]))[0] < 10 * 365 * 86400


def test_every_kind_of_distribution_has_a_quantile_function():
    from drsim.model.distributions import Distribution

    kinds = Distribution.__subclasses__()
    assert {k.__name__ for k in kinds} == {
        "Fixed",
        "LogNormal",
        "Triangular",
        "Exponential",
        "Uniform",
        "Empirical",
        "Gamma",
        "Weibull",
    }
    examples = ["1m", "lognormal(p50=1m, p95=5m)", "triangular(1m, 2m, 5m)", "exponential(mean=1m)"]
    examples += ["uniform(1m, 2m)", "empirical([1m, 2m])", "gamma(shape=2, scale=1m)", "weibull(shape=1.5, scale=1m)"]
    assert {type(parse_distribution(t)) for t in examples} == set(kinds)
    for t in examples:
        q = parse_distribution(t).ppf(np.array([0.5, 0.999]))
        assert np.all(np.isfinite(q))
        assert q[0] <= q[1]
