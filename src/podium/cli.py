"""The `podium` command: parse, dispatch to one stage, map errors to exit codes.

Start-up must stay fast: nothing heavy (MLflow, scikit-learn, pandas, GX, pydantic)
is imported here; each stage imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, Protocol

from podium import __version__

EXIT_OK, EXIT_CHECK, EXIT_INPUT, EXIT_SERVICE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other bad input,
    and no abbreviated options (`--no-prom` must not silently mean `--no-promote`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _say(line: str) -> None:
    print(line, flush=True)


def _complain(message: str) -> None:
    """One line on stderr (`podium: …`) and, in GitHub Actions, an `::error::` annotation."""
    from podium import gha

    message = gha.one_line(message)  # may quote result files: never a runner command
    print(f"podium: {message}", file=sys.stderr, flush=True)
    gha.error(message)


class _Outcome(Protocol):
    """A stage's result: `failure` is why it did not pass (None when it did)."""

    @property
    def failure(self) -> str | None: ...


def _outcome(result: _Outcome, lines: Iterable[str]) -> int:
    """Print a stage's result; a failed check or gate (`result.failure`) is exit 1.

    Outcomes are values: the stage returned normally and wrote its result either way.
    """
    for line in lines:
        _say(line)
    if result.failure:
        _complain(result.failure)
        return EXIT_CHECK
    return EXIT_OK


def _config(args: argparse.Namespace) -> Any:
    from podium.config import load

    return load(args.config)


def _cmd_validate(args: argparse.Namespace) -> int:
    from podium.stages.validate import validate

    checked = validate(config=_config(args))
    lines = [f"{'✓' if c.passed else '✗'} {c.name}: {c.detail}" for c in checked.checks]
    return _outcome(checked, lines + [f"  note: {note}" for note in checked.notes])


def _cmd_suggest(args: argparse.Namespace) -> int:
    from podium.stages.suggest import suggest

    config = _config(args)
    output = Path(args.output).resolve() if args.output else None
    outcome = suggest(config=config, output=output, force=args.force)
    _say(f"wrote {outcome.expectations} expectations ({outcome.columns} columns) to {outcome.path}")
    if not outcome.configured:
        where = outcome.path
        if where.is_relative_to(config.root):
            where = where.relative_to(config.root)
        _say(f"next: review and commit it, then set `data.expectations: {where}` in podium.yaml")
    return EXIT_OK


def _cmd_train(args: argparse.Namespace) -> int:
    from podium.stages.train import train

    config = _config(args)
    outcome = train(config=config, retrain=args.retrain)
    if outcome.not_retrained:
        _say(f"{outcome.model_name}: challenger v{outcome.version} is {outcome.not_retrained}")
        return EXIT_OK
    _say(
        f"registered {outcome.model_name} v{outcome.version} "
        f"(run {outcome.run_id}, {outcome.estimator}, fit {outcome.fit_seconds:.1f}s) "
        f"in {config.registry_label}"
    )
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from podium import report
    from podium.stages.evaluate import evaluate

    config = _config(args)
    evaluated = evaluate(config=config)
    title, verdict = report.headline(evaluated, None, model_name=config.model.name, plain=True)
    # the table, whether the gates passed or not
    return _outcome(evaluated, [title, verdict, "\n".join(report.metrics_table_text(evaluated))])


def _cmd_report(args: argparse.Namespace) -> int:
    from podium import gha
    from podium.stages.report import publish_report

    outcome = publish_report(
        config=_config(args),
        github_token=args.github_token,
        pr=args.pr,
        comment_author=args.comment_author,
    )
    # The report holds values from result files (a fork's, under workflow_run).
    gha.print_untrusted(outcome.markdown, full=outcome.path)
    summary = " and the job summary" if outcome.in_summary else ""
    _say(f"report written to {outcome.path}{summary}")
    if outcome.comment_url:
        done = "posted" if outcome.comment_created else "updated"
        cut = " (shortened to fit a comment)" if outcome.truncated else ""
        _say(f"PR comment {done}{cut}: {outcome.comment_url}")
    if outcome.status:
        _say(f"commit status: {outcome.status}")
    return EXIT_OK


