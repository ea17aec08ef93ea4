"""`podium evaluate` on a real sqlite registry: intervals, significance, importance."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import STRONG, STRONG_PARAMS, Project
from tests.stages.test_loop import ENTRYPOINT


def _evaluation(project: Project) -> dict[str, Any]:
    loaded = json.loads((project.state / "evaluation.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_a_significant_gate_promotes_a_real_improvement_and_refuses_a_tie(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    project = make_project(
        gates=[
            {"metric": "roc_auc", "min": 0.6, "min_delta": 0, "significant": True},
            {"metric": "accuracy", "min_delta": -0.02},
        ]
    )
    first = project.cli("run")
    assert first.code == 0, first.err
    assert _evaluation(project)["checks"][0]["interval"] is None  # no champion to pair with

    project.set_estimator(STRONG, **STRONG_PARAMS)
    better = project.cli("run")
    assert better.code == 0, better.err
    evaluated = _evaluation(project)
    roc_auc, accuracy = evaluated["checks"]
    assert roc_auc["interval"]["low"] > 0  # depth-3 tree vs stump: clearly better
    assert roc_auc["interval"]["low"] <= roc_auc["delta"] <= roc_auc["interval"]["high"]
    assert roc_auc["interval"]["rows"] == 600
    assert accuracy["interval"] is not None  # shown for every gated quality metric
    assert evaluated["significance"]["method"] == "bootstrap"
    assert registry_of(project).champion().version == "2"
    report = (project.state / "report.md").read_text()
    assert "roc_auc improves by" in report
    assert "(95% CI +" in report
    # Delivery metrics measured after this promotion (issue 31: the footer named the old
    # champion under a headline crowning the new one): v1 and v2 evaluated and promoted.
    delivery = evaluated["delivery"]
    assert (delivery["total_promotions"], delivery["candidates"], delivery["success_rate"]) == (
        2,
        2,
        1.0,
    )
    assert delivery["champion_version"] == "2"
    assert (
        "Delivery (last 90 days): 0.7 promotions / 30 days · 100% of candidates promoted (2/2)"
        in report
    )

    # The same estimator again: identical predictions, a zero-width interval at 0.
    tie = project.cli("run")
    assert tie.code == 1
    evaluated = _evaluation(project)
    assert (
        evaluated["checks"][0]["interval"]["low"],
        evaluated["checks"][0]["interval"]["high"],
    ) == (0, 0)
    assert not evaluated["passed"]
    assert "not significant" in evaluated["summary"]
    assert "not significant" in tie.err
    assert registry_of(project).champion().version == "2"


def test_importance_of_both_models_is_logged_and_reported_for_a_user_entrypoint(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    import mlflow

    project.use_entrypoint(ENTRYPOINT)
    first = project.cli("run")
    assert first.code == 0, first.err
    found = _evaluation(project)["importance"]
    assert found["champion"] is None
    assert found["challenger"]["metric"] == "roc_auc"  # the gated metric

    second = project.cli("run")
    assert second.code == 0, second.err
    evaluated = _evaluation(project)
    found = evaluated["importance"]
    features = {f["feature"] for f in found["challenger"]["features"]}
    assert features == {
        "tenure_months",
        "monthly_charges",
        "support_calls",
        "plan",
        "region",
        "payment",
        "age",
    }  # raw columns, not the entrypoint's one-hot internals
    assert found["challenger"]["rows"] == 600
    assert [f["rank"] for f in found["champion"]["features"]] == list(range(1, 8))
    # Same entrypoint, same data: the same ranking.
    assert found["challenger"]["features"] == found["champion"]["features"]

    run_id = evaluated["challenger"]["run_id"]
    registry_of(project)  # points MLflow at the project's store
    logged = mlflow.artifacts.load_dict(f"runs:/{run_id}/podium/importance.json")
    assert logged == found
    report = (project.state / "report.md").read_text()
    top = found["challenger"]["features"][0]["feature"]
    assert f"Top features (drop in roc_auc when shuffled): `{top}` (still 1st)" in report
    assert "Feature importance of challenger v2" in report


def test_the_champion_s_importance_is_reused_on_the_same_evaluation_data_only(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    import mlflow
    import pandas as pd

    run_id = _evaluation(champion_project)["challenger"]["run_id"]
    registry = registry_of(champion_project)  # points MLflow at the champion_project's store
    logged = mlflow.artifacts.load_dict(f"runs:/{run_id}/podium/importance.json")
    marked = logged["challenger"]
    for feature in marked["features"]:
        feature["importance"] = 0.125  # what recomputing could never give
    registry.log_json(run_id, {"challenger": marked, "champion": None}, "podium/importance.json")

    assert champion_project.cli("run", "--no-promote").code == 0
    assert (
        _evaluation(champion_project)["importance"]["champion"] == marked
    )  # reused, not recomputed

    held_out = champion_project.root / "data" / "eval.csv"
    pd.read_csv(held_out).iloc[:-1].to_csv(held_out, index=False)  # new evaluation data
    assert champion_project.cli("run", "--no-promote").code == 0
    recomputed = _evaluation(champion_project)["importance"]["champion"]
    assert recomputed["rows"] == 599
    assert {f["importance"] for f in recomputed["features"]} != {0.125}


def test_resource_use_is_recorded_per_version_shown_and_gateable(
    make_project: Callable[..., Project],
) -> None:
    project = make_project()
    document = project.config()
    document["metrics"] = {"cost_per_cpu_hour": 3600.0}  # one unit per CPU second
    project.write_config(document)
    assert project.cli("run").code == 0
    trained = json.loads((project.state / "train.json").read_text())
    assert trained["fit_cpu_seconds"] > 0 and trained["fit_peak_memory_mb"] is not None
    project.update(
        gates=[{"metric": "roc_auc", "min": 0.6}, {"metric": "fit_cpu_seconds", "max": 1e-9}]
    )
    done = project.cli("run")
    assert done.code == 1
    evaluated = _evaluation(project)
    for role in ("challenger", "champion"):
        metrics = evaluated[role]["metrics"]
        assert metrics["fit_cpu_seconds"] > 0
        assert metrics["fit_cost"] == pytest.approx(metrics["fit_cpu_seconds"])
        assert metrics["predict_memory_mb"] > 0
    assert "fit_cpu_seconds" in evaluated["summary"] and "above the maximum" in evaluated["summary"]
    report = (project.state / "report.md").read_text()
    assert "| training CPU (s) |" in report and "| prediction memory (MB / 1k rows) |" in report


def test_evaluate_re_run_after_a_promotion_says_the_challenger_is_the_champion(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    # A user re-ran `podium evaluate` after `podium run` promoted v1: it scored v1 against
    # itself, printed "challenger v1 would replace champion v1" and overwrote the verdict
    # v1 was promoted on with one against itself.
    promoted_on = registry_of(champion_project).get_version("1").tags
    again = champion_project.cli("evaluate")
    assert again.code == 0, again.err
    assert "challenger v1 is already the champion" in again.out + again.err
    assert "would replace" not in again.out + again.err
    assert (
        "v1 is already the champion: compared with itself"
        in _evaluation(champion_project)["summary"]
    )
    assert registry_of(champion_project).get_version("1").tags == promoted_on
    assert champion_project.cli("report").code == 0
    report = (champion_project.state / "report.md").read_text()
    assert "challenger **v1** is already the champion" in report
    assert "**Nothing to promote** — v1 was compared with itself" in report


def test_a_train_json_from_another_registry_is_refused_not_evaluated(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    # A user trained against an MLflow server, then ran `podium evaluate` with the registry
    # on a git branch: its own v1 was judged (and tagged) as if it were the server's v1.
    assert project.cli("train").code == 0
    first_run = registry_of(project).get_version("1").run_id
    registry = project.config().get("registry", {})
    project.update(registry={**registry, "tracking_uri": "sqlite:///.podium/other.db"})
    assert project.cli("train").code == 0  # v1 of the other store, in another run
    other = json.loads((project.state / "train.json").read_text())["run_id"]
    project.update(registry={**registry, "tracking_uri": "sqlite:///.podium/mlflow.db"})
    refused = project.cli("evaluate")
    assert refused.code == 2
    assert refused.err.strip().splitlines() == [
        f"podium: {project.state / 'train.json'}: v1 was trained in run {other} "
        f"(sqlite:///{project.state}/other.db), but v1 in sqlite:///{project.state}/mlflow.db "
        f"comes from run {first_run}; re-run podium train"
    ]
    assert "podium.verdict" not in registry_of(project).get_version("1").tags


def test_importance_beside_the_bootstrap_is_the_same_and_leaves_thread_limits_as_found() -> None:
    """Run on a second thread while the bootstrap runs, importance ranks as it does alone,
    the bootstrap's intervals are unchanged, and no thread limit outlives the block."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_info

    from podium import importance
    from podium.scoring import predict
    from podium.significance import paired_bootstrap
    from podium.stages.evaluate import _beside

    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(size=(3000, 4)), columns=["a", "b", "c", "d"])
    y = pd.Series((x["a"] + 0.5 * x["b"] + rng.normal(size=3000) > 0).astype(int))
    strong = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(x, y)
    weak = HistGradientBoostingClassifier(max_iter=2, random_state=0).fit(x, y)

    def ranking() -> dict[str, Any]:
        found = importance.permutation(strong, x, y, task="classification", metric="roc_auc")
        return found.to_dict()

    def intervals() -> dict[str, Any]:
        found = paired_bootstrap(
            ["roc_auc", "accuracy"],
            task="classification",
            target=y.to_numpy(),
            challenger=predict(strong, x, "classification"),
            champion=predict(weak, x, "classification"),
        )
        return {metric: vars(interval) for metric, interval in found.intervals.items()}

    alone, alone_intervals = ranking(), intervals()
    limits = [(pool["internal_api"], pool["num_threads"]) for pool in threadpool_info()]
    with _beside(ranking) as ranked:
        beside_intervals = intervals()
    assert ranked.result() == alone
    assert beside_intervals == alone_intervals
    assert [(pool["internal_api"], pool["num_threads"]) for pool in threadpool_info()] == limits


