"""What an engine provides: the operations every stage asks of the data, wherever it lives.

A stage (validate, train, …) is one skeleton over `Engine`: read both tables (counted and
fingerprinted), prepare each side (features, target, feature types), judge the labels,
run the expectations suite, measure drift against a recorded profile, and hand over the
rows to fit on with the profile of all training rows. `podium.engine.pick` chooses the
implementation from the config; the stages never ask which one they have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from pathlib import Path

    from podium import data
    from podium.config import Config
    from podium.drift import FeatureDrift
    from podium.expectations import Report, Suite


class Table(Protocol):
    """One of data.train / data.eval as an engine holds it: named, counted, fingerprinted."""

    @property
    def path(self) -> Path | str: ...

    @property
    def rows(self) -> int: ...

    @property
    def columns(self) -> list[str]: ...

    @property
    def sha256(self) -> str: ...

    def describe(self) -> dict[str, Any]: ...


class Prepared(Protocol):
    """A side's labelled rows as `data.prepare` would judge them."""

    @property
    def feature_types(self) -> dict[str, str]: ...

    @property
    def dropped_unlabelled(self) -> int: ...


T = TypeVar("T", bound=Table)
P = TypeVar("P", bound=Prepared)


class Engine(Protocol[T, P]):
    """The operations the stages share; pandas, Spark and SQL each implement them."""

    name: str  # the table's key in `podium.engine.ENGINES`
    where: str  # where the work runs, for progress lines ("", " in Spark", …)
    in_memory: bool  # its tables are pandas frames in this process (podium.warmup overlaps)

    def read(self, config: Config) -> tuple[T, T]:
        """data.train and data.eval, counted and fingerprinted."""
        ...

    def prepare(self, config: Config, table: T, expected_types: dict[str, str] | None) -> P:
        """One side's features and target; with `expected_types`, conformed to training's."""
        ...

    def class_count(self, prepared: P) -> int:
        """How many classes the prepared side's target holds."""
        ...

    def check_labels(self, config: Config, train: P, evaluation: P, table: T) -> None:
        """DataError when the evaluation data has a class the training data lacks."""
        ...

    def expect(self, suite: Suite, train: T, evaluation: T) -> Report:
        """The expectations suite run on both tables."""
        ...

    def drift(self, config: Config, profile: dict[str, Any], train: P) -> list[FeatureDrift]:
        """The prepared training rows measured against a recorded drift profile."""
        ...

    def check_slices(self, config: Config, evaluation: T) -> None:
        """DataError now (before a long fit) when `slices:` cannot cut the eval data."""
        ...

    def training_rows(
        self, config: Config, table: T, prepared: P
    ) -> tuple[data.Dataset, dict[str, Any] | None]:
        """The rows a model fits on (all, or a seeded sample of `data.train_sample`), and
        the drift profile of all training rows when the engine makes it (else None: the
        stage profiles the rows it fits on)."""
        ...


def prepare_options(config: Config, expected_types: dict[str, str] | None) -> dict[str, Any]:
    """What every engine's `prepare` is told of a side: the target and task, and for the
    training side `data.features`/`data.exclude`; the eval side instead conforms to
    `expected_types`, the training side's feature types."""
    spec = config.data
    first = expected_types is None
    return {
        "target": spec.target,
        "task": config.model.task,
        "features": spec.features if first else None,
        "exclude": spec.exclude if first else [],
        "expected_types": expected_types,
    }


def rows_to_fit(config: Config, table: Table, frame: Any, feature_types: dict[str, str]) -> Any:
    """The sampled training rows an engine brought to the driver (`frame`, the target under
    its own name), prepared as `data.prepare` prepares a file's: a `data.Dataset`."""
    from podium import data

    sampled = data.Table(path=table.path, frame=frame, sha256=table.sha256)
    return data.prepare(sampled, **prepare_options(config, feature_types))