def _cmd_promote(args: argparse.Namespace) -> int:
    from podium.stages.promote import promote

    outcome = promote(config=_config(args), reason=args.reason)
    if outcome.failure:  # refused: the message says why
        return _outcome(outcome, [])
    if outcome.paused:
        return _outcome(outcome, [f"not promoted: {outcome.reason}"])
    if outcome.promoted:
        was = f"v{outcome.previous_version}" if outcome.previous_version else "none"
        return _outcome(
            outcome, [f"promoted: champion is now v{outcome.champion_version} (was {was})"]
        )
    return _outcome(outcome, [f"nothing to do: v{outcome.champion_version} is {outcome.reason}"])


def _cmd_rollback(args: argparse.Namespace) -> int:
    from podium.stages.rollback import rollback

    event = rollback(config=_config(args), reason=args.reason, to=args.to, force=args.force)
    was = f"v{event.previous}" if event.previous else "none"
    _say(f"rolled back: champion is now v{event.version} (was {was}) — {event.reason}")
    _say("automatic promotion is paused until a new commit or `podium resume`")
    return EXIT_OK


def _cmd_resume(args: argparse.Namespace) -> int:
    from podium.stages.resume import resume

    event = resume(config=_config(args), reason=args.reason)
    _say(f"resumed: promotions may move @champion (v{event.version}) again — {event.reason}")
    return EXIT_OK


def _cmd_history(args: argparse.Namespace) -> int:
    from podium.stages.history import history

    events = history(config=_config(args))
    if args.json:
        _say(json.dumps([e.to_dict() for e in events], indent=2))
        return EXIT_OK
    if not events:
        _say("no champion moves recorded yet")
        return EXIT_OK
    for e in events:
        was = f"v{e.previous}" if e.previous else "—"
        commit = f" @{e.commit[:7]}" if e.commit else ""
        if e.triggering_actor and e.triggering_actor != e.actor:
            commit += f", triggered by {e.triggering_actor}"
        if e.approvers is not None:
            commit += f", approved by {', '.join(e.approvers) or 'no reviewer'}"
        _say(
            f"{e.at}  {e.action:<8} v{e.version:<4} (was {was:<4}) by {e.actor}{commit}: {e.reason}"
        )
    return EXIT_OK


def _cmd_card(args: argparse.Namespace) -> int:
    from podium.stages.card import card

    sys.stdout.write(card(config=_config(args), version=args.model_version, fmt=args.format))
    return EXIT_OK


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from podium.stages.reproduce import reproduce

    done = reproduce(
        config=_config(args),
        version=args.model_version,
        data_from=args.data_from,
        tolerance=args.tolerance,
        say=_say,
    )
    return _outcome(done, done.lines())


def _cmd_maturity(args: argparse.Namespace) -> int:
    from podium.stages.maturity import maturity

    graded = maturity(config=_config(args))
    _say(json.dumps(graded.model_dump(mode="json"), indent=2) if args.json else graded.text())
    return EXIT_OK


def _cmd_metrics(args: argparse.Namespace) -> int:
    from podium.delivery import duration
    from podium.stages.metrics import metrics_table

    whole = metrics_table(config=_config(args), days=args.days)
    if args.json:
        _say(json.dumps(whole.to_dict(), indent=2))
        return EXIT_OK
    found = whole.delivery
    rate = (
        f"{found.success_rate:.0%} ({found.candidates_promoted} of {found.candidates} "
        "candidates promoted)"
        if found.success_rate is not None
        else "— (no candidate evaluated outside pull requests)"
    )
    failure = (
        f" (change failure rate {found.change_failure_rate:.0%})"
        if found.change_failure_rate is not None
        else ""
    )
    last = (
        f"{duration(found.days_since_last_promotion)} ago ({found.last_promotion})"
        if found.last_promotion
        else "never"
    )
    champion = (
        f"v{found.champion_version}, trained {duration(found.champion_age_days)} ago, "
        f"champion for {duration(found.days_as_champion)}"
        if found.champion_version
        else "none yet"
    )
    _say(
        f"delivery metrics of {found.model_name}, last {found.window_days} days "
        f"(as of {found.as_of})"
    )
    _say(
        f"  deployment frequency  {found.deployment_frequency:.1f} promotions / 30 days "
        f"({found.promotions} in {found.window_days} days, {found.total_promotions} in all)"
    )
    _say(f"  success rate          {rate}")
    if found.pr_candidates:
        _say(f"  pull-request runs     {found.pr_candidates} candidates (never promoted there)")
    _say(f"  rollbacks             {found.rollbacks}{failure}")
    _say(f"  last promotion        {last}")
    _say(f"  champion              {champion}")
    for env in whole.deployments or []:  # `deploy:`: from real deployments
        _say(f"  deployments to {env.environment}: {_deployment_line(env)}")
    _say("MLOps metrics table")
    width = max(len(row.metric) for row in whole.rows)
    for row in whole.rows:
        _say(f"  {row.metric:<{width}}  {row.shown}")
    return EXIT_OK


