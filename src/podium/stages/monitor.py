"""`podium monitor`: recent production data against what podium recorded about the champion.

Feature drift against the champion's training profile (logged when it was trained)
and, when the production data carries outcomes (the target column), the champion's
live metrics against its evaluation metrics. Results go to `.podium/monitor.json`,
the report to `.podium/monitor.md` and the job summary. When a `monitor:` threshold is
crossed the result has `passed=False` (exit 1) and, in GitHub Actions, podium opens or
updates its one issue for the model and starts the model's promote workflow
(`workflow_dispatch`, with the job's own token) so that it retrains: continuous training
as a closed loop.

Everything that can be bad input is checked before anything is sent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium import __version__, data, gha, monitoring, results
from podium.clock import now_iso
from podium.config import Config, TableSource
from podium.engine.base import prepare_options
from podium.errors import ConfigError, InputError, PodiumError, ServiceError
from podium.registry import Registry, Version, audit, deployments, read_feature_types
from podium.registry.git_branch import change_message
from podium.report import monitoring as monitoring_report
from podium.results import DataSummary, Drift, Monitor
from podium.scoring import BOOTSTRAPPED
from podium.stages import open_registry

MONITOR_REPORT = "monitor.md"
DISPATCH_TOKEN_ENV = "PODIUM_DISPATCH_TOKEN"


@dataclass
class Monitored:
    """What `podium monitor` measured and rendered, and whether alerting on GitHub failed.

    `result.passed=False` is an outcome (exit 1); `alert_failure` is an error podium met
    while alerting (exit 2/3), raised by the CLI after the report is shown.
    """

    result: Monitor
    markdown: str
    path: Path
    alert_failure: PodiumError | None = None


def monitor(
    *,
    config: Config,
    data_path: str | None = None,
    github_token: str | None = None,
    dispatch_token: str | None = None,
    comment_author: str | None = None,
) -> Monitored:
    """Check production data; write the result and report; alert on GitHub when crossed.

    podium's issue is found by its marker and its author, `comment_author` (default
    $PODIUM_COMMENT_AUTHOR, else github-actions[bot])."""
    settings = config.monitor
    env = gha.github_env()
    source, label = _source(config, data_path)
    registry = open_registry(config)
    champion = _watched(config, registry)
    if champion is None:
        raise InputError(
            f"model '{config.model.name}' has no champion yet: nothing to monitor; "
            "promote one first (`podium run`)"
        )
    types = _feature_types(champion)
    labelled = None
    production = None  # an engine: spark source stays in Spark (engine.spark_monitor)
    if isinstance(source, TableSource) and source.engine == "spark":
        from podium.engine import spark_monitor

        production = spark_monitor.read(config, source, label=label, types=types)
        table: Any = production.table
        features: Any = production
        has_outcomes = production.labelled is not None
    else:
        table = data.read_table(source, label=label)
        features = data.features_like(table, types, label=label, coerce=config.data.coerce_numeric)
        target = config.data.target
        has_outcomes = target in table.frame.columns and bool(table.frame[target].notna().any())
    if has_outcomes and production is None:  # bad outcomes are bad input: fail now
        options = prepare_options(config, types)
        labelled = data.prepare(table, **options, coerce=config.data.coerce_numeric)

    notes: list[str] = []
    found_drift = _drift(config, registry, champion, features, types, notes)
    live: dict[str, float] = {}
    reference: dict[str, float] = {}
    monitored = _monitored(config)
    # Every run loads the champion: whether it loads is what model uptime is made of.
    model, load_error = _load(registry, champion)
    labelled_rows = production.labelled_rows if production is not None else 0
    if labelled is not None:
        labelled_rows = len(labelled.target)
    if has_outcomes and model is not None:
        from podium.scoring import score

        if production is not None:
            live, said = spark_monitor.live_metrics(config, production, champion, model)
            notes.append(said)
        elif labelled is not None:
            live = score(model, labelled.features, labelled.target, config.model.task)
        recorded = registry.run_metrics(champion.run_id) if champion.run_id else {}
        reference = {m: recorded[f"eval_{m}"] for m in monitored if f"eval_{m}" in recorded}
    elif not has_outcomes:
        notes.append(f"no outcomes ('{config.data.target}') in the production data: drift only")
    alerts, comparisons, more = monitoring.assess(
        drift=found_drift,
        live=live,
        reference=reference,
        labelled_rows=labelled_rows,
        metrics=monitored,
        max_drifted_share=settings.max_drifted_share,
        max_psi=settings.max_psi,
        max_metric_drop=settings.max_metric_drop,
        relative=settings.metric_drop == "relative",
        min_labelled_rows=settings.min_labelled_rows,
    )
    if load_error is not None:
        alerts.insert(0, f"champion v{champion.version} does not load: {load_error}")
    retrain = bool(alerts)  # a data alert asks for retraining; an endpoint's does not
    probed = _endpoints(config, registry)
    alerts += [f"endpoint {p.environment}: {p.reasons[0]}" for p in probed if not p.up]
    outcome = Monitor(
        model_name=config.model.name,
        champion_version=champion.version,
        passed=not alerts,
        alerts=alerts,
        notes=notes + more,
        data=DataSummary.model_validate(table.describe()),
        rows=table.rows,
        labelled_rows=labelled_rows,
        drift=found_drift,
        metrics=comparisons,
        max_metric_drop=settings.max_metric_drop,
        metric_drop=settings.metric_drop,
        checked_at=now_iso(),
    )
    check = audit.Check(
        at=outcome.checked_at,
        version=champion.version,
        loaded=load_error is None,
        alert=not outcome.passed,
        reasons=list(outcome.alerts),
        drifted_share=found_drift.drifted_share if found_drift else None,
    )

    def record(store: Registry) -> None:
        audit.record_check(store, check)
        for looked in probed:
            deployments.record_probe(store, looked)

    registry.change(  # on a branch-kept registry: one commit, pushed
        record,
        lambda _: change_message(
            f"monitor {config.model.name} v{champion.version}: "
            + ("alert: " + "; ".join(outcome.alerts) if not outcome.passed else "ok"),
            commit=None,
            run_url=env.run_url,
        ),
    )
    failure = None
    if not outcome.passed:
        failure = _alert(
            config, outcome, env, github_token, dispatch_token, comment_author, retrain=retrain
        )
    markdown, path = _write(config, outcome, env)
    gha.summary(markdown, full=path)
    gha.set_output("alert", str(not outcome.passed).lower())
    gha.set_output("issue-url", outcome.issue_url or "")
    if failure is not None:
        failure = type(failure)(f"{failure}; the monitoring report is in {config.state_dir}")
    return Monitored(result=outcome, markdown=markdown, path=path, alert_failure=failure)


def _watched(config: Config, registry: Registry) -> Version | None:
    """The version to watch: live in the last `deploy:` environment, else `@champion`."""
    if config.deploy:
        live = registry.alias(config.deploy[-1].environment)
        if live is not None:
            return live
    return registry.champion()


def _endpoints(config: Config, registry: Registry) -> list[deployments.Probed]:
    """Every `deploy:` endpoint now: healthy, and answering as its live version."""
    if not config.deploy:
        return []
    from podium.config import ServingSection
    from podium.stages.status import look

    trail = deployments.history(registry)
    settings = config.serving or ServingSection()
    found = []
    for target in config.deploy:
        now = look(registry, target, trail, settings)
        found.append(
            deployments.Probed(
                at=now_iso(),
                environment=target.environment,
                version=now.version,
                healthy=bool(now.healthy),
                parity=now.parity if now.version else 1.0,
                latency_ms=now.latency_ms,
                reasons=[now.problem] if now.problem else [],
            )
        )
    return found


def _source(config: Config, data_path: str | None) -> tuple[Path | TableSource, str]:
    if data_path:
        return Path(data_path).expanduser().resolve(), "--data"
    if config.monitor.data is None:
        raise ConfigError(
            f"{config.path}: no production data to monitor; pass --data PATH or set "
            "monitor.data (a csv/parquet path or a SQL source) in podium.yaml"
        )
    return config.resolve(config.monitor.data), "monitor.data"


def _load(registry: Registry, champion: Version) -> tuple[Any, str | None]:
    """The champion's model, or why it does not load (an outage, recorded and alerted).

    A registry that cannot be reached is not the champion's fault: that stays exit 3; files
    changed since registration are never loaded: exit 2 naming the file (IntegrityError).
    """
    from podium.registry.integrity import IntegrityError

    try:
        return registry.load_model(champion), None
    except (ServiceError, IntegrityError):
        raise
    except Exception as exc:  # any other failure to load is the outage to record
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, first[:300]


def _feature_types(champion: Version) -> dict[str, str]:
    types = read_feature_types(champion.tags)
    if not types:
        raise InputError(
            f"champion v{champion.version} records no feature list (tag podium.features); "
            "retrain and promote it with this podium version"
        )
    return types


def _monitored(config: Config) -> list[str]:
    if config.monitor.metrics is not None:
        return list(config.monitor.metrics)
    gated = [g.metric for g in config.gates if g.metric in BOOTSTRAPPED]
    return list(dict.fromkeys(gated))


def _drift(
    config: Config,
    registry: Registry,
    champion: Version,
    features: Any,
    types: dict[str, str],
    notes: list[str],
) -> Drift | None:
    import pandas as pd

    from podium import drift

    profile = (
        registry.run_json(champion.run_id, drift.PROFILE_ARTIFACT) if champion.run_id else None
    )
    if profile is None:
        notes.append(
            f"drift not measured: champion v{champion.version} has no recorded data profile "
            f"({drift.PROFILE_ARTIFACT}); retrain it with this podium version"
        )
        return None
    settings = config.monitor
    psi, p_value = settings.psi_threshold, settings.p_value
    if isinstance(features, pd.DataFrame):
        found = drift.compare(profile, features, types, psi_threshold=psi, p_value=p_value)
    else:  # engine: spark — aggregates in the engine
        from podium.engine import spark_monitor

        found = spark_monitor.compare(features, profile, psi_threshold=psi, p_value=p_value)
    verdict = drift.judge(
        found, max_drifted_share=settings.max_drifted_share, max_psi=settings.max_psi
    )
    return Drift.model_validate(
        {  # the alerts say why; `passed` keeps the drift section from showing ✅ beside them
            "reference_version": champion.version,
            "passed": verdict.passed,
            "drifted_share": drift.drifted_share(found),
            "max_drifted_share": settings.max_drifted_share,
            "max_psi": settings.max_psi,
            "features": [f.to_dict() for f in found],
        }
    )


def _context(config: Config, env: gha.GitHubEnv) -> dict[str, Any]:
    return {"podium_version": __version__, "run_url": env.run_url, "root": str(config.root)}


def _write(config: Config, outcome: Monitor, env: gha.GitHubEnv) -> tuple[str, Path]:
    outcome.save(config.state_dir)
    markdown = monitoring_report.render(outcome, _context(config, env))
    return markdown, results.write_state(config.state_dir, MONITOR_REPORT, markdown)


def _alert(
    config: Config,
    outcome: Monitor,
    env: gha.GitHubEnv,
    github_token: str | None,
    dispatch_token: str | None,
    comment_author: str | None,
    *,
    retrain: bool = True,
) -> PodiumError | None:
    """Open/update the issue and request retraining (`retrain`: for data alerts only);
    the first GitHub failure, if any."""
    settings = config.monitor
    explicit = github_token is not None or dispatch_token is not None
    if not (env.in_actions or explicit):
        outcome.skipped.append("not in GitHub Actions: no issue, no dispatch")
        return None
    repository = env.repository or ""
    if not repository:
        return InputError("GITHUB_REPOSITORY is not set: set it to 'owner/name' to alert on GitHub")
    from podium.github import GitHub

    api_url = env.api_url
    failure: PodiumError | None = None
    token = github_token or env.token or ""
    # The job's own token may start a workflow (`actions: write`); a dispatch token is an
    # optional override (a GitHub App's, say).
    dispatch = dispatch_token or os.environ.get(DISPATCH_TOKEN_ENV) or token
    if settings.issue and token:
        gha.mask(token)
        try:
            author = comment_author or env.comment_author
            client = GitHub(token=token, repository=repository, api_url=api_url, author=author)
            # The issue shows what will happen next, so render it as if dispatched.
            planned = outcome.model_copy(
                update={"dispatched": settings.dispatch and bool(dispatch)}
            )
            body = monitoring_report.render(planned, _context(config, env))
            posted = client.upsert_issue(
                monitoring_report.marker(config.model.name), monitoring_report.title(planned), body
            )
            outcome.issue_url, outcome.issue_created = posted.url, posted.created
            if warning := posted.unexpected_author(client.author):
                gha.warning(f"monitoring issue: {warning}")
        except PodiumError as exc:
            failure = exc
    elif settings.issue:
        outcome.skipped.append("no GitHub token (--github-token / GITHUB_TOKEN): no issue")
        gha.warning("monitoring alert: no GitHub token to open the issue (GITHUB_TOKEN)")
    if settings.dispatch and dispatch and retrain and not isinstance(failure, ServiceError):
        gha.mask(dispatch)
        from podium.stages.init import file_name

        reason = "; ".join(outcome.alerts)
        if outcome.issue_url:
            reason += f" ({outcome.issue_url})"
        try:
            client = GitHub(token=dispatch, repository=repository, api_url=api_url)
            client.start_workflow(
                file_name(config.model.name, "promote"),
                config.ci.main_branch,
                {"reason": f"podium monitor: {reason}"[:1000]},
            )
            outcome.dispatched = True
        except PodiumError as exc:
            failure = failure or exc
    elif settings.dispatch and not dispatch:
        outcome.skipped.append(
            "no GitHub token (GITHUB_TOKEN, or the dispatch token from secret "
            f"{config.ci.secrets.dispatch_token}): retraining not requested"
        )
        gha.warning(
            "monitoring alert: retraining not requested — pass the job's token "
            "(GITHUB_TOKEN, with `permissions: actions: write`)"
        )
    return failure
