"""`podium evaluate`: champion and challenger on the same evaluation data, then the gates."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from podium import data, gha, results
from podium.config import Config
from podium.errors import CheckFailed, InputError
from podium.gates import decide
from podium.metrics import latency_ms_per_1k, model_size_mb, score
from podium.registry import Registry, Version, now_iso
from podium.stages import open_registry


@dataclass
class Scored:
    version: str
    run_id: str | None
    metrics: dict[str, float]
    error: str | None = None


@dataclass
class EvaluationResult:
    model_name: str
    tracking_uri: str
    task: str
    challenger: Scored
    champion: Scored | None
    passed: bool
    summary: str
    checks: list[dict[str, Any]]
    gates_are_default: bool
    eval: dict[str, object]
    evaluated_at: str


def evaluate(*, config: Config) -> EvaluationResult:
    """Score both models, decide, write `.podium/evaluation.json`; CheckFailed on a failed gate."""
    trained = results.read(
        config.state_dir, results.TRAINING, needed_by="evaluate", produced_by="train"
    )
    if trained.get("model_name") != config.model.name:
        raise InputError(
            f"{config.state_dir / results.TRAINING}: is for model '{trained.get('model_name')}', "
            f"not '{config.model.name}'; re-run `podium train`"
        )
    results.invalidate(config.state_dir, results.EVALUATION)
    registry = open_registry(config)
    challenger_version = registry.get_version(str(trained["version"]))
    champion_version = registry.champion()

    spec = config.data
    table = data.read_table(config.resolve(spec.eval), label="data.eval")
    task = config.model.task
    challenger = _score(
        registry, challenger_version, table, config, trained["feature_types"], strict=True
    )
    if challenger.error:
        raise CheckFailed(
            f"challenger v{challenger.version} could not be scored on {table.path}: "
            f"{challenger.error}"
        )
    champion = None
    if champion_version is not None:
        champion = _score(
            registry, champion_version, table, config, _feature_types(champion_version)
        )
    verdict = decide(
        challenger.metrics,
        champion.metrics if champion and not champion.error else None,
        config.gates,
    )
    summary = verdict.summary
    if champion and champion.error:
        summary += f" (champion v{champion.version} could not be scored: {champion.error})"
    outcome = EvaluationResult(
        model_name=config.model.name,
        tracking_uri=config.tracking_uri,
        task=task,
        challenger=challenger,
        champion=champion,
        passed=verdict.passed,
        summary=summary,
        checks=[asdict(c) for c in verdict.checks],
        gates_are_default=config.gates_are_default,
        eval=table.describe(),
        evaluated_at=now_iso(),
    )
    registry.set_version_tags(
        challenger.version,
        {
            "podium.verdict": "passed" if verdict.passed else "failed",
            "podium.evaluated_against": champion.version if champion else "",
            "podium.evaluated_at": outcome.evaluated_at,
        },
    )
    if challenger.run_id:
        registry.log_metrics(
            challenger.run_id, {f"eval_{k}": v for k, v in challenger.metrics.items()}
        )
    results.write(config.state_dir, results.EVALUATION, asdict(outcome))
    gha.set_output("passed", str(verdict.passed).lower())
    if not verdict.passed:
        raise CheckFailed(f"gates failed: {summary}")
    return outcome


def _feature_types(version: Version) -> dict[str, str] | None:
    try:
        loaded = json.loads(version.tags.get("podium.features", ""))
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None


def _score(
    registry: Registry,
    version: Version,
    table: data.Table,
    config: Config,
    feature_types: dict[str, str] | None,
    *,
    strict: bool = False,
) -> Scored:
    """Metrics of one registered version on the evaluation table (errors recorded, not raised).

    `strict` (the challenger): evaluation data it cannot use is bad input (exit 2), not a
    failed gate; the champion's problems with new data are recorded instead.
    """
    from podium.errors import DataError

    spec = config.data
    try:
        prepared = data.prepare(
            table,
            target=spec.target,
            task=config.model.task,
            features=spec.features,
            exclude=spec.exclude,
            expected_types=feature_types,
        )
    except DataError as exc:
        if strict:
            raise
        return Scored(version.version, version.run_id, {}, error=str(exc))
    model = registry.load_model(version)
    try:
        metrics = score(model, prepared.features, prepared.target, config.model.task)
        metrics["latency_ms"] = latency_ms_per_1k(model, prepared.features)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Scored(version.version, version.run_id, {}, error=first)
    metrics["model_size_mb"] = model_size_mb(model)
    return Scored(version.version, version.run_id, metrics)