def _deployment_line(env: Any) -> str:
    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.0%}"

    def figure(value: float | None, unit: str) -> str:
        return "—" if value is None else f"{value:.1f} {unit}"

    live = f"v{env.live_version}" if env.live_version else "nothing"
    return (
        f"{live} live; {env.frequency:.1f} / 30 days ({env.deployed} of {env.attempts} "
        f"attempts verified, success {share(env.success_rate)}); change failure rate "
        f"{share(env.change_failure_rate)}; time to restore {figure(env.restore_minutes, 'min')}; "
        f"lead time {figure(env.lead_time_hours, 'h')}; uptime {share(env.uptime)} "
        f"({env.probes} probes)"
    )


def _cmd_monitor(args: argparse.Namespace) -> int:
    from podium import gha
    from podium.stages.monitor import monitor

    done = monitor(
        config=_config(args),
        data_path=args.data,
        github_token=args.github_token,
        dispatch_token=args.dispatch_token,
        comment_author=args.comment_author,
    )
    found = done.result
    # The report, whether a threshold was crossed or not. Feature names and values come
    # from the production data: printed inert.
    gha.print_untrusted(done.markdown, full=done.path)
    lines = []
    if found.issue_url:
        lines.append(
            f"monitoring issue {'opened' if found.issue_created else 'updated'}: {found.issue_url}"
        )
    if found.dispatched:
        lines.append("retraining requested: the promote workflow was started (workflow_dispatch)")
    lines += [f"note: {skipped}" for skipped in found.skipped]
    if done.alert_failure is not None:  # GitHub failed while alerting: after the report
        for line in lines:
            _say(line)
        raise done.alert_failure
    if found.passed:
        lines.append(f"healthy: champion v{found.champion_version} of {found.model_name}")
    return _outcome(found, lines)


def _summary(outcome: Any, model_name: str) -> None:
    """A run's rendered summary in a terminal (`podium.terminal`)."""
    from podium import terminal

    found = outcome.found
    terminal.print_summary(
        terminal.summary(
            model_name=model_name,
            validation=found.validation if found else None,
            evaluation=found.evaluation if found else None,
            promotion=found.promotion if found else None,
            report_path=outcome.report_path,
        )
    )


