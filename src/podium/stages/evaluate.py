"""`podium evaluate`: champion and challenger on the same evaluation data, then the gates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from podium import (
    data,
    delivery,
    gha,
    importance,
    predictions,
    resources,
    results,
    serving,
    warmup,
)
from podium.clock import now_iso
from podium.config import Config
from podium.engine import on_spark
from podium.errors import CheckFailed, InputError
from podium.gates import decide
from podium.registry import Registry, Version, read_feature_types, tags
from podium.registry import champion as champion_moves
from podium.registry.git_branch import change_message
from podium.resources import AT_TRAINING
from podium.results import (
    DataSummary,
    DeliveryMetrics,
    Evaluation,
    GateResult,
    Importance,
    ImportanceRanking,
    ModelScore,
    ServingCheck,
    Significance,
    Slices,
    Training,
)
from podium.scoring import (
    BOOTSTRAPPED,
    InMemoryScoring,
    latency_ms_per_1k,
    predict,
    primary_metric,
    score_outputs,
)
from podium.significance import Bootstrap, paired_bootstrap
from podium.stages import fitting_modules, open_registry, warm_up_registry

if TYPE_CHECKING:
    from podium.engine.spark import SparkTable
    from podium.engine.sql import SqlTable

T = TypeVar("T")


def evaluate(*, config: Config, early: EarlyImportance | None = None) -> Evaluation:
    """Score both models, decide and write `.podium/evaluation.json`; `passed` is the verdict.

    A challenger that cannot be scored at all is CheckFailed (exit 1): there is no verdict.
    `early`: the challenger's importance begun right after its fit (`podium run`).
    """
    trained = Training.load(config.state_dir, needed_by="evaluate", model=config.model.name)
    spec = config.data
    streamed = getattr(spec.eval, "in_database", False) and not config.raw.slices
    in_memory = not on_spark(config) and not streamed
    if in_memory:  # read first (once per process), with MLflow importing beside it
        warm_up_registry(config, also=fitting_modules(config))  # what unpickling imports
        try:
            data.read_table(config.resolve(spec.eval), label="data.eval")
        finally:  # also on bad input: an in-process caller's next import must not race it
            warmup.join()  # before anything else imports: no import may race MLflow's (podium.warmup)
    registry = open_registry(config, writes=True)
    challenger_version = registry.get_version(trained.version)
    if challenger_version.run_id != trained.run_id:
        # Another registry's (or store's) v5 is not this one's v5: it would judge and tag a
        # stranger. The run says which model the file is about; the registry's label would
        # not do (a sqlite path changes when the project folder moves).
        raise InputError(
            f"{config.state_dir / results.TRAINING}: v{trained.version} was trained in run "
            f"{trained.run_id} ({trained.tracking_uri or 'an unnamed registry'}), but "
            f"v{trained.version} in {config.registry_label} comes from run "
            f"{challenger_version.run_id}; re-run podium train"
        )
    champion_version = registry.champion()
    pause = champion_moves.paused(registry)

    task = config.model.task
    computed = None
    spark_sliced = None  # slices: on Spark come with the scores (engine.spark_slices)
    table: data.Table | SparkTable | SqlTable
    if on_spark(config):  # issue 14: scored inside Spark, metrics from aggregates
        from podium.engine import spark_evaluate

        table, (challenger, challenger_run), scored_champion, computed, spark_sliced = (
            spark_evaluate.score_both(
                config=config,
                registry=registry,
                challenger_version=challenger_version,
                champion_version=champion_version,
                challenger_types=trained.feature_types,
            )
        )
        champion, champion_run = scored_champion or (None, None)
    elif streamed:
        from podium.engine import sql_evaluate  # issue 14: streamed, metrics from aggregates

        table, (challenger, challenger_run), scored_champion, computed = sql_evaluate.score_both(
            config=config,
            registry=registry,
            challenger_version=challenger_version,
            champion_version=champion_version,
            challenger_types=trained.feature_types,
        )
        champion, champion_run = scored_champion or (None, None)
    else:
        table = read = data.read_table(config.resolve(spec.eval), label="data.eval")
        challenger, challenger_run = _score(
            registry, challenger_version, read, config, trained.feature_types, strict=True
        )
    if challenger.error:
        raise CheckFailed(
            f"challenger v{challenger.version} could not be scored on {table.path}: "
            f"{challenger.error}"
        )
    if computed is None:
        champion, champion_run = None, None
        if champion_version is not None:
            champion, champion_run = _score(
                registry,
                champion_version,
                read,
                config,
                read_feature_types(champion_version.tags),
            )
    logged = _logged_importance(registry, champion_version, table.sha256)
    begun = early.ranking(table.sha256) if early is not None and computed is None else None
    ranking = partial(
        _importance,
        config,
        challenger_run,
        champion_run,
        champion_logged=logged,
        challenger_begun=begun,
    )
    with _beside(ranking) as ranked:
        bootstrap = _bootstrap(config, challenger_run, champion_run)
        sliced = spark_sliced if computed else _slices(config, read, challenger_run, champion_run)
    if computed is None:  # timed now that importance is done: nothing else runs beside them
        challenger, challenger_run = _with_costs(
            registry, challenger_version, challenger, challenger_run, config, strict=True
        )
        if champion is not None and champion_version is not None:
            champion, champion_run = _with_costs(
                registry, champion_version, champion, champion_run, config
            )
        if challenger.error:
            raise CheckFailed(
                f"challenger v{challenger.version} could not be timed on {table.path}: "
                f"{challenger.error}"
            )
    served, probe = _serving(config, registry, challenger_version, challenger_run, in_memory)
    if served is not None and challenger_run is not None:  # gate-able like any metric
        found = {"serving_parity": served.parity, "serving_latency_ms": served.latency_ms}
        measured = {k: v for k, v in found.items() if v is not None}
        challenger_run.metrics = {**challenger_run.metrics, **measured}
        challenger = challenger.model_copy(update={"metrics": {**challenger.metrics, **measured}})
    itself = champion_version is not None and champion_version.version == challenger.version
    verdict = decide(
        challenger_run.metrics if challenger_run else {},
        # the champion against itself: no change, so only the absolute bounds can say no
        champion_run.metrics if champion_run and not itself else None,
        [gate for gate in config.gates if gate.bounds_whole_set],
        bootstrap.intervals if bootstrap else None,
        unavailable=challenger.unavailable,
    )
    passed = verdict.passed and (sliced is None or sliced.passed)
    said = verdict.summary
    if itself and verdict.passed:  # not a "first champion": the same one, unchanged
        said = "no change: every absolute bound passes"
    summary = _summary(said, verdict.passed, sliced)
    refused = _serving_failure(config, served)
    if refused:
        passed = False
        summary = refused if verdict.passed and "; " not in summary else f"{refused}; {summary}"
    if champion and champion.error:
        summary += f" (champion v{champion.version} could not be scored: {champion.error})"
    if itself:  # re-run after its promotion: there is nothing to replace
        summary += f" (v{challenger.version} is already the champion: compared with itself)"
    outcome = Evaluation(
        model_name=config.model.name,
        tracking_uri=config.registry_label,  # the branch, wherever the copy is
        task=task,
        challenger=challenger,
        champion=champion,
        passed=passed,
        summary=summary,
        checks=[GateResult.model_validate(asdict(c)) for c in verdict.checks],
        gates_are_default=config.gates_are_default,
        eval=DataSummary.model_validate(table.describe()),
        evaluated_at=now_iso(),
        significance=_describe_bootstrap(bootstrap),
        importance=ranked.result(),
        delivery=DeliveryMetrics.model_validate(delivery.of_registry(registry).to_dict()),
        computed=computed,
        slices=sliced,
        paused=pause.describe() if pause is not None else None,
        serving=served,
        positive_class=_positive(config, challenger_version.tags),
    )
    verdict_tags = {
        tags.VERDICT: "passed" if passed else "failed",
        tags.EVALUATED_AGAINST: champion.version if champion else "",
        tags.EVALUATED_AT: outcome.evaluated_at,
    }
    if outcome.importance is not None and isinstance(
        outcome.importance.challenger, ImportanceRanking
    ):  # what the logged ranking was computed on: reused when this version is champion
        verdict_tags[tags.IMPORTANCE_EVAL_SHA256] = table.sha256

    def record(store: Registry) -> None:
        store.set_version_tags(challenger.version, verdict_tags)
        if challenger.run_id and challenger_run is not None:
            store.log_metrics(
                challenger.run_id,
                {f"eval_{k}": v for k, v in challenger_run.metrics.items() if k not in AT_TRAINING},
            )
            if probe is not None:  # every later deployment is verified against it
                store.log_json(challenger.run_id, probe.to_dict(), serving.PROBE_ARTIFACT)
            if outcome.importance is not None:
                store.log_json(
                    challenger.run_id,
                    outcome.importance.model_dump(mode="json"),
                    importance.ARTIFACT,
                )

    provenance = gha.provenance(config.root)
    against = f"v{champion.version}" if champion else "absolute bounds"
    if not itself:  # the champion keeps the verdict it was promoted on
        registry.change(
            record,
            lambda _: change_message(
                f"evaluate {config.model.name} v{challenger.version} against {against}: "
                f"{'passed' if passed else 'failed'}",
                commit=provenance.get("git_commit"),
                run_url=provenance.get("workflow_run"),
                body=summary,
            ),
        )
    outcome.save(config.state_dir)
    gha.set_output("passed", str(passed).lower())
    return outcome


def _serving(
    config: Config,
    registry: Registry,
    version: Version,
    scored: InMemoryScoring | None,
    in_memory: bool,
) -> tuple[ServingCheck | None, serving.Probe | None]:
    """The serving check (`serving:`, or `deploy:`): the candidate behind MLflow's scoring
    server, sent the first `serving.rows` evaluation rows, answers compared with podium's."""
    settings = config.serving
    if settings is None:
        return None, None
    if scored is None:  # nothing scored in this process to compare with
        skipped = None if in_memory else "the engine kept no scored sample in this process"
        check = ServingCheck(env_manager=settings.env_manager, rows=0, skipped=skipped)
        return (check if skipped else None), None
    # Engine sources (Spark, SQL): the rows of the sample scored in this process.
    probe = serving.Probe.of(
        scored.features, scored.outputs, task=config.model.task, rows=settings.rows
    )
    found, healthy = serving.check(
        str(registry.model_files(version)),
        probe,
        env_manager=settings.env_manager,
        requests=settings.requests,
        timeout_seconds=settings.timeout_seconds,
    )
    check = ServingCheck(
        env_manager=settings.env_manager,
        rows=found.rows,
        requests=found.requests,
        parity=found.parity,
        latency_ms=found.latency_ms,
        start_seconds=healthy,
        error=found.error,
        mismatch=found.mismatch,
    )
    return check, probe if check.passed else None


