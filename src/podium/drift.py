"""Data drift: a compact profile of the training data, and a comparison against it.

Pure functions, no I/O. `profile` runs at training time and is logged with the model
version, so drift works in CI without the old raw data. `compare` measures, per
feature, the population stability index (PSI) over the profile's bins and a
two-sample test (Kolmogorov–Smirnov for numeric features on the stored reference
sample — combined, Bonferroni, with a chi-squared test of the share of missing values —
and chi-squared for categories, missing as a category, on the stored counts).

A feature is flagged as drifted when the shift is both *material* (PSI at least
`psi_threshold`) and *significant* (the test's p-value below `p_value`). Either alone
misleads: on millions of rows a test rejects shifts nobody cares about, and on a few
hundred rows PSI moves with sampling noise. Tests run on at most `SAMPLE_SIZE` values
per side so that their sensitivity does not grow with the size of the data.

`judge` holds the measured drift against the configured bounds — one judgement for
validate's drift gate and monitor's drift alert, each of which words it in its own terms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from podium.scoring import TOLERANCE

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PROFILE_FORMAT = 1
PROFILE_ARTIFACT = "podium/profile.json"  # logged with each training run
BINS = 10
SAMPLE_SIZE = 2000
MAX_CATEGORIES = 50
OTHER = "__other__"  # categories beyond the MAX_CATEGORIES most frequent (and unseen ones)
MISSING = "__missing__"
PSI_THRESHOLD = 0.1
P_VALUE = 0.05
_FLOOR = 1e-4  # proportion used for an empty bin, so PSI stays finite


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: str  # "numeric" | "categorical"
    psi: float
    test: str  # "KS" | "chi2"
    statistic: float
    p_value: float
    drifted: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def profile(
    features: pd.DataFrame,
    feature_types: dict[str, str],
    *,
    bins: int = BINS,
    sample_size: int = SAMPLE_SIZE,
    seed: int = 0,
) -> dict[str, Any]:
    """A JSON-ready summary of the training features: what `compare` needs, no raw rows.

    Numeric: quantile bin edges and counts, missing count and a random sample of at most
    `sample_size` values. Categorical: counts of the most frequent categories (the rest
    summed under `__other__`) and the missing count.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for column, kind in feature_types.items():
        series = features[column]
        if kind == "numeric":
            values = _finite(series)
            edges = _edges(values, bins)
            sample = (
                values
                if len(values) <= sample_size
                else rng.choice(values, sample_size, replace=False)
            )
            missing = int(len(series) - len(values))
            out[column] = numeric_profile(edges, _bin_counts(values, edges), missing, sample)
        else:
            counts = series.value_counts(dropna=True)
            top = counts.iloc[:MAX_CATEGORIES]
            categories = {str(k): int(v) for k, v in top.items()}
            rest = int(counts.iloc[MAX_CATEGORIES:].sum())
            if rest:
                categories[OTHER] = rest
            out[column] = {
                "kind": "categorical",
                "counts": categories,
                "missing": int(series.isna().sum()),
            }
    return {"format": PROFILE_FORMAT, "rows": len(features), "features": out}


def numeric_profile(edges: Any, counts: Any, missing: int, sample: Any) -> dict[str, Any]:
    """One numeric feature's profile entry, whichever engine counted it: bin edges, whole
    bin counts, the missing count and the sorted sample (7 significant digits)."""
    import numpy as np

    return {
        "kind": "numeric",
        "edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
        "missing": int(missing),
        "sample": [float(f"{v:.7g}") for v in np.sort(np.asarray(sample, dtype=float))],
    }