def _retrain(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--retrain",
        action="store_true",
        help="train and register a new version even when one was trained on the same data, "
        "config and commit (default: that version is the challenger again)",
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from podium import terminal
    from podium.stages.run import run

    config = _config(args)
    pretty = terminal.rendered(args.format)
    with terminal.progress(pretty) as say:
        outcome = run(config=config, promote=not args.no_promote, say=say, retrain=args.retrain)
    lines = []
    if pretty:
        _summary(outcome, config.model.name)
    elif outcome.report_markdown:  # with a data failure too: the report says why
        lines += ["", outcome.report_markdown, f"report written to {outcome.report_path}"]
    if outcome.promoted:
        lines.append(f"champion is now v{outcome.champion_version}")
    return _outcome(outcome, lines)


def _cmd_deploy(args: argparse.Namespace) -> int:
    from podium.stages.deploy import deploy

    done = deploy(
        config=_config(args), environment=args.environment, version=args.version, say=_say
    )
    return _outcome(done, [])


def _cmd_status(args: argparse.Namespace) -> int:
    from podium.stages.status import status

    found = status(config=_config(args))
    if args.json:
        _say(json.dumps(found.to_dict(), indent=2))
    else:
        for line in found.lines():
            _say(line)
    return _outcome(found, [])


def _cmd_predict(args: argparse.Namespace) -> int:
    from podium.stages.predict import predict

    done = predict(
        config=_config(args),
        source=args.data,
        out=args.out,
        version=args.version,
        environment=args.environment,
        id_column=args.id,
    )
    where = {"spark": " in Spark", "sql": " streamed from SQL"}.get(done.engine, "")
    _say(
        f"scored {done.rows} rows with v{done.version} ({done.chosen_by}){where}: wrote "
        f"{', '.join(done.columns)} to {done.path}"
    )
    return EXIT_OK


def _cmd_init(args: argparse.Namespace) -> int:
    from podium.config import load
    from podium.errors import CheckFailed
    from podium.stages.init import discover, init, registry_in_actions

    # No --config: every model of the repository (each keeps its own workflow files).
    paths = [Path(args.config)] if args.config else discover(Path.cwd())
    configs = [load(path) for path in paths]
    result = init(
        configs=configs,
        write=not (args.check or args.dry_run),
        force=args.force,
        everything=not args.config,
    )
    if args.dry_run:
        for workflow in result.workflows:
            _say(f"# --- {workflow.relative} ({workflow.status})")
            _say(workflow.text)
        for orphan in result.orphans:
            _say(f"# --- {orphan.relative} (would be removed)")
        return EXIT_OK
    if args.check:
        if result.stale:
            raise CheckFailed(
                f"stale workflows: {', '.join(result.stale)}; run `podium init` and commit them"
            )
        _say(f"workflows are up to date ({len(result.workflows)} files)")
        _advise(configs)
        from podium import gha
        from podium.stages.init import ruleset_missing

        for warning in dict.fromkeys(filter(None, map(ruleset_missing, configs))):
            print(f"podium: warning: {warning}", file=sys.stderr, flush=True)
            gha.warning(warning)
        return EXIT_OK
    for relative in result.written:
        _say(f"wrote {relative}")
    for orphan in result.removed:
        why = f"now {orphan.replaced_by}" if orphan.replaced_by else "no longer generated"
        _say(f"removed {orphan.relative} ({why})")
    if not result.written and not result.removed:
        _say(f"workflows are up to date ({len(result.workflows)} files)")
    for config in configs:
        _say(f"{config.model.name}: {registry_in_actions(config)}")
    _advise(configs)
    return EXIT_OK


def _advise(configs: list[Any]) -> None:
    """What `podium init` cannot do itself: pin podium's actions, protect the branch."""
    from podium.stages.init import pinning_advice, ruleset_advice

    advice = [pinning_advice(c) for c in configs] + [ruleset_advice(c) for c in configs]
    for line in dict.fromkeys(filter(None, advice)):
        _say(f"note: {line}")


def _cmd_demo(args: argparse.Namespace) -> int:
    from podium import terminal
    from podium.stages.demo import demo

    folder = Path(args.dir).resolve() if args.dir else None
    pretty = terminal.rendered(args.format)
    with terminal.progress(pretty) as say:
        outcome = demo(folder=folder, say=say)
    last = outcome.rounds[-1] if outcome.rounds else None
    if last and pretty:
        _summary(last, "churn-demo")
    elif last and last.report_markdown:
        _say("\n== the comparison report (also in .podium/report.md) ==\n")
        _say(last.report_markdown)
    _say(f"sample project: {outcome.folder}")
    _say(f"registry:       {outcome.tracking_uri}")
    _say(
        f"browse it:      mlflow ui --backend-store-uri {outcome.tracking_uri}   "
        f"| history: podium history --config {outcome.folder / 'podium.yaml'}"
    )
    _say(
        "on GitHub:      set `registry: {git_branch: podium-registry}` in podium.yaml and run "
        "`podium init`: the registry lives on that branch of the repository, no server needed"
    )
    return EXIT_OK


def _cmd_registry_pull(args: argparse.Namespace) -> int:
    from podium.stages.registry import pull

    uri = pull(config=_config(args))
    _say(json.dumps({"tracking_uri": uri}) if args.json else uri)
    return EXIT_OK


def _cmd_registry_export(args: argparse.Namespace) -> int:
    from podium.stages.registry import export

    config = _config(args)
    done = export(config=config, to=args.to)
    aliases = ", ".join(f"@{a} = v{v}" for a, v in sorted(done.aliases.items())) or "no alias"
    _say(
        f"exported {config.model.name} to {done.target}: {len(done.copied)} version(s) copied, "
        f"{len(done.versions) - len(done.copied)} already there; {aliases}; "
        f"{done.events} audit event(s)"
    )
    return EXIT_OK


def _comment_author(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument(
        "--comment-author",
        metavar="LOGIN",
        help=f"login the token posts as: podium edits only a {what} written by it "
        "(default: $PODIUM_COMMENT_AUTHOR, else github-actions[bot]; a GitHub App token "
        "posts as <app-slug>[bot])",
    )


def _format(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--format",
        choices=("auto", "md"),
        default="auto",
        help="auto: a rendered summary in a terminal, the report's markdown otherwise; "
        "md: the markdown always (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="podium",
        description="Champion/challenger CI/CD/CT for ML models: validate, train, evaluate "
        "against the champion, report, promote — in GitHub Actions and on a laptop.",
        epilog="Exit codes: 0 ok, 1 a gate or check failed, 2 bad input/config, "
        "3 an external service failed after retries.",
    )
    parser.add_argument("--version", action="version", version=f"podium {__version__}")
    common = _Parser(add_help=False)
    common.add_argument(
        "--config", default="podium.yaml", metavar="PATH", help="podium.yaml (default: %(default)s)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    add("validate", _cmd_validate, "check the training and evaluation data")
    suggest = add("suggest", _cmd_suggest, "write a starting GX expectation suite from the data")
    suggest.add_argument("--output", metavar="PATH", help="suite file (default: data.expectations)")
    suggest.add_argument("--force", action="store_true", help="replace an existing suite file")
    train = add(
        "train", _cmd_train, "fit the challenger, log it to MLflow, register a candidate version"
    )
    _retrain(train)
    add(
        "evaluate", _cmd_evaluate, "score challenger and champion on the eval data; apply the gates"
    )
    report = add("report", _cmd_report, "render the comparison report; post it on the PR in CI")
    report.add_argument(
        "--github-token",
        metavar="TOKEN",
        help="token for the PR comment and commit status (default: $GITHUB_TOKEN)",
    )
    report.add_argument(
        "--pr", type=int, metavar="NUMBER", help="pull request to comment on (default: the event's)"
    )
    _comment_author(report, "comment")
    promote = add("promote", _cmd_promote, "move @champion to the challenger if every gate passed")
    promote.add_argument("--reason", help="recorded in the audit trail (default: the verdict)")
    rollback = add(
        "rollback", _cmd_rollback, "move @champion back to the previous or a named version"
    )
    rollback.add_argument("--to", metavar="VERSION", help="version to restore (default: previous)")
    rollback.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
    rollback.add_argument(
        "--force",
        action="store_true",
        help="allow a version that was never champion (e.g. failed its gates); recorded",
    )
    resume = add(
        "resume", _cmd_resume, "let promotions move @champion again after a rollback paused them"
    )
    resume.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
    history = add("history", _cmd_history, "the audit trail of champion moves, oldest first")
    history.add_argument("--json", action="store_true", help="print a JSON array of events")
    monitor = add(
        "monitor", _cmd_monitor, "production data vs the champion: drift, live metrics, alerts"
    )
    monitor.add_argument(
        "--data", metavar="PATH", help="recent production data, csv/parquet (default: monitor.data)"
    )
    monitor.add_argument(
        "--github-token",
        metavar="TOKEN",
        help="token for the monitoring issue (default: $GITHUB_TOKEN, in Actions)",
    )
    monitor.add_argument(
        "--dispatch-token",
        metavar="TOKEN",
        help="token that may start the promote workflow, actions: write "
        "(default: $PODIUM_DISPATCH_TOKEN, else the GitHub token)",
    )
    _comment_author(monitor, "issue")
    metrics = add(
        "metrics",
        _cmd_metrics,
        "delivery metrics and the MLOps metrics table (uptime, cost, feedback loop, …)",
    )
    metrics.add_argument("--json", action="store_true", help="print them as a JSON object")
    metrics.add_argument(
        "--days", type=int, default=90, metavar="N", help="window in days (default: %(default)s)"
    )
    card = add("card", _cmd_card, "the model card of a version, from what podium recorded")
    card.add_argument(
        "--version", dest="model_version", metavar="N", help="model version (default: champion)"
    )
    card.add_argument("--format", default="md", choices=("md", "json", "html"))
    reproduce = add(
        "reproduce", _cmd_reproduce, "retrain a version from its recorded commit and data; compare"
    )
    reproduce.add_argument("--version", dest="model_version", required=True, metavar="N")
    reproduce.add_argument(
        "--data-from", metavar="DIR", help="folder holding the data files (default: the commit's)"
    )
    reproduce.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        metavar="X",
        help="largest difference accepted in a metric (default: 0, exact)",
    )
    maturity = add("maturity", _cmd_maturity, "grade the repository against MLOps levels 0-2")
    maturity.add_argument("--json", action="store_true", help="print the grading as JSON")
    deploy = add(
        "deploy", _cmd_deploy, "deploy @champion (or --version) to each environment, verified live"
    )
    deploy.add_argument("--environment", metavar="NAME", help="only this one (default: all)")
    deploy.add_argument("--version", metavar="N", help="a version that passed (default: @champion)")
    status = add("status", _cmd_status, "per environment: what is live, since when, healthy now")
    status.add_argument("--json", action="store_true", help="print it as a JSON object")
    predict = add("predict", _cmd_predict, "score a table with a version (batch deployment)")
    predict.add_argument(
        "--data",
        required=True,
        metavar="SOURCE",
        help="csv/parquet file, or a SQL/Spark source as data.train's mapping in YAML",
    )
    predict.add_argument("--out", required=True, metavar="PATH", help="csv/parquet to write")
    chosen = predict.add_mutually_exclusive_group()
    chosen.add_argument(
        "--version", metavar="N", help="this version (default: live, else champion)"
    )
    chosen.add_argument("--environment", metavar="NAME", help="the version live there")
    predict.add_argument("--id", metavar="COLUMN", help="column copied beside the predictions")
    run = add("run", _cmd_run, "validate → train → evaluate → report → promote, locally")
    run.add_argument("--no-promote", action="store_true", help="stop before promotion (like a PR)")
    _retrain(run)
    _format(run)
    # `podium registry pull|export`: the registry itself (registry.git_branch and beyond).
    registry = sub.add_parser(
        "registry", help="fetch the registry (to open it) or copy it to an MLflow server"
    )
    actions = registry.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    pull = actions.add_parser(
        "pull",
        parents=[common],
        help="fetch a branch-kept registry and print its tracking URI (for mlflow ui)",
    )
    pull.add_argument("--json", action="store_true", help='print {"tracking_uri": …}')
    pull.set_defaults(handler=_cmd_registry_pull)
    export = actions.add_parser(
        "export",
        parents=[common],
        help="copy versions, artifacts, tags, aliases and the audit trail to an MLflow server",
    )
    export.add_argument("--to", required=True, metavar="URI", help="the target tracking URI")
    export.set_defaults(handler=_cmd_registry_export)
    init_help = "render .github/workflows/podium-<model>-*.yml for every model (or one)"
    # Not `add`: its --config defaults to ./podium.yaml, and init's default is all of them.
    init = sub.add_parser("init", help=init_help, description=init_help)
    init.set_defaults(handler=_cmd_init)
    init.add_argument(
        "--config",
        metavar="PATH",
        help="one podium.yaml (default: every podium.yaml in the git repository)",
    )
    mode = init.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="exit 1 listing the workflows that are out of date"
    )
    mode.add_argument("--dry-run", action="store_true", help="print the workflows, write nothing")
    init.add_argument(
        "--force", action="store_true", help="replace workflow files podium did not generate"
    )
    demo = sub.add_parser(
        "demo",
        help="create a sample project and run the whole loop twice",
        description="Create a sample project in a temporary folder and run the loop twice: "
        "a first champion, then a challenger that is compared, gated and reported.",
    )
    demo.add_argument(
        "--dir", metavar="PATH", help="folder for the sample project (default: a new temp dir)"
    )
    _format(demo)
    demo.set_defaults(handler=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    if argv is None:  # the process runs one command: what it imports stays to the end
        from podium import warmup

        warmup.freeze_imports = True
    code = _main(argv)
    if argv is None:  # the process's own command line: the process ends now
        _skip_final_collection()
    return code


def _skip_final_collection() -> None:
    """Leave every object to the interpreter's exit untraced by the cyclic collector.

    At exit the interpreter runs full garbage collections over every object left — with
    MLflow, SQLAlchemy, pandas and scikit-learn loaded, over a second of CPU after the
    command is done (measured: `podium run` at 200k rows ends 1.3-1.5 s after its last
    line). Frozen objects are skipped; what the exit must still do runs as before: atexit
    handlers (temporary folders, logging), flushing stdout/stderr, reference-counted
    deallocation. Only unreachable cycles are left for the operating system to reclaim.
    Not for in-process callers (tests pass `argv`): they keep collecting.
    """
    import gc

    gc.disable()
    gc.freeze()


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from podium.errors import PodiumError

    try:
        return int(args.handler(args))
    except PodiumError as exc:
        _complain(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print("podium: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output quit (`podium history --json | head`): stop quietly, as a
        # program SIGPIPE stops; stdout goes to devnull so the exit flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