def _serving_failure(config: Config, served: ServingCheck | None) -> str | None:
    """Why the serving check fails the verdict: the server failed, or (unless a gate on
    serving_parity says how much may differ) it answered some probe row differently."""
    if served is None or served.skipped:
        return None
    if served.error:
        return f"serving check failed: {served.error}"
    gated = any(gate.metric == "serving_parity" for gate in config.gates)
    if not gated and served.parity is not None and served.parity < 1.0:
        return (
            f"serving check failed: the scoring server answered {1 - served.parity:.1%} of "
            f"{served.rows} rows differently from podium in-process ({served.mismatch})"
        )
    return None


@contextmanager
def _beside(work: Callable[[], T]) -> Iterator[Future[T]]:
    """`work()` on a second thread while the block runs; done when the block ends.

    Importance (one thread of small predictions) beside the bootstrap and slices (numpy,
    which releases the GIL): independent and each seeded, so the same numbers, in the
    time of the longer on a 2-core runner. BLAS stays at one thread for both throughout,
    so that neither one's limit is undone by the other's.
    """
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    importance.before_threads()
    with (
        threadpool_limits(limits=1, user_api="blas"),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="podium-importance") as pool,
    ):
        yield pool.submit(work)


def _bootstrap(
    config: Config, challenger: InMemoryScoring | None, champion: InMemoryScoring | None
) -> Bootstrap | None:
    """Paired bootstrap intervals of challenger − champion for each gated metric."""
    if challenger is None or champion is None:
        return None
    if not challenger.target.index.equals(champion.target.index):
        return None  # not the same rows: a paired comparison would be meaningless
    gated = [gate.metric for gate in config.gates]
    return paired_bootstrap(
        gated,
        task=config.model.task,
        target=challenger.target.to_numpy(),
        challenger=challenger.outputs,
        champion=champion.outputs,
    )


