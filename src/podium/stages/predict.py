"""`podium predict`: batch deployment — a table scored by the chosen version, written out.

The version: `--version N`, or what is live in `--environment NAME`, else what is live in
the last `deploy:` environment, else `@champion`. The schema is checked first (every
feature the version was trained on, normalised as at training time; a missing column is
exit 2 naming it); then every row is scored and written — predictions, and for
classifiers one probability column per class — beside the id column the user names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podium import data
from podium.config import Config
from podium.errors import ConfigError, DataError, InputError
from podium.registry import Registry, Version, read_feature_types
from podium.stages import open_registry

PREDICTION = "prediction"


@dataclass(frozen=True)
class Predicted:
    version: str
    chosen_by: str  # "--version", "@staging", "@champion"
    rows: int
    path: Path
    columns: list[str]


def predict(
    *,
    config: Config,
    source: str,
    out: str,
    version: str | None = None,
    environment: str | None = None,
    id_column: str | None = None,
) -> Predicted:
    """Score `source` (csv/parquet) with the chosen version; write `out` (csv/parquet)."""
    target = Path(out).expanduser().resolve()
    if target.suffix.lower() not in {".csv", ".parquet"}:
        raise ConfigError(f"--out {out}: write a .csv or .parquet file")
    if version is not None and environment is not None:
        raise ConfigError("give --version or --environment, not both")
    registry = open_registry(config)
    chosen, by = _choose(config, registry, version, environment)
    types = read_feature_types(chosen.tags)
    if not types:
        raise InputError(
            f"v{chosen.version} records no feature list (tag podium.features); retrain it "
            "with this podium version"
        )
    table = data.read_table(Path(source).expanduser().resolve(), label="--data")
    frame = table.frame
    if id_column is not None and id_column not in frame.columns:
        raise DataError(
            f"--id '{id_column}' is not a column of {source}; name one of its columns "
            f"(e.g. {', '.join(map(str, list(frame.columns)[:5]))})"
        )
    features = data.features_like(table, types, label="--data")  # the schema, checked first
    from podium.scoring import predict as outputs_of

    model = registry.load_model(chosen)
    found = outputs_of(model, features, config.model.task)
    import numpy as np
    import pandas as pd

    written = pd.DataFrame(index=frame.index)
    if id_column is not None:
        written[id_column] = frame[id_column]
    written[PREDICTION] = np.asarray(found.predicted)
    if found.proba is not None and found.classes is not None:
        proba = np.asarray(found.proba, dtype=float)
        for index, label in enumerate(found.classes):
            written[f"proba_{label}"] = proba[:, index]
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".csv":
        written.to_csv(target, index=False)
    else:
        written.to_parquet(target, index=False)
    return Predicted(chosen.version, by, len(written), target, [str(c) for c in written.columns])


def _choose(
    config: Config, registry: Registry, version: str | None, environment: str | None
) -> tuple[Version, str]:
    if version is not None:
        return registry.get_version(version.removeprefix("v")), "--version"
    names = [t.environment for t in config.deploy]
    if environment is not None:
        if environment not in names:
            from podium.errors import closest

            hint = closest(environment, names)
            did_you = f" (did you mean '{hint}'?)" if hint else ""
            raise ConfigError(
                f"--environment '{environment}' is not in deploy: of {config.path}{did_you}"
            )
        live = registry.alias(environment)
        if live is None:
            raise InputError(f"nothing is live in {environment} yet; run podium deploy first")
        return live, f"@{environment}"
    if names:
        live = registry.alias(names[-1])
        if live is not None:
            return live, f"@{names[-1]}"
    champion = registry.champion()
    if champion is None:
        raise InputError(
            f"model '{config.model.name}' has no @champion yet; pass --version N or run "
            "`podium run` first"
        )
    return champion, "@champion"
