"""One module per pipeline stage; each exposes one plain function returning a result."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from podium.config import Config
    from podium.registry import Registry


def open_registry(config: Config) -> Registry:
    """The project's registered model, after checking the server answers (exit 3 if not)."""
    from podium.registry import Registry

    registry = Registry(config.tracking_uri, config.model.name)
    registry.check_reachable()
    return registry


def store_missing(config: Config) -> bool:
    """A local sqlite store not created yet: it holds no model, so there is nothing to read
    (and opening it would create it, which costs seconds of schema migrations)."""
    from pathlib import Path

    prefix = "sqlite:///"
    uri = config.tracking_uri
    return uri.startswith(prefix) and not Path(uri.removeprefix(prefix)).exists()


def artifact_root(config: Config) -> object:
    """Where a local (sqlite) store keeps artifacts; None lets a server decide."""
    if config.tracking_uri.startswith("sqlite:"):
        return config.state_dir / "artifacts"
    return None