def _slices(
    config: Config,
    table: data.Table,
    challenger: InMemoryScoring | None,
    champion: InMemoryScoring | None,
) -> Slices | None:
    """Both models on every slice of `slices:` (champion only when on the very same rows)."""
    if not config.raw.slices or challenger is None:
        return None
    from podium.slices import evaluate_slices

    paired = champion is not None and champion.target.index.equals(challenger.target.index)
    return evaluate_slices(
        specs=config.raw.slices,
        gates=config.gates,
        min_rows=config.raw.slices_min_rows,
        frame=table.frame,
        task=config.model.task,
        target=challenger.target,
        challenger=challenger.outputs,
        champion=champion.outputs if paired and champion is not None else None,
        where=str(config.path),
    )


def _summary(whole: str, whole_passed: bool, sliced: Slices | None) -> str:
    """The verdict's reason: the whole set's gates, then the worst failing slices by name."""
    if sliced is None or sliced.passed:
        return whole
    from podium.slices import summary

    named = summary(sliced.failures, sliced.failed)
    return f"{whole}; {named}" if not whole_passed else named


def _logged_importance(
    registry: Registry, champion: Version | None, eval_sha256: str
) -> dict[str, Any] | None:
    """The ranking the champion logged as a challenger, if on this very evaluation data."""
    if champion is None or not champion.run_id:
        return None
    if champion.tags.get(tags.IMPORTANCE_EVAL_SHA256) != eval_sha256:
        return None
    logged = registry.run_json(champion.run_id, importance.ARTIFACT)
    ranking = logged.get("challenger") if logged else None
    return ranking if isinstance(ranking, dict) else None