def test_importance_begun_after_the_fit_is_what_evaluate_computes_on_the_registered_model(
    make_project: Callable[..., Project],
) -> None:
    """`podium run` ranks the in-memory challenger beside its logging; evaluate alone ranks
    the registered copy: the same numbers, and the early one is the one reported."""
    from podium.config import load
    from podium.data import read_table
    from podium.stages.evaluate import EarlyImportance, evaluate
    from podium.stages.train import train

    project = make_project()
    project.set_estimator(STRONG, **STRONG_PARAMS)
    config = load(project.config_path)
    early = EarlyImportance(config)
    train(config=config, on_fitted=early.begin)
    eval_sha = read_table(config.resolve(config.data.eval), label="data.eval").sha256
    begun = early.ranking(eval_sha)
    assert begun is not None  # begun on these evaluation data, before evaluate started
    assert early.ranking("another evaluation file") is None
    with_early = evaluate(config=config, early=early)
    assert with_early.importance is not None
    reported = with_early.importance.model_dump(mode="json")["challenger"]
    assert reported == begun.result()
    alone = evaluate(config=config)  # a fresh ranking of the model loaded from the registry
    assert alone.importance is not None
    assert alone.importance.model_dump(mode="json")["challenger"] == reported
    assert [f["rank"] for f in reported["features"]] == list(range(1, 8))
