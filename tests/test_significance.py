"""The paired bootstrap (pure) and the `significant: true` gate built on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from sklearn import metrics as skm

from podium import significance
from podium.config import load
from podium.errors import ConfigError
from podium.gates import decide
from podium.scoring import Outputs
from podium.significance import Interval, Resampler, paired_bootstrap

CLASSIFICATION = ["accuracy", "f1", "precision", "recall", "log_loss", "roc_auc"]


def _classifier(
    rng: np.random.Generator, y: np.ndarray, signal: float, k: int = 2, ties: bool = False
) -> Outputs:
    """Probabilities that favour the true class by `signal` (0: pure noise)."""
    logits = rng.normal(size=(len(y), k))
    logits[np.arange(len(y)), y] += signal
    if ties:
        logits = np.round(logits)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return Outputs(predicted=proba.argmax(axis=1), proba=proba, classes=list(range(k)))


def _sklearn(metric: str, y: np.ndarray, model: Outputs, weights: np.ndarray, k: int) -> float:
    kept = weights > 0  # sklearn counts labels of zero-weight rows as present
    y, w = y[kept], weights[kept]
    predicted = np.asarray(model.predicted)[kept]
    proba = None if model.proba is None else np.asarray(model.proba)[kept]
    if metric == "accuracy":
        return float(skm.accuracy_score(y, predicted, sample_weight=w))
    if metric in {"f1", "precision", "recall"}:
        scorer = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}
        return float(
            scorer[metric](y, predicted, average="macro", zero_division=0, sample_weight=w)
        )
    if metric == "log_loss":
        return float(skm.log_loss(y, proba, labels=list(range(k)), sample_weight=w))
    if metric == "roc_auc":
        assert proba is not None
        if k == 2:
            return float(skm.roc_auc_score(y == 1, proba[:, 1], sample_weight=w))
        return float(
            skm.roc_auc_score(
                y, proba, multi_class="ovr", average="macro", labels=list(range(k)), sample_weight=w
            )
        )
    regression = {
        "rmse": lambda: np.sqrt(skm.mean_squared_error(y, predicted, sample_weight=w)),
        "mae": lambda: skm.mean_absolute_error(y, predicted, sample_weight=w),
        "r2": lambda: skm.r2_score(y, predicted, sample_weight=w),
    }
    return float(regression[metric]())


@pytest.mark.parametrize(
    ("k", "ties", "labels"),
    [(2, False, "int"), (2, True, "int"), (4, False, "int"), (3, True, "str")],
    ids=["binary", "binary-ties", "multiclass", "multiclass-ties-text-labels"],
)
def test_each_resample_equals_sklearn_with_the_same_row_weights(
    k: int, ties: bool, labels: str
) -> None:
    rng = np.random.default_rng(k)
    y = rng.integers(0, k, 300)
    challenger, champion = _classifier(rng, y, 1.0, k, ties), _classifier(rng, y, 0.6, k, ties)
    weights = significance._multinomial(rng, 6, len(y))
    target, a, b = y, challenger, champion
    if labels == "str":  # text labels, as pandas gives them, must behave like numbers
        names = np.array(["no", "maybe", "yes"])
        target = names[y]
        a = Outputs(names[challenger.predicted], challenger.proba, classes=list(names))
        b = Outputs(names[champion.predicted], champion.proba, classes=list(names))
    got = Resampler(
        CLASSIFICATION, task="classification", target=target, challenger=a, champion=b
    ).deltas(weights)
    for metric in CLASSIFICATION:
        expected = [
            _sklearn(metric, y, challenger, w, k) - _sklearn(metric, y, champion, w, k)
            for w in weights
        ]
        # Counts are exact; continuous losses are summed in float32 (~1e-7 relative).
        tolerance = 1e-6 if metric == "log_loss" else 1e-12
        np.testing.assert_allclose(got[metric], expected, atol=tolerance, err_msg=metric)


def _auc_over_every_row(positive: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> Any:
    """The resampled AUC as podium computed it up to the sixth session, float for float:
    every row's weight in score order, the cumulative weight of the other class over all
    of them, then (below at the tie group's start + below at its end) / 2 per counted row
    when any two scores tie, below at its end when none do."""
    n = len(scores)
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    flip = positive.mean() > 0.5
    counted = ~positive[order] if flip else positive[order]
    w = weights[:, order].astype(np.int64)
    below = np.zeros((len(w), n + 1), dtype=np.int64)
    below[:, 1:] = np.cumsum(w * ~counted, axis=1)
    ends = np.flatnonzero(np.r_[ordered[1:] != ordered[:-1], True]) + 1
    starts = np.r_[0, ends[:-1]]
    group = np.repeat(np.arange(len(ends)), ends - starts)
    rows = np.flatnonzero(counted)
    mine = w[:, rows]
    if len(ends) < n:
        wins = (mine * (below[:, starts[group[rows]]] + below[:, ends[group[rows]]])).sum(1) / 2
    else:
        wins = (mine * below[:, ends[group[rows]]]).sum(axis=1)
    pairs = mine.sum(axis=1).astype(np.float64) * below[:, -1].astype(np.int32)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = np.where(pairs > 0, wins / pairs, np.nan)
    return 1.0 - auc if flip else auc


@pytest.mark.parametrize(
    ("decimals", "separation", "ties", "by_run"),
    [
        (1, 0.3, True, True),  # few distinct scores
        (3, 0.3, True, False),  # many, tied across the classes
        (3, 0.9, True, True),  # the same, in long runs of one class
        (None, 0.3, False, False),  # no ties: one lookup per counted row
        (None, 0.9, False, True),
    ],
)
@pytest.mark.parametrize("positives", [0.3, 0.7], ids=["rare-positives", "rare-negatives"])
def test_resampled_auc_equals_sklearn_however_the_scores_tie(
    decimals: int | None, separation: float, ties: bool, by_run: bool, positives: float
) -> None:
    # Counted rows tied with the other class need two lookups, and runs of counted rows
    # are summed first when they are few: every way gives the same numbers.
    rng = np.random.default_rng(3)
    n = 4000
    positive = rng.random(n) < positives
    scores = rng.random(n) + separation * positive
    if decimals is not None:
        scores = np.round(scores, decimals)
    auc = significance._BinaryAuc(positive, scores)
    assert (auc.ties, auc.by_run) == (ties, by_run)
    weights = significance._poisson(rng, 5, n)
    found = auc(weights)
    expected = [
        skm.roc_auc_score(positive[w > 0], scores[w > 0], sample_weight=w[w > 0]) for w in weights
    ]
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12)
    # Bit for bit what the bootstrap gave before (its intervals stay the same for a seed).
    assert np.array_equal(found, _auc_over_every_row(positive, scores, weights))
    classic = significance._multinomial(rng, 5, n)  # int32 weights, as below EXACT_MAX_ROWS
    assert np.array_equal(auc(classic), _auc_over_every_row(positive, scores, classic))


def test_poisson_weights_are_one_table_lookup_of_16_bit_draws() -> None:
    # Looked up a piece at a time (cheaper): the same counts as one lookup of every draw,
    # including a last piece shorter than the others.
    size, n = 3, 50_001
    found = significance._poisson(np.random.default_rng(9), size, n)
    raw = np.random.default_rng(9).bit_generator.random_raw((size * n + 3) // 4)
    table = significance._POISSON_TABLE[0]
    expected = np.take(table, raw.view(np.uint16)[: size * n]).reshape(size, n)
    assert found.dtype == np.uint8
    assert np.array_equal(found, expected)
    assert size * n % significance._LOOKUP_PIECE != 0


def test_poisson_counts_give_what_the_same_counts_as_wider_integers_give() -> None:
    # Small counts take cheaper paths (a total in 32-bit integers): the same floats.
    rng = np.random.default_rng(10)
    y = rng.integers(0, 3, 2_000)
    a, b = _classifier(rng, y, 1.0, 3), _classifier(rng, y, 0.7, 3, ties=True)
    resampler = Resampler(CLASSIFICATION, task="classification", target=y, challenger=a, champion=b)
    weights = significance._poisson(rng, 7, len(y))
    narrow, wide = resampler.deltas(weights), resampler.deltas(weights.astype(np.int64))
    for metric in CLASSIFICATION:
        assert np.array_equal(narrow[metric], wide[metric], equal_nan=True), metric


def test_chunks_summed_on_threads_give_the_same_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 12_000)  # above EXACT_MAX_ROWS: Poisson weights, 333 resamples a chunk
    a, b = _classifier(rng, y, 1.0, ties=True), _classifier(rng, y, 0.8)

    def drawn() -> dict[str, np.ndarray]:
        found = significance.resampled_deltas(
            CLASSIFICATION, task="classification", target=y, challenger=a, champion=b
        )
        return found.deltas

    monkeypatch.setattr(significance, "PARALLEL_CELLS", 10**12)
    alone = drawn()
    monkeypatch.setattr(significance, "PARALLEL_CELLS", 0)
    monkeypatch.setattr(significance, "MAX_WORKERS", 3)
    assert significance._workers(1) >= 2
    threaded = drawn()
    assert set(threaded) == set(CLASSIFICATION)
    for metric, values in alone.items():
        np.testing.assert_array_equal(threaded[metric], values, err_msg=metric)


def test_many_classes_are_counted_without_dense_indicators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(significance, "DENSE_MAX_CELLS", 0)
    rng = np.random.default_rng(5)
    y = rng.integers(0, 6, 400)
    a, b = _classifier(rng, y, 1.0, 6), _classifier(rng, y, 0.5, 6)
    weights = significance._multinomial(rng, 4, len(y))
    got = Resampler(
        ["f1", "precision", "recall"], task="classification", target=y, challenger=a, champion=b
    ).deltas(weights)
    for metric in ("f1", "precision", "recall"):
        expected = [_sklearn(metric, y, a, w, 6) - _sklearn(metric, y, b, w, 6) for w in weights]
        np.testing.assert_allclose(got[metric], expected, atol=1e-9, err_msg=metric)


def test_regression_resamples_equal_sklearn() -> None:
    rng = np.random.default_rng(7)
    y = 1000 + 50 * rng.normal(size=400)  # a large mean: R² must not lose precision
    a = Outputs(y + rng.normal(scale=20, size=400))
    b = Outputs(y + rng.normal(scale=25, size=400))
    weights = significance._multinomial(rng, 6, len(y))
    got = Resampler(
        ["rmse", "mae", "r2"], task="regression", target=y, challenger=a, champion=b
    ).deltas(weights)
    for metric in ("rmse", "mae", "r2"):
        expected = [_sklearn(metric, y, a, w, 0) - _sklearn(metric, y, b, w, 0) for w in weights]
        np.testing.assert_allclose(got[metric], expected, rtol=1e-5, atol=1e-6, err_msg=metric)


def test_binary_classifier_without_probabilities_uses_its_decision_function() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    a = Outputs(predicted=y, decision=y + rng.normal(size=300), classes=[0, 1])
    b = Outputs(predicted=y, decision=y + rng.normal(scale=2, size=300), classes=[0, 1])
    found = paired_bootstrap(
        ["roc_auc", "log_loss"], task="classification", target=y, challenger=a, champion=b
    )
    assert found.intervals["roc_auc"].low > 0
    assert "probabilities" in found.skipped["log_loss"]


def test_a_clearly_better_challenger_is_significant() -> None:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 800)
    found = paired_bootstrap(
        CLASSIFICATION,
        task="classification",
        target=y,
        challenger=_classifier(rng, y, 1.5),
        champion=_classifier(rng, y, 0.5),
    )
    assert set(found.intervals) == set(CLASSIFICATION)
    for metric in ("roc_auc", "accuracy", "f1"):
        assert found.intervals[metric].low > 0, metric
    assert found.intervals["log_loss"].high < 0  # lower is better: the whole CI is below 0
    assert found.intervals["roc_auc"].method == "bootstrap"
    assert found.intervals["roc_auc"].resamples == 1000


def test_equal_models_are_rarely_significant() -> None:
    """Two models of the same quality (independent noise): the 95% CI of the AUC
    difference rarely excludes 0 (bounded false-positive rate over seeded repeats)."""
    promoted = excluded = 0
    repeats = 60
    for seed in range(repeats):
        rng = np.random.default_rng(1000 + seed)
        y = rng.integers(0, 2, 400)
        found = paired_bootstrap(
            ["roc_auc", "accuracy"],
            task="classification",
            target=y,
            challenger=_classifier(rng, y, 1.0),
            champion=_classifier(rng, y, 1.0),
            resamples=400,
            seed=seed,
        )
        interval = found.intervals["roc_auc"]
        promoted += interval.low > 0
        excluded += interval.low > 0 or interval.high < 0
    # Nominal rates: 2.5% one-sided (what would promote), 5% two-sided. Seeded, so this
    # is deterministic; the bounds leave room for the percentile interval's small-sample
    # undercoverage, not for a biased or too-narrow bootstrap.
    assert promoted <= 4
    assert excluded <= 7


def test_identical_predictions_give_a_zero_interval() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    same = _classifier(rng, y, 1.0, ties=True)
    found = paired_bootstrap(
        CLASSIFICATION, task="classification", target=y, challenger=same, champion=same
    )
    for metric in CLASSIFICATION:
        assert (found.intervals[metric].low, found.intervals[metric].high) == (0.0, 0.0), metric


def test_tiny_data_gives_no_interval_or_a_wide_one() -> None:
    one = paired_bootstrap(
        ["accuracy"],
        task="classification",
        target=np.array([1]),
        challenger=Outputs(np.array([1])),
        champion=Outputs(np.array([0])),
    )
    assert one.intervals == {}
    assert "at least 2 evaluation rows" in one.skipped["accuracy"]

    y = np.array([0, 1, 0, 1, 1])
    a = Outputs(np.array([0, 1, 0, 1, 0]), np.eye(2)[[0, 1, 0, 1, 0]] * 0.8 + 0.1, classes=[0, 1])
    b = Outputs(np.array([0, 0, 0, 1, 0]), np.eye(2)[[0, 0, 0, 1, 0]] * 0.8 + 0.1, classes=[0, 1])
    few = paired_bootstrap(
        ["accuracy", "roc_auc"], task="classification", target=y, challenger=a, champion=b
    )
    assert few.intervals["accuracy"].low <= 0 < few.intervals["accuracy"].high  # wide: 5 rows
    # Many resamples of 5 rows hold one class only: AUC there is undefined, no interval.
    assert "undefined in" in few.skipped["roc_auc"]


def test_measured_metrics_are_not_bootstrapped() -> None:
    y = np.array([0, 1, 0, 1])
    model = Outputs(y)
    found = paired_bootstrap(
        ["latency_ms", "model_size_mb"],
        task="classification",
        target=y,
        challenger=model,
        champion=model,
    )
    assert found.intervals == {}
    assert set(found.skipped) == {"latency_ms", "model_size_mb"}


def test_seeded_and_reproducible() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    a, b = _classifier(rng, y, 1.0), _classifier(rng, y, 0.9)

    def run(seed: int) -> Interval:
        return paired_bootstrap(
            ["roc_auc"], task="classification", target=y, challenger=a, champion=b, seed=seed
        ).intervals["roc_auc"]

    assert run(0) == run(0)
    assert run(0) != run(1)


def test_poisson_bootstrap_agrees_with_the_classic_one_on_large_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 20_000)
    a, b = _classifier(rng, y, 1.0), _classifier(rng, y, 0.95)

    def interval() -> Interval:
        return paired_bootstrap(
            ["roc_auc"], task="classification", target=y, challenger=a, champion=b, resamples=400
        ).intervals["roc_auc"]

    poisson = interval()
    monkeypatch.setattr(significance, "EXACT_MAX_ROWS", 10**9)
    classic = interval()
    assert (poisson.method, classic.method) == ("poisson-bootstrap", "bootstrap")
    width = classic.high - classic.low
    assert abs((poisson.high - poisson.low) - width) < 0.2 * width
    assert abs((poisson.high + poisson.low) - (classic.high + classic.low)) / 2 < 0.2 * width


# ------------------------------------------------------------------------- the gate


class _Gate:
    def __init__(self, metric: str, min_delta: float, significant: bool = True) -> None:
        self.metric, self.min_delta, self.significant = metric, min_delta, significant
        self.min = self.max = None


def _ci(low: float, high: float) -> Interval:
    return Interval(low, high, 0.95, 1000, 500, "bootstrap")


@pytest.mark.parametrize(
    ("metric", "interval", "min_delta", "passes"),
    [
        ("roc_auc", (0.004, 0.020), 0.0, True),
        ("roc_auc", (-0.002, 0.020), 0.0, False),  # a lucky split: the CI straddles 0
        ("roc_auc", (0.0, 0.0), 0.0, False),  # identical: not significantly better
        ("roc_auc", (0.0, 0.0), -0.005, True),  # …but significantly not worse
        ("roc_auc", (-0.004, 0.01), -0.005, True),
        ("roc_auc", (0.004, 0.02), 0.01, False),  # better, but not by 0.01 for sure
        ("log_loss", (-0.03, -0.01), 0.0, True),  # lower is better: the CI is below 0
        ("log_loss", (-0.03, 0.01), 0.0, False),
    ],
)
def test_significant_gate_needs_the_lower_end_to_clear_min_delta(
    metric: str, interval: tuple[float, float], min_delta: float, passes: bool
) -> None:
    point = (interval[0] + interval[1]) / 2
    verdict = decide(
        {metric: 0.5 + point}, {metric: 0.5}, [_Gate(metric, min_delta)], {metric: _ci(*interval)}
    )
    assert verdict.passed is passes
    assert verdict.checks[0].interval == _ci(*interval).to_dict()
    if not passes and min_delta <= point * (1 if metric == "roc_auc" else -1):
        assert "not significant" in verdict.summary
        assert "95% CI" in verdict.summary


def test_significant_gate_without_an_interval_fails_and_says_why() -> None:
    verdict = decide({"roc_auc": 0.9}, {"roc_auc": 0.8}, [_Gate("roc_auc", 0.0)], {})
    assert not verdict.passed
    assert "no confidence interval" in verdict.summary


def test_significance_does_not_apply_without_a_champion() -> None:
    verdict = decide({"roc_auc": 0.9}, None, [_Gate("roc_auc", 0.0)], {})
    assert verdict.passed
    assert verdict.checks[0].interval is None


def test_intervals_are_shown_for_gates_that_do_not_require_them() -> None:
    gate = _Gate("roc_auc", -0.01, significant=False)
    verdict = decide({"roc_auc": 0.80}, {"roc_auc": 0.81}, [gate], {"roc_auc": _ci(-0.03, 0.01)})
    assert verdict.passed  # only the point estimate is gated
    assert verdict.checks[0].interval is not None
    assert verdict.checks[0].bound == "Δ no worse than 0.01"


# ----------------------------------------------------------------------- the config


def _config(tmp_path: Path, gate: dict[str, Any]) -> Path:
    path = tmp_path / "podium.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "model": {
                    "name": "m",
                    "task": "classification",
                    "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
                },
                "data": {"train": "t.csv", "eval": "e.csv", "target": "y"},
                "gates": [gate],
            }
        )
    )
    return path


def test_config_accepts_a_significant_gate(tmp_path: Path) -> None:
    config = load(_config(tmp_path, {"metric": "roc_auc", "min_delta": 0, "significant": True}))
    assert config.gates[0].significant is True


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"metric": "roc_auc", "min": 0.8, "significant": True}, "needs min_delta"),
        ({"metric": "latency_ms", "min_delta": 0, "significant": True}, "measured once"),
        ({"metric": "roc_auc", "min_delta": 0, "significnt": True}, "did you mean 'significant'"),
    ],
)
def test_config_refuses_a_significant_gate_that_cannot_work(
    tmp_path: Path, gate: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load(_config(tmp_path, gate))
    assert "gates[0]" in str(error.value)
    assert "\n" not in str(error.value)