def _importance(
    config: Config,
    challenger: InMemoryScoring | None,
    champion: InMemoryScoring | None,
    *,
    champion_logged: dict[str, Any] | None = None,
    challenger_begun: Future[dict[str, Any]] | None = None,
) -> Importance | None:
    """Permutation importance of the challenger (and champion) on the evaluation rows.

    The champion's is reused from `champion_logged` (what it logged as the challenger on
    the same evaluation data) when computed as it would be now: the same numbers, free.
    The challenger's comes from `challenger_begun` when `podium run` began it after the
    fit (`EarlyImportance`).
    """
    if challenger is None:
        return None
    task = config.model.task
    metric = _importance_metric(config)
    rankings: dict[str, Any] = {}
    for role, scoring in (("challenger", challenger), ("champion", champion)):
        if scoring is None:
            rankings[role] = None
            continue
        if role == "challenger" and challenger_begun is not None:
            rankings[role] = challenger_begun.result()
            continue
        if role == "champion":
            reused = importance.logged_ranking(champion_logged, scoring.features, metric=metric)
            if reused is not None:
                rankings[role] = reused.to_dict()
                continue
        try:
            ranking = importance.permutation(
                scoring.model, scoring.features, scoring.target, task=task, metric=metric
            )
        except ValueError as exc:  # the comparison must not fail because of insight
            rankings[role] = {"error": str(exc)}
            continue
        rankings[role] = ranking.to_dict()
    return Importance.model_validate(rankings)


def _importance_metric(config: Config) -> str:
    """The metric whose drop ranks the features: the first bootstrapped gate's, else the
    task's primary metric."""
    gated = [g.metric for g in config.gates if g.metric in BOOTSTRAPPED]
    return gated[0] if gated else primary_metric(config.model.task)


class EarlyImportance:
    """The challenger's permutation importance, begun by `podium run` as soon as the model
    is fitted, on a second thread.

    It is what `evaluate` would compute on the registered copy (the same fitted
    parameters: skops stores them exactly), on the same evaluation rows prepared the same
    way, with the same seed — but it runs while the model is logged, registered, loaded
    back and both models are scored: predictions (GIL-free) beside MLflow's Python. Only
    OpenMP is held to one thread here (per thread); the process-wide BLAS setting is left
    to the main thread (BLAS thread counts do not change a prediction's numbers).
    """

    def __init__(self, config: Config) -> None:
        self._config = config
        self._begun: tuple[str, Future[dict[str, Any]]] | None = None

    def begin(self, model: Any, feature_types: dict[str, str]) -> None:
        """Start ranking `model` on data.eval (a file source only; nothing when the
        evaluation data does not prepare: evaluate reports that in its own words)."""
        import threading

        from podium.errors import DataError

        config = self._config
        spec = config.data
        if on_spark(config) or getattr(spec.eval, "in_database", False):
            return
        try:
            table = data.read_table(config.resolve(spec.eval), label="data.eval")
            prepared = _prepared(config, table, feature_types)
        except DataError:
            return
        found: Future[dict[str, Any]] = Future()

        def work() -> None:
            try:
                ranking = importance.permutation(
                    model,
                    prepared.features,
                    prepared.target,
                    task=config.model.task,
                    metric=_importance_metric(config),
                    limit_api="openmp",
                )
                found.set_result(ranking.to_dict())
            except ValueError as exc:  # the comparison must not fail because of insight
                found.set_result({"error": str(exc)})
            except BaseException as exc:  # evaluate raises it, as if computed there
                found.set_exception(exc)

        # A daemon thread: a run that fails before evaluate exits without waiting for it.
        importance.before_threads()
        threading.Thread(target=work, name="podium-importance-early", daemon=True).start()
        self._begun = (table.sha256, found)

    def ranking(self, eval_sha256: str) -> Future[dict[str, Any]] | None:
        """The ranking begun on these very evaluation data, if one was."""
        if self._begun is None or self._begun[0] != eval_sha256:
            return None
        return self._begun[1]