def profile_from(
    rows: int,
    feature_types: dict[str, str],
    edges: dict[str, Any],
    counted: dict[str, tuple[Any, int]],
    samples: dict[str, Any],
) -> dict[str, Any]:
    """`profile`'s format from what an engine counted where the rows live: per feature its
    (counts, missing) — numeric counts per bin of `edges`, categorical counts by category
    (at most `MAX_CATEGORIES`, the rest under `OTHER`) — and numeric samples."""
    out: dict[str, Any] = {}
    for column, kind in feature_types.items():
        counts, missing = counted[column]
        if kind == "numeric":
            out[column] = numeric_profile(edges[column], counts, missing, samples[column])
        else:
            out[column] = {"kind": "categorical", "counts": dict(counts), "missing": missing}
    return {"format": PROFILE_FORMAT, "rows": rows, "features": out}


def reference_bins(
    reference: dict[str, Any], feature_types: dict[str, str], columns: Any = None
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], dict[str, list[str]]]:
    """What an engine counts to compare with a recorded profile: the features of the same
    kind on both sides (and among `columns`, when given), their numeric bin edges, and
    their known categories."""
    import numpy as np

    chosen = {
        c: ref
        for c, ref in reference.get("features", {}).items()
        if feature_types.get(c) == ref.get("kind") and (columns is None or c in columns)
    }
    edges = {
        c: np.asarray(ref["edges"], dtype=float)
        for c, ref in chosen.items()
        if ref["kind"] == "numeric"
    }
    known = {
        c: [k for k in ref["counts"] if k != OTHER]
        for c, ref in chosen.items()
        if ref["kind"] != "numeric"
    }
    return chosen, edges, known


def compare(
    reference: dict[str, Any],
    features: pd.DataFrame,
    feature_types: dict[str, str],
    *,
    psi_threshold: float = PSI_THRESHOLD,
    p_value: float = P_VALUE,
    sample_size: int = SAMPLE_SIZE,
    seed: int = 0,
) -> list[FeatureDrift]:
    """Drift of each feature present in both the reference profile and `features`.

    Features whose kind changed (numeric in one, categorical in the other) or that one
    side lacks are left out; the caller reports them.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    found: list[FeatureDrift] = []
    for column, ref in reference.get("features", {}).items():
        if feature_types.get(column) != ref.get("kind") or column not in features.columns:
            continue
        series = features[column]
        if ref["kind"] == "numeric":
            found.append(_numeric(column, ref, series, psi_threshold, p_value, sample_size, rng))
        else:
            found.append(_categorical(column, ref, series, psi_threshold, p_value, sample_size))
    return found


class Judged(Protocol):
    """What a drift judgement reads of a feature: a measured one, or one from a result file."""

    @property
    def feature(self) -> str: ...
    @property
    def psi(self) -> float | None: ...
    @property
    def drifted(self) -> bool: ...


J = TypeVar("J", bound=Judged)


def drifted_share(found: Sequence[Judged]) -> float:
    """The share of `found` flagged as drifted (0 when nothing was compared)."""
    return sum(f.drifted for f in found) / len(found) if found else 0.0


@dataclass(frozen=True)
class DriftVerdict(Generic[J]):
    """Measured drift against the bounds: a share above `max_drifted_share`, or any
    feature's PSI above `max_psi`, fails."""

    share: float  # of the compared features, the share flagged as drifted
    drifted: list[J]  # flagged features, in comparison order
    too_many: bool  # the share is above max_drifted_share
    over_psi: list[J]  # features whose PSI is above max_psi

    @property
    def passed(self) -> bool:
        return not self.too_many and not self.over_psi

    @property
    def worst(self) -> J | None:
        """The feature with the highest PSI above max_psi, if any."""
        return max(self.over_psi, key=lambda f: f.psi or 0.0, default=None)


def judge(
    found: Sequence[J], *, max_drifted_share: float | None, max_psi: float | None
) -> DriftVerdict[J]:
    """The one drift judgement: validate gates on it, monitor alerts on it (None: no bound)."""
    share = drifted_share(found)
    return DriftVerdict(
        share=share,
        drifted=[f for f in found if f.drifted],
        too_many=max_drifted_share is not None and share > max_drifted_share + TOLERANCE,
        over_psi=[f for f in found if max_psi is not None and (f.psi or 0.0) > max_psi],
    )


