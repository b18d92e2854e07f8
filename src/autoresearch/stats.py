"""Noise-aware statistics: the verdict rule, the noise threshold, paired comparisons, calibration records.

Pure Python (math, random, json): no torch, numpy or polars, so every command can import it.
Student-t quantiles are computed here (via the regularized incomplete beta function), so scipy
is not needed. Usage:

    d = min_detectable_effect(sigma=0.004, n_baseline=3)      # the calibrated noise threshold
    verdict(1.87, best=1.90, threshold=d)                     # 'better', 'within-noise', 'worse', ...
    p = paired_difference(a=[1.90, 1.91, 1.89], b=[1.87, 1.88, 1.87])   # B - A, seed by seed
    compare_verdict(p)                                        # 'better' when the whole interval favours B

THE VERDICT RULE (the one place it is defined): a new row is compared with the mean of the ok rows
of its PARENT: the version of the agent's code on main that its branch came from (same profile,
budget mode and validation split; calibration rows count). With the calibrated threshold d, a gain
over that mean of more than d is `better`; a loss of more than d is `worse`; anything in between is
`within-noise`. A run of the parent's own code is `baseline`; with no calibration for the profile
the row is `uncalibrated`; with no rows of the parent yet, `no-parent-rows` (run `just eval` on main).

THE THRESHOLD d is the minimum detectable effect that `autoresearch calibrate` measures and writes
to `.autoresearch/calibration.json` (`threshold`), per profile:

    d = (t[1-alpha; n-1] + t[power; n-1]) * s * sqrt(1 + 1/n)

with s the sample standard deviation of the metric over n baseline seeds, t[q; k] the q-quantile of
Student's t with k degrees of freedom, alpha = 0.05 and power = 0.8 by default. It is the textbook
minimum detectable effect of a one-sided test of ONE new run against the mean of the n baseline
runs (the difference has standard deviation s * sqrt(1 + 1/n)): a change whose true gain is d is
detected by that test with probability `power`, and a change with no effect passes d with
probability below alpha (2.9 % with n = 3, 1.2 % with n = 10). Comparing with the best earlier
row instead of the baseline mean makes `better` stricter still. With n = 3 seeds, d = 4.6 s.
A failed calibration records its d too: it is still the measured noise.

`compare` (two versions over the same seeds) uses the paired interval instead: `compare_verdict`.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from autoresearch.errors import UserError

if TYPE_CHECKING:
    from autoresearch.metric import Metric

ALPHA = 0.05
"""One-sided false-positive rate of the single-run test behind the threshold."""
POWER = 0.8
"""Probability that the single-run test detects a true gain of exactly the threshold."""
CONFIDENCE = 0.95
"""Two-sided confidence of the paired intervals of `compare`."""


def mean(xs: list[float]) -> float:
    if not xs:
        raise ValueError("mean of no values")
    return math.fsum(xs) / len(xs)


def std(xs: list[float]) -> float:
    """Sample standard deviation (n - 1 in the denominator)."""
    if len(xs) < 2:
        raise ValueError(f"a standard deviation needs at least 2 values, got {len(xs)}")
    m = mean(xs)
    return math.sqrt(math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def rel_std(xs: list[float]) -> float:
    """Relative standard deviation, std / |mean|."""
    return std(xs) / abs(mean(xs))


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz, Numerical Recipes 6.4)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        for aa in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)), -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with df degrees of freedom; df = math.inf gives the standard normal."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    if math.isinf(df):
        return 0.5 * math.erfc(-t / math.sqrt(2.0))
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_ppf(p: float, df: float) -> float:
    """The p-quantile of Student's t with df degrees of freedom (df = math.inf: the normal), by bisection."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"a quantile needs 0 < p < 1, got {p}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return 0.5 * (lo + hi)