def _describe_bootstrap(bootstrap: Bootstrap | None) -> Significance | None:
    if bootstrap is None:
        return None
    first = next(iter(bootstrap.intervals.values()), None)
    return Significance(
        method=first.method if first else None,
        confidence=first.confidence if first else None,
        rows=first.rows if first else None,
        skipped=bootstrap.skipped,
    )


def _score(
    registry: Registry,
    version: Version,
    table: data.Table,
    config: Config,
    feature_types: dict[str, str] | None,
    *,
    strict: bool = False,
) -> tuple[ModelScore, InMemoryScoring | None]:
    """Quality metrics of one registered version on the evaluation table (errors recorded,
    not raised); what it costs (`_with_costs`) is measured later.

    `strict` (the challenger): evaluation data it cannot use is bad input (exit 2), not a
    failed gate; the champion's problems with new data are recorded instead.
    """
    from podium.errors import DataError

    try:
        prepared = _prepared(config, table, feature_types)
    except DataError as exc:
        if strict:
            raise
        return ModelScore(version=version.version, run_id=version.run_id, error=str(exc)), None
    model = registry.load_model(version)  # any flavor: sklearn as itself, others via pyfunc
    task = config.model.task
    try:
        outputs = predict(model, prepared.features, task)
        metrics = score_outputs(outputs, prepared.target, task)
    except DataError as exc:  # its signature rejects the evaluation columns
        if strict:
            raise
        return ModelScore(version=version.version, run_id=version.run_id, error=str(exc)), None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return ModelScore(version=version.version, run_id=version.run_id, error=_first(exc)), None
    scoring = InMemoryScoring(model, prepared.features, prepared.target, outputs, metrics)
    scored: dict[str, float | None] = dict(metrics)  # NaN becomes None in the model
    return (
        ModelScore(
            version=version.version,
            run_id=version.run_id,
            metrics=scored,
            unavailable=predictions.unavailable(outputs, task),
        ),
        scoring,
    )


def _positive(config: Config, version_tags: dict[str, str]) -> str | None:
    """'bad' (model.positive_class) or "'good' (the second label; …)": which class a binary
    classifier's scores are for, as the report names it; None for other tasks."""
    classes = tags.read_classes(version_tags)
    if config.model.task != "classification" or not classes or len(classes) != 2:
        return None
    chosen = config.model.positive_class
    if chosen is not None:
        return f"{chosen!r} (model.positive_class)"
    return f"{classes[1]!r} (the second of the sorted labels; set model.positive_class to choose)"


def _prepared(
    config: Config, table: data.Table, feature_types: dict[str, str] | None
) -> data.Dataset:
    """The evaluation rows as a model with these feature types is scored on them."""
    spec = config.data
    return data.prepare(
        table,
        target=spec.target,
        task=config.model.task,
        features=spec.features,
        exclude=spec.exclude,
        expected_types=feature_types,
        coerce=spec.coerce_numeric,
    )


def _with_costs(
    registry: Registry,
    version: Version,
    scored: ModelScore,
    scoring: InMemoryScoring | None,
    config: Config,
    *,
    strict: bool = False,
) -> tuple[ModelScore, InMemoryScoring | None]:
    """`scored` with what the version costs: latency, size, training and prediction
    resources — timed single-threaded, with no other work running beside it."""
    from podium.errors import DataError

    if scoring is None:
        return scored, None
    try:
        costs = {"latency_ms": latency_ms_per_1k(scoring.model, scoring.features)}
    except DataError as exc:
        if strict:
            raise
        return ModelScore(version=version.version, run_id=version.run_id, error=str(exc)), None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return ModelScore(version=version.version, run_id=version.run_id, error=_first(exc)), None
    costs["model_size_mb"] = registry.model_size_mb(version)
    costs.update(
        resources.version_costs(
            registry, version, scoring.model, scoring.features, config.raw.metrics.cost_per_cpu_hour
        )
    )
    scoring.metrics = {**scoring.metrics, **costs}
    metrics: dict[str, float | None] = {**scored.metrics, **costs}  # validated: NaN is null
    found = ModelScore(
        version=scored.version,
        run_id=scored.run_id,
        metrics=metrics,
        unavailable=scored.unavailable,
    )
    return found, scoring


def _first(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
