"""`podium train` with `model.command`: the user's own training code, any framework.

podium opens the MLflow run, hands the command its data and the run through the
environment, lets it train and log ONE model of any flavor, then checks that model
(it must predict its own training data), adds podium's params, metrics and artifacts to
the run and registers the model tagged like every version. Any failure on the way marks
the run FAILED and registers nothing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium import command, resources
from podium.config import Config
from podium.data import Dataset, Table
from podium.errors import TrainingFailed
from podium.registry import Registry, Version, export

if TYPE_CHECKING:
    from podium.engine.spark import SparkTable
    from podium.engine.sql import SqlTable

# The environment a training command receives (README: "Bring your own training").
ENV_TRAIN_DATA = "PODIUM_TRAIN_DATA"
ENV_EVAL_DATA = "PODIUM_EVAL_DATA"
ENV_TARGET = "PODIUM_TARGET"
ENV_TASK = "PODIUM_TASK"
ENV_FEATURES = "PODIUM_FEATURES"
MATERIALISED = "command"  # .podium/command/: SQL and Spark sources as parquet, while it runs


def train(
    config: Config,
    registry: Registry,
    *,
    experiment_id: str,
    tables: tuple[Table | SparkTable | SqlTable, Table | SparkTable | SqlTable],
    train_set: Dataset,
    classes: list[Any] | None,
    params: dict[str, object],
    run_tags: dict[str, str],
    version_tags: dict[str, str],
    artifacts: dict[str, Any],
) -> tuple[str, Version, dict[str, float], resources.Usage]:
    """Run the command in a new run and register its model: (run id, version,
    train metrics, the command's resource use). TrainingFailed (exit 2) when it fails."""
    from podium.modeling import on_training_data
    from podium.resources import usage_metrics

    argv = config.model.argv
    assert argv is not None
    train_table, eval_table = tables
    train_file = _as_file(config, config.data.train, train_table, "train")
    eval_file = _as_file(config, config.data.eval, eval_table, "eval")
    env = {
        ENV_TRAIN_DATA: str(train_file),
        ENV_EVAL_DATA: str(eval_file),
        ENV_TARGET: config.data.target,
        ENV_TASK: config.model.task,
        ENV_FEATURES: json.dumps(list(train_set.feature_types)),
    }
    # The command logs into a throwaway store of its own: it holds no credential of the
    # registry (a tracking server's token, the branch's push) and cannot touch its
    # versions or aliases; podium copies its run and model over once it has ended.
    staging_dir = Path(tempfile.mkdtemp(prefix="podium-command-"))
    staging = Registry(f"sqlite:///{staging_dir / 'mlflow.db'}", config.model.name)
    staged_experiment = staging.experiment_id("podium-command", staging_dir / "artifacts")
    staged_run = staging.open_run(experiment_id=staged_experiment, tags=run_tags)
    registry.activate()  # MLflow's fluent API stays on the real registry in this process
    env.update(
        {
            "MLFLOW_TRACKING_URI": staging.tracking_uri,
            "MLFLOW_REGISTRY_URI": staging.tracking_uri,
            "MLFLOW_RUN_ID": staged_run,
            "MLFLOW_EXPERIMENT_ID": staged_experiment,
        }
    )
    minutes = config.model.timeout_minutes
    run_id: str | None = None
    failed = True
    try:
        with resources.measure() as used:  # the command's CPU and peak memory count
            command.run(
                argv,
                cwd=config.root,
                env=env,
                timeout_seconds=minutes * 60 if minutes else None,
                passed=config.model.env,
            )
        shown = command.describe(argv)
        staged = staging.logged_models(staged_run, staged_experiment)
        if not staged:
            raise TrainingFailed(
                f"model.command '{shown}' logged no model in run {staged_run}; log exactly one "
                "with mlflow.<flavor>.log_model(...) inside mlflow.start_run() (README: "
                "Bring your own training); nothing was registered"
            )
        if len(staged) > 1:
            names = ", ".join(f"'{m.name}'" for m in staged[:5])
            raise TrainingFailed(
                f"model.command '{shown}' logged {len(staged)} models ({names}) in run "
                f"{staged_run}; log exactly one, so podium knows which to judge; nothing was "
                "registered"
            )
        # registered_model_name= in the script makes a version podium never tags or judges.
        stray = [v.version for v in staging.versions()]
        if stray:
            raise TrainingFailed(
                f"model.command '{shown}' registered version {', '.join(stray)} of "
                f"'{config.model.name}' itself; remove registered_model_name from its "
                "log_model call (podium registers the model, tagged and judged); podium "
                "registered nothing"
            )
        run_id = registry.open_run(experiment_id=experiment_id, tags=run_tags)
        export.copy_run_data(staging, registry, staged_run, run_id)
        logged = [export.copy_logged(staging, registry, staged[0], run_id)]
        model = registry.load_logged(
            logged[0],
            task=config.model.task,
            classes=classes,
            positive=config.model.positive_class,
        )
        train_metrics = on_training_data(model, train_set, config.model.task, source=shown)
        registry.record_run(
            run_id,
            params=params,
            metrics={**train_metrics, **usage_metrics(used)},
            artifacts=artifacts,
        )
        version = registry.register(logged[0], run_id=run_id, tags=version_tags)
        failed = False
    finally:
        if run_id is not None:
            registry.end_run(run_id, failed=failed)
        shutil.rmtree(staging_dir, ignore_errors=True)
        for path in (train_file, eval_file):  # materialised copies: never left in .podium
            if path.parent == config.state_dir / MATERIALISED:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
    return run_id, version, train_metrics, used


def _as_file(config: Config, spec: object, table: Table | SparkTable | SqlTable, role: str) -> Path:
    """The data as a file the command can read: the csv/parquet file itself, or a SQL or
    Spark source materialised to parquet in `.podium/command/` (removed after the command;
    an `engine: spark` table is written by Spark, as a folder of parquet parts)."""
    if isinstance(spec, str):
        return config.resolve(spec)
    folder = config.state_dir / MATERIALISED
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{role}.parquet"
    if isinstance(table, Table):
        table.frame.to_parquet(path, index=False)
    elif not hasattr(table, "frame"):  # in-database SQL: the command gets every row
        from podium.data import read_table

        read_table(table.source, label=table.label).frame.to_parquet(path, index=False)
    else:
        table.frame.write.mode("overwrite").parquet(str(path))
    return path
