"""Noise-aware statistics: the verdict rule, the noise threshold, paired comparisons, calibration records.

Importing it is cheap (math, json): scipy.stats does the Student-t quantiles, the paired t-test
and the bootstrap, imported inside the functions that need them, so bookkeeping commands that
only read a calibration never load scipy or numpy. Usage:

    d = min_detectable_effect(sigma=0.004, n_baseline=3)      # the calibrated noise threshold
    verdict(1.87, [1.90, 1.91], threshold=d, metric=Metric("val_bpb", "lower"))   # 'better', 'within-noise', ...
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


def t_ppf(p: float, df: float) -> float:
    """The p-quantile of Student's t with df degrees of freedom (df = math.inf: the standard normal)."""
    from scipy.stats import t

    if not 0.0 < p < 1.0:
        raise ValueError(f"a quantile needs 0 < p < 1, got {p}")
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    return float(t.ppf(p, df))


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
    a: list[float],
    b: list[float],
    confidence: float = CONFIDENCE,
    method: str = "t",
    resamples: int = 10_000,
    seed: int = 0,
) -> Paired:
    """Pair a[i] with b[i] (the same seed on both sides) and estimate the mean of b[i] - a[i].

    method "t": the paired t-test (scipy.stats.ttest_rel): the Student-t interval
    mean ± t[(1+c)/2; n-1] * s_d / sqrt(n) and the two-sided p-value. method "bootstrap"
    (scipy.stats.bootstrap on the differences, so pairs stay together): the percentile interval of
    `resamples` resampled means, seeded so it is repeatable, and the p-value of the null-centred
    bootstrap, the share of resampled means at least |mean| away from the observed mean (the
    resampled means shifted to a true difference of zero, as far out as the observed one). With
    fewer than about 10 pairs the bootstrap has too few distinct resamples to mean much: prefer "t".
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")
    if len(a) < 2:
        raise ValueError(f"a paired comparison needs at least 2 pairs, got {len(a)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if method not in ("t", "bootstrap"):
        raise ValueError(f"method {method!r}: expected 't' or 'bootstrap'")
    diffs = [y - x for x, y in zip(a, b)]
    n, m = len(diffs), mean(diffs)
    if (
        std(diffs) == 0
    ):  # every seed moved by the same amount: no spread to test against (scipy would warn and give nan)
        return Paired(m, m, m, 1.0 if m == 0 else 0.0, n, method, confidence)
    import numpy as np
    from scipy import stats as sps

    if method == "t":
        test = sps.ttest_rel(b, a)
        ci = test.confidence_interval(confidence)
        return Paired(m, float(ci.low), float(ci.high), float(test.pvalue), n, method, confidence)
    boot = sps.bootstrap(
        (np.asarray(diffs),),
        np.mean,
        n_resamples=resamples,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    p = float(np.mean(np.abs(boot.bootstrap_distribution - m) >= abs(m)))
    ci = boot.confidence_interval
    return Paired(m, float(ci.low), float(ci.high), p, n, method, confidence)


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
    """profile -> calibration entry of .autoresearch/calibration.json ({} when there is none).

    Each entry is signed by the calibration; one whose signature does not verify (edited by hand, to
    make the noise look smaller) is refused. One signed on another machine (another key) is used."""
    from autoresearch.calibrate import entry_text
    from autoresearch.signing import verify

    if not path.exists():
        return {}
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(
            f"{path}: not valid JSON ({e}); rerun `just calibrate` or restore it with git checkout"
        ) from None
    profiles = record.get("profiles", {})
    for profile, entry in profiles.items():
        if not entry.get("sig") or verify(entry_text(profile, entry), str(entry["sig"])) == "forged":
            raise UserError(
                f"{path}: the entry of profile {profile} does not match its signature (edited by hand?); "
                "restore it with `git checkout .autoresearch/calibration.json`, or rerun `just calibrate`"
            )
    return profiles


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
