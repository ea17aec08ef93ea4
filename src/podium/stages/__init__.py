"""One module per pipeline stage; each exposes one plain function returning a result."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from podium.config import Config
    from podium.registry import Registry


def open_registry(config: Config, *, writes: bool = False) -> Registry:
    """The project's registered model, after checking the server answers (exit 3 if not).

    The one place the store is chosen: MLFLOW_TRACKING_URI (a server) wins, then
    `registry.git_branch` (fetched into `.podium/registry/`), then `registry.tracking_uri`.
    `writes`: the stage changes the registry (refused on a runner-local file in Actions).
    """
    from podium import results, warmup
    from podium.registry import Registry

    warmup.join()  # MLflow imported beside the data reading (warmup.start)
    if writes:
        refuse_throwaway(config)
    if config.registry_branch or _in_state_folder(config):
        results.state_folder(config.state_dir)  # the store is made there: git-ignored first
    if config.registry_branch:
        from podium.registry.git_branch import BranchRegistry, BranchStore

        registry: Registry = BranchRegistry.open(BranchStore.of(config), config.model.name)
    else:
        registry = Registry(config.tracking_uri, config.model.name)
    registry.check_reachable()
    return registry


def _in_state_folder(config: Config) -> bool:
    """Whether the tracking URI is a sqlite file inside `.podium/` (the default)."""
    db = sqlite_file(config)
    return db is not None and db.resolve().parent == config.state_dir.resolve()


def sqlite_file(config: Config) -> Path | None:
    """The file of a sqlite tracking URI (a branch-kept store's local copy too); else None."""
    from pathlib import Path

    prefix = "sqlite:///"
    uri = config.tracking_uri
    return Path(uri.removeprefix(prefix)) if uri.startswith(prefix) else None


def warm_up_registry(config: Config, also: tuple[str, ...] = ()) -> None:
    """Start importing MLflow beside the stage's data reading (`podium.warmup`), when the
    stage will open a registry that exists (a missing local store is not opened); then
    `also` (modules the stage imports after reading anyway)."""
    from podium import warmup

    db = None if config.registry_branch else sqlite_file(config)
    if db is not None and not db.exists():
        return
    warmup.start(config.tracking_uri, also=also)


def fitting_modules(config: Config) -> tuple[str, ...]:
    """What fitting `model.estimator` imports (`modeling.build`): the preprocessing podium
    wraps it in and its class's module — when that is a library's (a project's own module
    is imported on the main thread, where it may do anything a main thread may)."""
    estimator = config.model.estimator
    if estimator is None or config.model.entrypoint is not None:
        return ()
    module = estimator.class_.rpartition(".")[0]
    known = module.split(".")[0] in _LIBRARIES
    return _PREPROCESSING + ((module,) if known else ())


_LIBRARIES = frozenset({"sklearn", "lightgbm", "xgboost"})
# What `modeling._with_preprocessing` imports.
_PREPROCESSING = ("sklearn.pipeline", "sklearn.compose", "sklearn.impute", "sklearn.preprocessing")


# What measuring drift imports (`drift.numeric_drift`, `drift.categorical_drift`).
DRIFT_MODULES = ("scipy.stats",)


def refuse_throwaway(config: Config) -> None:
    """In GitHub Actions, a registry written to a file on the runner is lost when the job
    ends: refuse (exit 2) unless a server or a branch keeps it."""
    import os
    import re

    from podium import gha
    from podium.errors import ConfigError

    if not gha.in_actions() or config.registry_branch or os.environ.get("MLFLOW_TRACKING_URI"):
        return
    uri = config.tracking_uri
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", uri)
    local = uri.startswith(("sqlite:", "file:")) or (scheme is None and uri != "databricks")
    if local:
        raise ConfigError(
            f"{config.path}: registry.tracking_uri is {uri}, a file on this runner that is "
            "thrown away when the job ends; keep the registry on a branch of the repository "
            "(registry.git_branch: podium-registry) or on an MLflow server (set "
            "MLFLOW_TRACKING_URI)"
        )


def store_missing(config: Config) -> bool:
    """A local sqlite store not created yet: it holds no model, so there is nothing to read
    (and opening it would create it, which costs seconds of schema migrations).

    A branch-kept store is fetched first: missing when the branch does not exist yet.
    """

    if config.registry_branch:
        from podium.registry.git_branch import BranchStore

        return BranchStore.of(config).pull() is None
    db = sqlite_file(config)
    return db is not None and not db.exists()


def artifact_root(config: Config) -> object:
    """Where a local (sqlite) store keeps artifacts; None lets a server decide.

    A branch-kept store keeps them beside its database, on the branch.
    """

    if config.registry_branch:
        db = sqlite_file(config)
        assert db is not None  # a branch-kept store is a local sqlite copy
        return db.parent / "artifacts"
    if config.tracking_uri.startswith("sqlite:"):
        return config.state_dir / "artifacts"
    return None