def comparable(
    reference: dict[str, Any], feature_types: dict[str, str]
) -> tuple[list[str], list[str]]:
    """(features only one side has, features whose kind changed) — for notes."""
    ref = reference.get("features", {})
    one_side = sorted(set(ref) ^ set(feature_types))
    changed = sorted(
        c for c in set(ref) & set(feature_types) if ref[c].get("kind") != feature_types[c]
    )
    return one_side, changed


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins."""
    import numpy as np

    e_total, a_total = float(expected.sum()), float(actual.sum())
    if e_total == 0 or a_total == 0:
        return 0.0
    p = np.maximum(expected / e_total, _FLOOR)
    q = np.maximum(actual / a_total, _FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


# -- per kind -------------------------------------------------------------------------


def _numeric(
    column: str,
    ref: dict[str, Any],
    series: pd.Series,
    psi_threshold: float,
    p_value: float,
    sample_size: int,
    rng: np.random.Generator,
) -> FeatureDrift:
    import numpy as np

    values = _finite(series)
    edges = np.asarray(ref["edges"], dtype=float)
    counts = _bin_counts(values, edges)
    missing = len(series) - len(values)
    if len(values) > sample_size:
        values = rng.choice(values, sample_size, replace=False)
    return numeric_drift(
        column,
        ref,
        counts,
        missing,
        values,
        psi_threshold=psi_threshold,
        p_value=p_value,
        sample_size=sample_size,
    )


def from_counts(
    chosen: dict[str, dict[str, Any]],
    counted: dict[str, tuple[Any, int]],
    samples: dict[str, Any],
    *,
    psi_threshold: float,
    p_value: float,
    sample_size: int,
) -> list[FeatureDrift]:
    """Each profiled feature's drift from counts an engine computed (Spark, SQL): bin or
    category counts and missing values per column, and a value sample per numeric one."""
    import numpy as np

    found = []
    for column, ref in chosen.items():
        counts, missing = counted[column]
        if ref["kind"] == "numeric":
            found.append(
                numeric_drift(
                    column,
                    ref,
                    np.asarray(counts, dtype=float),
                    missing,
                    samples[column],
                    psi_threshold=psi_threshold,
                    p_value=p_value,
                    sample_size=sample_size,
                )
            )
        else:
            found.append(
                categorical_drift(
                    column,
                    ref,
                    counts,
                    missing,
                    psi_threshold=psi_threshold,
                    p_value=p_value,
                    sample_size=sample_size,
                )
            )
    return found


def numeric_drift(
    column: str,
    ref: dict[str, Any],
    counts: np.ndarray,
    missing: int,
    sample: np.ndarray,
    *,
    psi_threshold: float = PSI_THRESHOLD,
    p_value: float = P_VALUE,
    sample_size: int = SAMPLE_SIZE,
) -> FeatureDrift:
    """A numeric feature's drift from its counts over the reference's bins, its missing
    count and a sample of at most `sample_size` of its values — what an engine computes
    (podium.engine.spark) as well as pandas."""
    import numpy as np
    from scipy import stats

    expected = np.append(np.asarray(ref["counts"], dtype=float), float(ref.get("missing", 0)))
    actual = np.append(np.asarray(counts, dtype=float), float(missing))
    score = psi(expected, actual)
    reference_sample = np.asarray(ref.get("sample", []), dtype=float)
    values = np.asarray(sample, dtype=float)
    if len(reference_sample) < 2 or len(values) < 2:
        statistic, p = 0.0, 1.0
    else:
        result = stats.ks_2samp(reference_sample, values, method="asymp")
        statistic, p = float(result.statistic), float(result.pvalue)
    # KS sees values only; a jump in the share of missing values is drift too.
    present = np.array([expected[:-1].sum(), actual[:-1].sum()])
    absent = np.array([expected[-1], actual[-1]])
    if absent.sum() > 0:
        table = np.vstack(
            [
                _scaled(np.array([present[0], absent[0]]), sample_size),
                _scaled(np.array([present[1], absent[1]]), sample_size),
            ]
        )
        if (table.sum(axis=0) > 0).all() and (table.sum(axis=1) > 0).all():
            p_missing = float(stats.chi2_contingency(table, correction=False).pvalue)
            p = min(1.0, 2 * min(p, p_missing))  # Bonferroni over the two tests
    return FeatureDrift(
        column, "numeric", score, "KS", statistic, p, _flag(score, p, psi_threshold, p_value)
    )


def _categorical(
    column: str,
    ref: dict[str, Any],
    series: pd.Series,
    psi_threshold: float,
    p_value: float,
    sample_size: int,
) -> FeatureDrift:
    counts = series.value_counts(dropna=True)
    current = {str(k): int(v) for k, v in counts.items()}
    return categorical_drift(
        column,
        ref,
        current,
        int(series.isna().sum()),
        psi_threshold=psi_threshold,
        p_value=p_value,
        sample_size=sample_size,
    )


def categorical_drift(
    column: str,
    ref: dict[str, Any],
    current: dict[str, int],
    missing: int,
    *,
    psi_threshold: float = PSI_THRESHOLD,
    p_value: float = P_VALUE,
    sample_size: int = SAMPLE_SIZE,
) -> FeatureDrift:
    """A categorical feature's drift from its category counts (only the reference's
    categories need their own count; the rest may come summed under any other key) and
    its missing count."""
    import numpy as np
    from scipy import stats

    known: dict[str, int] = {k: int(v) for k, v in ref["counts"].items() if k != OTHER}
    names = list(known)
    expected = np.array(
        [known[n] for n in names] + [int(ref["counts"].get(OTHER, 0)), int(ref.get("missing", 0))],
        dtype=float,
    )
    unseen = sum(v for k, v in current.items() if k not in known)
    actual = np.array([current.get(n, 0) for n in names] + [unseen, missing], dtype=float)
    score = psi(expected, actual)
    # The test sees both sides scaled to at most `sample_size` observations.
    table = np.vstack([_scaled(expected, sample_size), _scaled(actual, sample_size)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        statistic, p = 0.0, 1.0
    else:
        result = stats.chi2_contingency(table, correction=False)
        statistic, p = float(result.statistic), float(result.pvalue)
    return FeatureDrift(
        column, "categorical", score, "chi2", statistic, p, _flag(score, p, psi_threshold, p_value)
    )


# -- helpers --------------------------------------------------------------------------


def _flag(score: float, p: float, psi_threshold: float, p_value: float) -> bool:
    return bool(score >= psi_threshold and p < p_value and not math.isnan(p))


def _finite(series: pd.Series) -> np.ndarray:
    import numpy as np

    values: np.ndarray = series.to_numpy(dtype=float, na_value=np.nan)
    kept = np.isfinite(values)
    if kept.all():  # the usual case: no copy of a million values (nothing writes to them)
        return values
    finite: np.ndarray = values[kept]
    return finite


def _edges(values: np.ndarray, bins: int) -> np.ndarray:
    """Inner edges at the reference's quantiles; repeated edges (discrete data) merged."""
    import numpy as np

    if len(values) == 0:
        return np.array([], dtype=float)
    inner = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(inner)


def _bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in (-inf, e0], (e0, e1], …, (ek, inf) of finite `values`."""
    import numpy as np

    if len(edges) > _FEW_EDGES:
        index = np.searchsorted(edges, values, side="left")
        counts: np.ndarray = np.bincount(index, minlength=len(edges) + 1).astype(float)
        return counts
    # A few edges: one vectorised comparison per edge is ~10x faster than a binary search
    # per value (the same counts: a value is in the first bin whose edge it does not exceed).
    at_most = [np.count_nonzero(values <= edge) for edge in edges]
    return np.diff(np.array([*at_most, len(values)], dtype=float), prepend=0.0)


_FEW_EDGES = 16


def _scaled(counts: np.ndarray, size: int) -> np.ndarray:
    total = float(counts.sum())
    return counts if total <= size or total == 0 else counts * (size / total)
