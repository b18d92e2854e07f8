"""The statistics behind verdicts, calibrate and compare, on data with known answers (pure, fast)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from autoresearch import stats
from autoresearch.metric import Metric

# Student-t quantiles from the standard table (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2), 3 decimals.
T_TABLE = [
    (0.975, 1, 12.706),
    (0.975, 2, 4.303),
    (0.975, 3, 3.182),
    (0.975, 4, 2.776),
    (0.975, 5, 2.571),
    (0.975, 10, 2.228),
    (0.975, 30, 2.042),
    (0.975, 100, 1.984),
    (0.95, 1, 6.314),
    (0.95, 2, 2.920),
    (0.95, 9, 1.833),
    (0.99, 4, 3.747),
    (0.995, 10, 3.169),
    (0.90, 2, 1.886),
    (0.80, 2, 1.061),
    (0.80, 10, 0.879),
]
Z_TABLE = [(0.975, 1.960), (0.95, 1.645), (0.8, 0.842), (0.995, 2.576)]


@pytest.mark.parametrize("p, df, expected", T_TABLE)
def test_t_quantiles_match_the_table(p, df, expected):
    assert stats.t_ppf(p, df) == pytest.approx(expected, abs=6e-4)
    assert stats.t_ppf(1 - p, df) == pytest.approx(-expected, abs=6e-4)


@pytest.mark.parametrize("p, expected", Z_TABLE)
def test_infinite_degrees_of_freedom_give_normal_quantiles(p, expected):
    assert stats.t_ppf(p, math.inf) == pytest.approx(expected, abs=6e-4)


def test_t_quantile_is_zero_at_the_median_and_refuses_what_is_not_a_quantile():
    assert stats.t_ppf(0.5, 3) == 0.0
    for p in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="0 < p < 1"):
            stats.t_ppf(p, 3)
    with pytest.raises(ValueError, match="degrees of freedom"):
        stats.t_ppf(0.9, 0)


def test_mean_and_std_on_values_with_a_known_sigma():
    values = [2, 4, 4, 4, 5, 5, 7, 9]  # mean 5, sum of squares 32, sample variance 32/7
    assert stats.mean(values) == 5
    assert stats.std(values) == pytest.approx(math.sqrt(32 / 7))
    assert stats.std([1.5, 1.5, 1.5]) == 0
    with pytest.raises(ValueError, match="at least 2"):
        stats.std([1.0])


def test_minimum_detectable_effect_follows_its_formula():
    # n = 3: (t[0.95; 2] + t[0.8; 2]) * sqrt(4/3) = (2.920 + 1.061) * 1.1547 = 4.596
    assert stats.min_detectable_effect(1.0, 3) == pytest.approx(4.5965, abs=1e-3)
    assert stats.min_detectable_effect(0.01, 3) == pytest.approx(0.045965, abs=1e-5)
    # power 0.5 leaves the bare one-sided critical value: t[0.95; 9] * sqrt(1.1)
    assert stats.min_detectable_effect(1.0, 10, power=0.5) == pytest.approx(1.833 * math.sqrt(1.1), abs=1e-3)
    # more seeds, smaller threshold; towards (z[0.95] + z[0.8]) sigma = 2.486 sigma
    mdes = [stats.min_detectable_effect(1.0, n) for n in (2, 3, 5, 10, 1000)]
    assert mdes == sorted(mdes, reverse=True)
    assert mdes[-1] == pytest.approx(1.645 + 0.842, abs=0.01)
    with pytest.raises(ValueError):
        stats.min_detectable_effect(1.0, 1)


def test_paired_difference_finds_a_known_significant_difference():
    a = [1.90, 1.91, 1.89, 1.92, 1.90]
    b = [x - 0.02 + e for x, e in zip(a, [0.001, -0.001, 0.0, 0.002, -0.002])]
    p = stats.paired_difference(a, b)
    assert p.mean_diff == pytest.approx(-0.02)
    # differences -0.019 -0.021 -0.020 -0.018 -0.022: s = 0.0015811, se = 0.00070711, t[0.975; 4] = 2.776
    assert p.ci_low == pytest.approx(-0.02 - 2.7764 * 0.00070711, abs=1e-6)
    assert p.ci_high == pytest.approx(-0.02 + 2.7764 * 0.00070711, abs=1e-6)
    assert p.p_value < 1e-4
    assert stats.compare_verdict(p, "lower") == "better"
    assert stats.compare_verdict(p, "higher") == "worse"


def test_paired_difference_leaves_a_known_non_significant_difference_within_noise():
    a = [1.900, 1.910, 1.890]
    b = [1.905, 1.900, 1.893]  # differences +0.005 -0.010 +0.003: mean -0.000667, s 0.008145
    p = stats.paired_difference(a, b)
    assert p.mean_diff == pytest.approx(-0.000667, abs=1e-6)
    half = 4.3027 * 0.0081445 / math.sqrt(3)
    assert (p.ci_low, p.ci_high) == pytest.approx((-0.000667 - half, -0.000667 + half), abs=1e-5)
    assert p.p_value == pytest.approx(0.90, abs=0.01)
    assert stats.compare_verdict(p) == "within-noise"


def test_pairing_removes_the_seed_effect_that_an_unpaired_view_would_see():
    seed_effect = [0.0, 0.05, -0.04, 0.03]  # seeds differ a lot; B is better by 0.01 on every seed
    a = [1.9 + e for e in seed_effect]
    b = [x - 0.01 for x in a]
    p = stats.paired_difference(a, b)
    assert (p.mean_diff, p.ci_low, p.ci_high, p.p_value) == pytest.approx((-0.01, -0.01, -0.01, 0.0))
    assert stats.compare_verdict(p) == "better"


def test_bootstrap_interval_is_repeatable_and_brackets_the_mean():
    a = [1.90, 1.91, 1.89, 1.92, 1.90, 1.93, 1.88, 1.91, 1.90, 1.92]
    b = [x - 0.01 + 0.004 * ((i % 3) - 1) for i, x in enumerate(a)]
    p1 = stats.paired_difference(a, b, method="bootstrap")
    p2 = stats.paired_difference(a, b, method="bootstrap")
    assert p1 == p2 and p1.method == "bootstrap"
    assert p1.ci_low < p1.mean_diff < p1.ci_high < 0
    t = stats.paired_difference(a, b)
    assert p1.ci_high - p1.ci_low < t.ci_high - t.ci_low  # percentile intervals are narrower at small n
    assert stats.compare_verdict(p1) == "better"


def test_bootstrap_p_value_is_small_for_a_clear_shift_and_large_for_none():
    a = [1.90, 1.91, 1.89, 1.92, 1.90, 1.93, 1.88, 1.91, 1.90, 1.92, 1.89, 1.91]
    noise = [0.004, -0.003, 0.001, -0.004, 0.002, -0.001, 0.003, -0.002, 0.0, 0.001, -0.003, 0.006]
    shifted = stats.paired_difference(a, [x - 0.01 + e for x, e in zip(a, noise)], method="bootstrap")
    assert shifted.p_value < 0.001
    unchanged = stats.paired_difference(a, [x + e for x, e in zip(a, noise)], method="bootstrap")
    assert unchanged.p_value > 0.5 and stats.compare_verdict(unchanged) == "within-noise"
    # the null-centred bootstrap agrees with the paired t-test on the same data, roughly
    assert unchanged.p_value == pytest.approx(
        stats.paired_difference(a, [x + e for x, e in zip(a, noise)]).p_value, abs=0.15
    )


def test_paired_difference_refuses_what_it_cannot_pair():
    with pytest.raises(ValueError, match="equal lengths"):
        stats.paired_difference([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least 2 pairs"):
        stats.paired_difference([1.0], [1.0])
    with pytest.raises(ValueError, match="method"):
        stats.paired_difference([1.0, 2.0], [1.0, 2.5], method="magic")


LOWER, HIGHER = Metric("val_bpb", "lower"), Metric("accuracy", "higher")


@pytest.mark.parametrize(
    "value, parent, threshold, metric, expected",
    [
        (1.85, [1.89, 1.91], 0.02, LOWER, "better"),  # gain 0.05 over the parent's mean 1.90
        (1.89, [1.89, 1.91], 0.02, LOWER, "within-noise"),
        (1.91, [1.89, 1.91], 0.02, LOWER, "within-noise"),
        (1.95, [1.89, 1.91], 0.02, LOWER, "worse"),
        (0.95, [0.89, 0.91], 0.02, HIGHER, "better"),  # higher is better: the same rule turned round
        (0.89, [0.89, 0.91], 0.02, HIGHER, "within-noise"),
        (0.85, [0.89, 0.91], 0.02, HIGHER, "worse"),
        (1.85, [1.90], None, LOWER, "uncalibrated"),
        (1.85, [], 0.02, LOWER, "no-parent-rows"),
    ],
)
def test_verdict_is_against_the_mean_of_the_parents_rows_by_the_threshold(value, parent, threshold, metric, expected):
    assert stats.verdict(value, parent, threshold, metric) == expected


def test_verdict_compares_with_the_parents_mean_not_its_best_row():
    parent = [1.80, 1.90, 2.00]  # best 1.80, mean 1.90
    assert stats.verdict(1.86, parent, 0.02, LOWER) == "better"  # worse than the best row, better than the mean
    assert stats.verdict(1.86, [1.80], 0.02, LOWER) == "worse"


def test_verdict_at_exactly_the_threshold_is_within_noise():
    assert stats.verdict(1.5, [2.0], 0.5, LOWER) == "within-noise"  # better only beyond the threshold
    assert stats.verdict(2.5, [2.0], 0.5, LOWER) == "within-noise"
    assert stats.verdict(1.4375, [2.0], 0.5, LOWER) == "better"


def test_a_run_of_the_parents_own_code_is_baseline_whatever_else_holds():
    assert stats.verdict(1.50, [1.90], 0.02, LOWER, own=True) == "baseline"
    assert stats.verdict(1.50, [], None, LOWER, own=True) == "baseline"  # before calibration, before any row


def test_uncalibrated_comes_before_no_parent_rows():
    assert stats.verdict(1.85, [], None, LOWER) == "uncalibrated"


def test_stats_imports_no_heavy_module():
    code = "import sys, autoresearch.stats; print(sorted(m for m in ('torch', 'numpy', 'polars', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
