"""podium.yaml: strict, typed loading.

Unknown keys are errors that name the key and the file (a typo must never silently
disable a gate). Relative paths are resolved against the config file's folder, so
`podium --config sub/podium.yaml` behaves the same from any working directory.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from podium.errors import ConfigError
from podium.metrics import METRICS, metric_names_for
from podium.significance import BOOTSTRAPPED

DEFAULT_TRACKING_URI = "sqlite:///.podium/mlflow.db"
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Estimator(_Strict):
    class_: str = Field(alias="class", min_length=3)
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("class_")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if "." not in value or value.startswith(".") or value.endswith("."):
            raise ValueError(
                f"'{value}' is not a dotted class path; write e.g. "
                "sklearn.ensemble.HistGradientBoostingClassifier"
            )
        return value


class ModelSection(_Strict):
    name: str
    task: Literal["classification", "regression"]
    estimator: Estimator | None = None
    entrypoint: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _MODEL_NAME.match(value):
            raise ValueError(
                f"'{value}' is not a valid model name; use letters, digits, '.', '_' or '-'"
            )
        return value

    @field_validator("entrypoint")
    @classmethod
    def _entrypoint(cls, value: str | None) -> str | None:
        if value is not None and (value.count(":") != 1 or not all(value.split(":"))):
            raise ValueError(f"'{value}' must look like 'train.py:build_model'")
        return value

    @model_validator(mode="after")
    def _one_of(self) -> ModelSection:
        if (self.estimator is None) == (self.entrypoint is None):
            raise ValueError("give exactly one of 'estimator' or 'entrypoint'")
        return self


class DataSection(_Strict):
    train: str
    eval: str
    target: str
    expectations: str | None = None
    features: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)


class Gate(_Strict):
    metric: str
    min: float | None = None
    max: float | None = None
    min_delta: float | None = None
    significant: bool = False  # the bootstrap CI's lower end must clear min_delta

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRICS:
            hint = difflib.get_close_matches(value, METRICS, n=1)
            did_you = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ValueError(
                f"unknown metric '{value}'{did_you}; known: {', '.join(sorted(METRICS))}"
            )
        return value

    @model_validator(mode="after")
    def _has_bound(self) -> Gate:
        if self.min is None and self.max is None and self.min_delta is None:
            raise ValueError(f"gate on '{self.metric}' needs at least one of min, max, min_delta")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"gate on '{self.metric}' has min {self.min} above max {self.max}")
        return self

    @model_validator(mode="after")
    def _significance(self) -> Gate:
        if not self.significant:
            return self
        if self.metric not in BOOTSTRAPPED:
            raise ValueError(
                f"significant: true needs a metric computed per evaluation row; "
                f"'{self.metric}' is measured once (remove significant, or gate another metric)"
            )
        if self.min_delta is None:
            raise ValueError(
                f"significant: true on '{self.metric}' needs min_delta, the improvement the "
                "interval must clear (min_delta: 0 = significantly better)"
            )
        return self


class RegistrySection(_Strict):
    tracking_uri: str = DEFAULT_TRACKING_URI
    experiment: str | None = None


class PodiumConfig(_Strict):
    model: ModelSection
    data: DataSection
    gates: list[Gate] | None = None
    registry: RegistrySection = Field(default_factory=RegistrySection)


class Config:
    """A loaded podium.yaml plus where it lives; paths come back absolute."""

    def __init__(self, raw: PodiumConfig, path: Path) -> None:
        self.raw = raw
        self.path = path
        self.root = path.parent

    @property
    def model(self) -> ModelSection:
        return self.raw.model

    @property
    def data(self) -> DataSection:
        return self.raw.data

    @property
    def gates(self) -> list[Gate]:
        """Configured gates, or the safe default: the task's primary metric must not regress."""
        if self.raw.gates is not None:
            return self.raw.gates
        primary = "f1" if self.model.task == "classification" else "rmse"
        return [Gate(metric=primary, min_delta=0.0)]

    @property
    def gates_are_default(self) -> bool:
        return self.raw.gates is None

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate

    @property
    def state_dir(self) -> Path:
        """`.podium/` next to podium.yaml: stage results (JSON) that chain stages."""
        return self.root / ".podium"

    @property
    def tracking_uri(self) -> str:
        """MLFLOW_TRACKING_URI wins; relative sqlite paths resolve against the config folder."""
        uri = os.environ.get("MLFLOW_TRACKING_URI") or self.raw.registry.tracking_uri
        prefix = "sqlite:///"
        if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
            return prefix + str(self.resolve(uri[len(prefix) :]))
        return uri

    @property
    def experiment_name(self) -> str:
        return self.raw.registry.experiment or f"podium/{self.model.name}"


def load(path: str | Path = "podium.yaml") -> Config:
    """Read and validate podium.yaml; every problem is a ConfigError naming file and key."""
    cfg_path = Path(path)
    if not cfg_path.is_file():
        raise ConfigError(
            f"{cfg_path}: config file not found; create it (see README) or pass --config PATH"
        )
    try:
        document = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{cfg_path}{where}: {problem}; fix the YAML syntax") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{cfg_path}: not UTF-8 text; save it as UTF-8") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{cfg_path}: expected a mapping with 'model', 'data' and 'gates'")
    try:
        raw = PodiumConfig.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(_one_line(cfg_path, exc, document)) from None
    config = Config(raw, cfg_path.resolve())
    _check_cross_fields(config)
    return config


def _check_cross_fields(config: Config) -> None:
    task = config.model.task
    allowed = metric_names_for(task)
    for index, gate in enumerate(config.gates if not config.gates_are_default else []):
        if gate.metric not in allowed:
            raise ConfigError(
                f"{config.path}: gates[{index}].metric '{gate.metric}' does not apply to "
                f"{task}; use one of {', '.join(sorted(allowed))}"
            )
    data = config.data
    if data.target in data.exclude:
        raise ConfigError(f"{config.path}: data.exclude lists the target '{data.target}'")
    if data.features is not None and data.target in data.features:
        raise ConfigError(
            f"{config.path}: data.features lists the target '{data.target}'; remove it"
        )


def _one_line(path: Path, exc: ValidationError, document: dict[str, Any]) -> str:
    """The first pydantic error as `file: key.path: problem; fix` (one line)."""
    error = exc.errors()[0]
    loc = [str(p) for p in error["loc"]]
    key = _format_loc(error["loc"])
    if error["type"] == "extra_forbidden":
        parent = _lookup(document, error["loc"][:-1])
        model = _model_at(error["loc"][:-1])
        allowed = sorted(
            (f.alias or name) for name, f in model.model_fields.items()
        ) if model else []
        hint = difflib.get_close_matches(loc[-1], allowed, n=1)
        did_you = f"; did you mean '{hint[0]}'?" if hint else ""
        known = f" (allowed here: {', '.join(allowed)})" if allowed and isinstance(parent, dict) else ""
        return f"{path}: unknown key '{key}'{did_you}{known}"
    if error["type"] == "missing":
        return f"{path}: missing required key '{key}'; add it (see README for an example)"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    shown = f" (got {value!r})" if value is not None and not isinstance(value, dict | list) else ""
    return f"{path}: {key or 'top level'}: {message}{shown}"


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"Estimator", "function-after[_one_of(), ModelSection]"}:
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _lookup(document: Any, loc: tuple[int | str, ...]) -> Any:
    node = document
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = PodiumConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        if field is None:
            return None
        annotation = field.annotation
        model = _first_model(annotation)
    return model


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _first_model(arg)
        if found is not None:
            return found
    return None