def min_detectable_effect(sigma: float, n_baseline: int, alpha: float = ALPHA, power: float = POWER) -> float:
    """The noise threshold: the smallest true gain one new run detects against n baseline runs.

    (t[1-alpha; n-1] + t[power; n-1]) * sigma * sqrt(1 + 1/n); see the module docstring. power = 0.5
    gives the bare critical value of the one-sided test at level alpha.
    """
    if n_baseline < 2:
        raise ValueError(f"the minimum detectable effect needs at least 2 baseline runs, got {n_baseline}")
    if not (0 < alpha < 0.5 and 0.5 <= power < 1):
        raise ValueError(f"need 0 < alpha < 0.5 and 0.5 <= power < 1, got alpha={alpha}, power={power}")
    df = n_baseline - 1
    return (t_ppf(1 - alpha, df) + t_ppf(power, df)) * sigma * math.sqrt(1 + 1 / n_baseline)


class Paired(NamedTuple):
    """B - A over seeds run on both sides: the mean difference, its confidence interval, a two-sided p-value."""

    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    method: str
    confidence: float


def paired_difference(
    a: list[float], b: list[float], confidence: float = CONFIDENCE, method: str = "t", resamples: int = 10_000, seed: int = 0
) -> Paired:
    """Pair a[i] with b[i] (the same seed on both sides) and estimate the mean of b[i] - a[i].

    method "t": the Student-t interval mean ± t[(1+c)/2; n-1] * s_d / sqrt(n) and the paired t-test's
    p-value. method "bootstrap": the percentile interval of `resamples` resampled means (seeded, so
    repeatable) and the p-value of the null-centred bootstrap; with fewer than about 10 pairs it
    has too few distinct resamples to mean much, so prefer "t" there.
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")
    if len(a) < 2:
        raise ValueError(f"a paired comparison needs at least 2 pairs, got {len(a)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    diffs = [y - x for x, y in zip(a, b)]
    n, m = len(diffs), mean(diffs)
    if method == "t":
        se = std(diffs) / math.sqrt(n)
        if se == 0:
            return Paired(m, m, m, 1.0 if m == 0 else 0.0, n, method, confidence)
        half = t_ppf((1 + confidence) / 2, n - 1) * se
        p = 2 * (1 - t_cdf(abs(m) / se, n - 1))
        return Paired(m, m - half, m + half, p, n, method, confidence)
    if method == "bootstrap":
        rng = random.Random(seed)
        means = sorted(mean(rng.choices(diffs, k=n)) for _ in range(resamples))
        tail = (1 - confidence) / 2
        low, high = means[int(tail * (resamples - 1))], means[math.ceil((1 - tail) * (resamples - 1))]
        extreme = sum(abs(x - m) >= abs(m) for x in means)  # resampled means of the null-centred differences
        return Paired(m, low, high, extreme / resamples, n, method, confidence)
    raise ValueError(f"method {method!r}: expected 't' or 'bootstrap'")


def compare_verdict(paired: Paired, direction: str = "lower") -> str:
    """B relative to A: `better` or `worse` when the whole interval lies on one side of zero, else `within-noise`."""
    if direction not in ("lower", "higher"):
        raise ValueError(f"direction {direction!r}: expected 'lower' or 'higher'")
    sign = -1.0 if direction == "lower" else 1.0  # gain of B over A = sign * (B - A)
    low, high = sorted((sign * paired.ci_low, sign * paired.ci_high))
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "within-noise"


def load_all_calibrations(path: Path) -> dict[str, dict]:
    """profile -> calibration entry of .autoresearch/calibration.json ({} when there is none)."""
    if not path.exists():
        return {}
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: not valid JSON ({e}); rerun `just calibrate` or restore it with git checkout") from None
    return record.get("profiles", {})


def load_calibration(path: Path, profile: str) -> dict | None:
    return load_all_calibrations(path).get(profile)


def verdict(value: float, parent: list[float], threshold: float | None, metric: Metric, own: bool = False) -> str:
    """A row's verdict against its parent's rows (see THE VERDICT RULE above)."""
    if own:
        return "baseline"
    if threshold is None:
        return "uncalibrated"
    if not parent:
        return "no-parent-rows"
    gain = metric.gain(mean(parent), value)
    if gain > threshold:
        return "better"
    if gain < -threshold:
        return "worse"
    return "within-noise"
