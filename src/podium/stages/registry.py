"""`podium registry pull|export`: the registry itself, to open it or to move it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.config import Config

if TYPE_CHECKING:
    from podium.registry.export import Exported


def pull(*, config: Config) -> str:
    """The registry's MLflow tracking URI; a branch-kept one is fetched to disk first,
    so that `mlflow ui` and the MLflow API open it."""
    if config.registry_branch:
        from podium.registry.git_branch import BranchStore

        store = BranchStore.of(config)
        store.pull()
        return store.tracking_uri
    return config.tracking_uri


def export(*, config: Config, to: str) -> Exported:
    """Copy the model's versions, aliases and audit trail to the MLflow store at `to`."""
    from podium.config import check_tracking_uri
    from podium.errors import ConfigError
    from podium.registry.export import export as copy
    from podium.stages import open_registry

    target = to.strip()
    check_tracking_uri(target, "--to")
    if not target or target == config.tracking_uri:
        raise ConfigError(
            f"--to '{to}' must name another MLflow store than this registry; "
            "e.g. --to https://mlflow.example.com"
        )
    return copy(open_registry(config), target)
