"""podium.yaml: strict, typed loading.

Unknown keys are errors that name the key and the file (a typo must never silently
disable a gate). Relative paths are resolved against the config file's folder, so
`podium --config sub/podium.yaml` behaves the same from any working directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, overload

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    ValidationError,
    field_validator,
    model_validator,
)

from podium.errors import ConfigError, closest
from podium.scoring import BOOTSTRAPPED, METRICS, metric_names_for, primary_metric
from podium.slices import PerSlice, SliceSpec, columns_of

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
    # Any framework: a training command (split like a shell would, never run by one) that
    # logs ONE MLflow model in the run podium opens for it; bounded by timeout_minutes.
    command: str | list[str] | None = None
    timeout_minutes: float | None = Field(default=None, gt=0)
    # Shown in the model card (`podium card`), recorded on each version at training.
    description: str | None = None
    owners: list[str] | str | None = None
    intended_use: str | None = None
    limitations: str | None = None
    # Environment variables the command gets beyond podium's allowlist (command.INHERITED):
    # the user's own data credentials, say. Never the job's registry or repository ones.
    env: list[str] = Field(default_factory=list)
    # Classification: the label a single probability per row is for (a script returning
    # P(bad)); by default the second of the two sorted labels. Named in the report.
    positive_class: str | int | float | bool | None = None

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

    @field_validator("command")
    @classmethod
    def _command(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value is not None:
            split_command(value)  # unbalanced quotes or an empty command: refused now
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: list[str]) -> list[str]:
        return passable(value, "training code (it registers the model itself)")

    @model_validator(mode="after")
    def _one_of(self) -> ModelSection:
        given = [self.estimator, self.entrypoint, self.command]
        if sum(choice is not None for choice in given) != 1:
            raise ValueError("give exactly one of 'estimator', 'entrypoint' or 'command'")
        if self.timeout_minutes is not None and self.command is None:
            raise ValueError("'timeout_minutes' bounds 'command'; remove it or add a command")
        if self.env and self.command is None:
            raise ValueError("'env' is handed to 'command'; remove it or add a command")
        return self

    @property
    def argv(self) -> list[str] | None:
        """`command` as the argument list podium runs (None without a command)."""
        return None if self.command is None else split_command(self.command)

    @property
    def source(self) -> str:
        """How the challenger is made, in one phrase: class path, entrypoint or command."""
        if self.command is not None:
            import shlex

            return shlex.join(split_command(self.command))
        return self.entrypoint or (self.estimator.class_ if self.estimator else "")


def split_command(command: str | list[str]) -> list[str]:
    """A command as its argument list: a string is split as a POSIX shell would split it."""
    import shlex

    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise ValueError(f"cannot split '{command}' into arguments: {exc}") from None
    else:
        argv = list(command)
    if not argv or not argv[0].strip():
        raise ValueError("the command is empty; write e.g. python train.py")
    return argv


class TableSource(_Strict):
    """A table that is not a file: a SQL table/query (SQLAlchemy) or a Spark source."""

    engine: Literal["sql", "spark"] = "sql"
    uri: str | None = None  # SQLAlchemy URL; `${VAR}` is read from the environment
    table: str | None = None
    sql: str | None = None
    path: str | None = None  # spark: a file or folder Spark reads (parquet, csv, delta, …)
    format: str | None = None  # spark: reader format (default: from the path's suffix)
    # sql: checks, expectations and the drift profile run in the database (issue 14)
    in_database: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> TableSource:
        given = [k for k in ("table", "sql", "path") if getattr(self, k)]
        if self.engine == "sql":
            if not self.uri:
                raise ValueError(
                    "a SQL source needs 'uri' (a SQLAlchemy URL, e.g. sqlite:///data.db)"
                )
            if self.path or self.format:
                raise ValueError("'path'/'format' are for engine: spark; use 'table' or 'sql'")
            if len(given) != 1:
                raise ValueError("give exactly one of 'table' or 'sql'")
        else:
            if self.in_database:
                raise ValueError("'in_database' is for engine: sql; Spark always runs in Spark")
            if self.uri:
                raise ValueError("'uri' is for engine: sql; Spark reads 'table', 'sql' or 'path'")
            if len(given) != 1:
                raise ValueError("give exactly one of 'table', 'sql' or 'path'")
        return self

    def resolved(self, root: Path) -> TableSource:
        """Environment variables expanded, relative sqlite/Spark paths made absolute."""
        update: dict[str, Any] = {}
        if self.uri:
            uri = _expand_env(self.uri, "uri")
            prefix = "sqlite:///"
            if uri.startswith(prefix) and not uri.startswith(prefix + "/") and uri != prefix:
                rest = uri[len(prefix) :]
                if not rest.startswith(":memory:"):
                    uri = prefix + str(root / rest)
            update["uri"] = uri
        if self.path and "://" not in self.path and not Path(self.path).is_absolute():
            update["path"] = str(root / Path(self.path).expanduser())
        return self.model_copy(update=update)


def _expand_env(value: str, key: str) -> str:
    names = [m.group(1) for m in re.finditer(r"\$\{(\w+)\}", value)]
    unresolved = [n for n in names if n not in os.environ]
    if unresolved:
        raise ConfigError(
            f"data source {key} uses ${{{unresolved[0]}}} but the environment variable "
            f"{unresolved[0]} is not set; export it (in Actions: env: from a secret)"
        )
    return re.sub(r"\$\{(\w+)\}", lambda m: os.environ[m.group(1)], value)


class DataSection(_Strict):
    train: str | TableSource
    eval: str | TableSource
    target: str
    expectations: str | None = None
    features: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)
    # Numeric columns whose stray non-numeric values ('unknown', 'n/a') are read as missing;
    # without it such a column is refused, naming the values and rows.
    coerce_numeric: list[str] = Field(default_factory=list)
    # engine: spark (stratified) or SQL in_database: an estimator trains on a seeded sample this big
    train_sample: int = Field(default=1_000_000, ge=100)


class SparkSection(_Strict):
    """The Spark session for `engine: spark` sources when none is active (issue 14)."""

    master: str = "local[*]"
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)


class Gate(_Strict):
    metric: str
    # Finite: a NaN bound compares False both ways and would silently pass every value.
    min: FiniteFloat | None = None
    max: FiniteFloat | None = None
    min_delta: FiniteFloat | None = None
    significant: bool = False  # the bootstrap CI's lower end must clear min_delta
    # Slices (`slices:`): bounds on every slice with enough rows, and across slices.
    per_slice: PerSlice | None = None
    max_slice_gap: FiniteFloat | None = Field(default=None, ge=0)  # best − worst slice
    min_slice_ratio: FiniteFloat | None = Field(default=None, gt=0, le=1)  # worst / best
    slice_gap_not_wider: bool = False  # … and no wider than the champion's gap

    @property
    def bounds_whole_set(self) -> bool:
        """Whether the gate bounds the whole evaluation set (not only its slices)."""
        return self.min is not None or self.max is not None or self.min_delta is not None

    @field_validator("min", "max", "min_delta", mode="before")
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML `yes`/`true` would otherwise become 1.0
            raise ValueError("expected a number")
        return value

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRICS:
            hint = closest(value, METRICS)
            did_you = f" (did you mean '{hint}'?)" if hint else ""
            raise ValueError(
                f"unknown metric '{value}'{did_you}; known: {', '.join(sorted(METRICS))}"
            )
        return value

    @model_validator(mode="after")
    def _has_bound(self) -> Gate:
        sliced = self.per_slice or self.max_slice_gap is not None or self.min_slice_ratio
        if not self.bounds_whole_set and not sliced:
            raise ValueError(
                f"gate on '{self.metric}' needs at least one of min, max, min_delta "
                "(or per_slice, max_slice_gap, min_slice_ratio)"
            )
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
        if self.min_delta is None and (self.per_slice is None or self.per_slice.min_delta is None):
            raise ValueError(
                f"significant: true on '{self.metric}' needs min_delta, the improvement the "
                "interval must clear (min_delta: 0 = significantly better)"
            )
        return self


class DriftSection(_Strict):
    """Drift of the new training data against the champion's (reported; gated if bounded)."""

    enabled: bool = True
    max_drifted_share: float | None = Field(default=None, ge=0, le=1)  # gate
    max_psi: float | None = Field(default=None, gt=0)  # gate: any feature above fails
    psi_threshold: float = Field(default=0.1, gt=0)  # a drifted feature moved at least this
    p_value: float = Field(default=0.05, gt=0, lt=1)  # … and its test rejects at this level


class RegistrySection(_Strict):
    tracking_uri: str = DEFAULT_TRACKING_URI
    experiment: str | None = None
    # The registry (MLflow's sqlite store and its artifacts) kept on this branch of origin.
    git_branch: str | None = None
    # Branch registry: the artifacts of this many newest versions stay on the tip (with the
    # champion's and those live in an environment); older ones keep metadata and audit only.
    keep_versions: int = Field(default=50, ge=1)

    @field_validator("git_branch")
    @classmethod
    def _git_branch(cls, value: str | None) -> str | None:
        if value is not None and not _git_branch_name(value):
            raise ValueError(
                f"'{value}' is not a branch name git accepts (git check-ref-format "
                "--branch); write e.g. podium-registry"
            )
        return value

    @model_validator(mode="after")
    def _one_store(self) -> RegistrySection:
        if self.git_branch and self.tracking_uri != DEFAULT_TRACKING_URI:
            raise ValueError(
                "git_branch and tracking_uri both name the registry; keep one (a tracking "
                "server: MLFLOW_TRACKING_URI or tracking_uri; GitHub only: git_branch)"
            )
        return self


def _git_branch_name(name: str) -> bool:
    """Whether git itself accepts `name` as a branch (`git check-ref-format --branch`).

    `HEAD` and `@` (HEAD's other name) are refused, and `@{…}` before git sees it (git
    would expand `@{-1}` to the previous branch). Without git on PATH, the plain rules.
    """
    import subprocess

    if not _BRANCH.match(name) or name.startswith("-") or name in {"HEAD", "@"} or "@{" in name:
        return False
    try:
        proc = subprocess.run(
            ["git", "check-ref-format", "--branch", name],
            capture_output=True,
            env={**os.environ, "GIT_DIR": os.devnull},  # never a repository's @{-N}
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return not name.endswith(".lock") and "/." not in name and not name.startswith(".")
    return proc.returncode == 0


def passable(names: list[str], to: str) -> list[str]:
    """Names of variables the user hands their own code (`model.env`, `deploy[].env`):
    real variable names, and never one that can write the registry or the repository."""
    for name in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,199}", name):
            raise ValueError(f"'{name}' is not an environment variable name")
        if name.upper() in _REGISTRY_CREDENTIALS or name.upper().startswith("GIT_CONFIG"):
            raise ValueError(
                f"'{name}' can write the registry or the repository; podium never hands it "
                f"to {to} — remove it"
            )
    return names


# What moves a champion or writes the repository: never handed to the user's code.
_REGISTRY_CREDENTIALS = frozenset(
    {
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "MLFLOW_TRACKING_TOKEN",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_REGISTRY_URI",
    }
)
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_BRANCH = re.compile(r"^(?!.*\.\.)(?!/)(?!.*//)[A-Za-z0-9._/-]{1,200}(?<![/.])$")
_SECRET = re.compile(r"^(?!GITHUB_)[A-Za-z_][A-Za-z0-9_]{0,99}$", re.IGNORECASE)
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,254}$")
_ACTIONS = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}@[A-Za-z0-9._/-]{1,100}$"
)
_CRON_FIELD = re.compile(r"^[A-Za-z0-9*/,-]+$")
# A GitHub `paths:` pattern from the repository root: path characters and glob wildcards.
_PATH_PATTERN = re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._/*?+-]{1,300}$")
_REQUIREMENTS = re.compile(r"^(?!/)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$")


class SecretNames(_Strict):
    """Names of the repository (or environment) secrets the workflows read MLflow from."""

    tracking_uri: str = "MLFLOW_TRACKING_URI"
    tracking_token: str = "MLFLOW_TRACKING_TOKEN"
    tracking_username: str = "MLFLOW_TRACKING_USERNAME"
    tracking_password: str = "MLFLOW_TRACKING_PASSWORD"
    # Optional READ-ONLY MLflow credentials for pull-request jobs (the write ones above
    # belong in the protected environment's secrets): PR code never gets a write credential.
    read_token: str = "PODIUM_MLFLOW_READ_TOKEN"
    read_username: str = "PODIUM_MLFLOW_READ_USERNAME"
    read_password: str = "PODIUM_MLFLOW_READ_PASSWORD"
    # Optional: a token that may start the promote workflow (Actions: write) for
    # `podium monitor`, used instead of the job's own GITHUB_TOKEN (a GitHub App's, say).
    dispatch_token: str = "PODIUM_DISPATCH_TOKEN"

    @field_validator("*")
    @classmethod
    def _secret_name(cls, value: str) -> str:
        if not _SECRET.match(value):
            raise ValueError(
                f"'{value}' is not a GitHub secret name; use letters, digits and '_', "
                "not starting with a digit or GITHUB_"
            )
        return value


class CISection(_Strict):
    """`ci:` — what `podium init` renders into the GitHub Actions workflows."""

    python: str = "3.11"
    runs_on: list[str] = Field(default_factory=lambda: ["ubuntu-latest"])
    main_branch: str = "main"
    retrain_cron: str | None = "0 4 * * 1"
    monitor_cron: str | None = "0 6 * * *"  # `podium monitor` (when monitor.data is set)
    environment: str | None = "production"
    # The environment of the other jobs that write the registry (the promote workflow's
    # challenger job registers, monitor records health): it holds the MLflow write secrets,
    # limited to the main branch, so no pull request's job can read them.
    registry_environment: str | None = "podium-registry"
    secrets: SecretNames = Field(default_factory=SecretNames)
    actions: str = "podium-ml/podium@v1"
    # More path patterns (from the repository root, as in GitHub's `paths:`) whose changes
    # run this model's PR and push pipelines: shared code the model imports.
    paths: list[str] = Field(default_factory=list)
    # The project's own dependencies (LightGBM, torch, …), a requirements file relative to
    # podium.yaml: installed (uv, cached) in every generated job that runs the user's code.
    requirements: str | None = None

    @field_validator("requirements")
    @classmethod
    def _requirements(cls, value: str | None) -> str | None:
        if value is not None and not _REQUIREMENTS.match(value):
            raise ValueError(
                f"'{value}' is not a file path relative to podium.yaml; write e.g. "
                "requirements.txt (letters, digits, '.', '_', '-', '/'; no leading '/', no '..')"
            )
        return value

    @field_validator("python", mode="before")
    @classmethod
    def _python(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            raise ValueError(
                f'write the version as a quoted string, e.g. "3.11" (YAML read {value})'
            )
        if isinstance(value, str) and not re.fullmatch(r"3\.\d{1,2}(\.\d{1,3})?", value):
            raise ValueError(f"'{value}' is not a Python version; write e.g. \"3.11\" (quoted)")
        return value

    @field_validator("runs_on", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> Any:
        labels = [value] if isinstance(value, str) else value
        if not isinstance(labels, list) or not labels:
            raise ValueError(
                "give a runner label or a list of them, e.g. [self-hosted, linux, gpu]"
            )
        for label in labels:
            if not isinstance(label, str) or not _LABEL.match(label):
                raise ValueError(
                    f"'{label}' is not a runner label; use letters, digits, '.', '_' or '-' "
                    "(e.g. [self-hosted, linux, gpu])"
                )
        return labels

    @field_validator("main_branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not _BRANCH.match(value):
            raise ValueError(f"'{value}' is not a branch name; write e.g. main")
        return value

    @field_validator("retrain_cron", "monitor_cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # no scheduled retraining
        fields = value.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ValueError(
                f"'{value}' is not a 5-field cron expression; write e.g. \"0 4 * * 1\" "
                "(Mondays 04:00 UTC) or null to disable scheduled retraining"
            )
        return " ".join(fields)

    @field_validator("environment", "registry_environment")
    @classmethod
    def _environment(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # promotion job not bound to an environment
        if not _ENVIRONMENT.match(value):
            raise ValueError(f"'{value}' is not a GitHub environment name; write e.g. production")
        return value

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not _PATH_PATTERN.match(pattern):
                raise ValueError(
                    f"'{pattern}' is not a path pattern from the repository root; write e.g. "
                    "lib/features/** (letters, digits, '.', '_', '-', '/', '*', '?', '+'; "
                    "no leading '/', no '..')"
                )
        return value

    @field_validator("actions")
    @classmethod
    def _actions(cls, value: str) -> str:
        if not _ACTIONS.match(value):
            raise ValueError(
                f"'{value}' must name podium's repository and ref, e.g. podium-ml/podium@v1 "
                "(or a full commit SHA)"
            )
        return value


class MonitorSection(_Strict):
    """`monitor:` — production data against what podium recorded about the champion."""

    data: str | TableSource | None = None  # recent production inputs (`--data` overrides)
    # Feature drift against the champion's training profile: an alert when more than
    # this share of features drifted, or when one feature's PSI exceeds max_psi.
    max_drifted_share: float | None = Field(default=0.3, ge=0, le=1)
    max_psi: float | None = Field(default=0.25, gt=0)
    psi_threshold: float = Field(default=0.1, gt=0)
    p_value: float = Field(default=0.05, gt=0, lt=1)
    # With outcomes (the target column): an alert when a metric is worse than the
    # champion's evaluation by more than this (in the metric's better direction) —
    # relative (0.05: 5% of the champion's value, meaningful for rmse in dollars and
    # roc_auc alike) unless metric_drop: absolute.
    max_metric_drop: float = Field(default=0.05, ge=0)
    metric_drop: Literal["relative", "absolute"] = "relative"
    metrics: list[str] | None = None  # default: the gated metrics computed per row
    min_labelled_rows: int = Field(default=30, ge=1)  # fewer outcomes: no metric verdict
    issue: bool = True  # open/update one issue per model in Actions
    dispatch: bool = True  # start the promote workflow (workflow_dispatch) to retrain

    @field_validator("metrics")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if name not in BOOTSTRAPPED:
                hint = closest(name, sorted(BOOTSTRAPPED))
                did_you = f" (did you mean '{hint}'?)" if hint else ""
                raise ValueError(
                    f"'{name}' cannot be monitored{did_you}; use one of "
                    f"{', '.join(sorted(BOOTSTRAPPED))}"
                )
        return value


class ServingSection(_Strict):
    """`serving:` — the candidate served by MLflow's scoring server, answers compared."""

    env_manager: Literal["local", "uv", "virtualenv"] = "local"
    rows: int = Field(default=200, ge=1, le=100_000)  # evaluation rows sent (the probe)
    requests: int = Field(default=20, ge=1, le=1000)  # timed requests behind the p95
    timeout_seconds: float = Field(default=120, gt=0)


class DeployTarget(_Strict):
    """One entry of `deploy:` — an environment the champion is deployed to, in order."""

    environment: str
    command: str | list[str]
    url: str  # MLflow scoring protocol (/ping, /invocations); `${VAR}` from the environment
    timeout_minutes: float = Field(default=15, gt=0)
    after: str | None = None  # only versions live (and verified) in that environment
    max_latency_ms: FiniteFloat | None = Field(default=None, gt=0)
    secrets: list[str] = Field(default_factory=list)
    oidc: bool = False
    # Variables an earlier step of the job set for the command (a cloud login's
    # credentials, KUBECONFIG) beyond the allowlist every user command gets.
    env: list[str] = Field(default_factory=list)

    @field_validator("env")
    @classmethod
    def _env(cls, value: list[str]) -> list[str]:
        return passable(value, "a deploy command (podium records the deployment itself)")

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        # Also the name of the MLflow alias saying what is live there (`@staging`).
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,62}", value):
            raise ValueError(
                f"'{value}' is not an environment name; write e.g. staging (letters, digits, "
                "'_' or '-', starting with a letter)"
            )
        if value.lower() in {"champion", "latest"}:
            raise ValueError(f"'{value}' is an alias podium or MLflow keeps; name it otherwise")
        return value

    @field_validator("command")
    @classmethod
    def _command(cls, value: str | list[str]) -> str | list[str]:
        split_command(value)
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        rest = re.sub(r"\$\{\w+\}", "", value)
        if re.search(r"[\s${}\"'\\]", rest):
            raise ValueError(
                f"'{value}' is not a URL; write e.g. https://staging.example.com or ${{PROD_URL}} "
                "(a variable read from the environment)"
            )
        if "${" not in value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(
                f"'{value}' is not an http(s) URL; write e.g. https://staging.example.com"
            )
        return value

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, value: list[str]) -> list[str]:
        for name in value:
            SecretNames._secret_name(name)
        return value

    @property
    def argv(self) -> list[str]:
        return split_command(self.command)

    def live_url(self) -> str:
        """The url with `${VAR}` read from the environment (ConfigError when unset/not http)."""
        missing = [n for n in re.findall(r"\$\{(\w+)\}", self.url) if n not in os.environ]
        if missing:
            raise ConfigError(
                f"deploy[{self.environment}].url uses ${{{missing[0]}}} but {missing[0]} is "
                "not set; export it (in Actions: env: from a variable or secret)"
            )
        url = re.sub(r"\$\{(\w+)\}", lambda m: os.environ[m.group(1)], self.url)
        if not re.match(r"^https?://[^\s/]+", url):
            raise ConfigError(
                f"deploy[{self.environment}].url is '{url}', not an http(s) URL; set it "
                "(or its variable) to the endpoint, e.g. https://staging.example.com"
            )
        return url.rstrip("/")


class MetricsSection(_Strict):
    """`metrics:` — settings of the MLOps metrics (`podium metrics`, the report)."""

    cost_per_cpu_hour: FiniteFloat | None = Field(default=None, ge=0)  # CPU time → cost


class PodiumConfig(_Strict):
    model: ModelSection
    data: DataSection
    gates: list[Gate] | None = None
    registry: RegistrySection = Field(default_factory=RegistrySection)
    drift: DriftSection = Field(default_factory=DriftSection)
    ci: CISection = Field(default_factory=CISection)
    monitor: MonitorSection = Field(default_factory=MonitorSection)
    spark: SparkSection = Field(default_factory=SparkSection)
    slices: list[SliceSpec] | None = None
    slices_min_rows: int = Field(default=30, ge=1)  # smaller slices are shown, never gated
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    serving: ServingSection | None = None  # on with `deploy:` too (Config.serving)
    deploy: list[DeployTarget] | None = None

    @field_validator("deploy")
    @classmethod
    def _deploy_order(cls, value: list[DeployTarget] | None) -> list[DeployTarget] | None:
        seen: list[str] = []
        for target in value or []:
            if target.environment in seen:
                raise ValueError(f"two environments named '{target.environment}'; rename one")
            if target.after is not None and target.after not in seen:
                where = (
                    "a later"
                    if any(t.environment == target.after for t in value or [])
                    else "an unknown"
                )
                raise ValueError(
                    f"'{target.environment}' comes after '{target.after}', {where} environment; "
                    "name one listed above it"
                )
            seen.append(target.environment)
        if value is not None and not value:
            raise ValueError("an empty list deploys nowhere; list environments or remove the key")
        return value

    @field_validator("gates")
    @classmethod
    def _some_gates(cls, value: list[Gate] | None) -> list[Gate] | None:
        if value is not None and not value:
            raise ValueError(
                "empty list would promote any challenger; add a gate, or remove the "
                "key for the default (the primary metric must not regress)"
            )
        return value


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
        return [Gate(metric=primary_metric(self.model.task), min_delta=0.0)]

    @property
    def gates_are_default(self) -> bool:
        return self.raw.gates is None

    @property
    def drift(self) -> DriftSection:
        return self.raw.drift

    @property
    def spark(self) -> SparkSection:
        return self.raw.spark

    @overload
    def resolve(self, relative: str) -> Path: ...
    @overload
    def resolve(self, relative: TableSource) -> TableSource: ...
    def resolve(self, relative: str | TableSource) -> Path | TableSource:
        if isinstance(relative, TableSource):
            return relative.resolved(self.root)
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate

    @property
    def state_dir(self) -> Path:
        """`.podium/` next to podium.yaml: stage results (JSON) that chain stages."""
        return self.root / ".podium"

    @property
    def registry_branch(self) -> str | None:
        """The branch of origin the registry lives on (`registry.git_branch`), unless
        MLFLOW_TRACKING_URI names a server, which wins."""
        if os.environ.get("MLFLOW_TRACKING_URI"):
            return None
        return self.raw.registry.git_branch

    @property
    def registry_label(self) -> str:
        """Which registry this is, as reports, messages and stage results name it: the
        tracking URI, or for a branch-kept registry the branch (the same in every clone and
        job, wherever its local copy is)."""
        branch = self.registry_branch
        return f"git branch {branch}" if branch else self.tracking_uri

    @property
    def tracking_uri(self) -> str:
        """MLFLOW_TRACKING_URI wins; relative sqlite paths resolve against the config folder.

        A branch-kept registry is opened from its local copy (see podium.registry.git_branch).
        """
        branch = self.registry_branch
        if branch:
            return f"sqlite:///{self.state_dir / 'registry' / branch / 'mlflow.db'}"
        from_env = os.environ.get("MLFLOW_TRACKING_URI")
        uri = from_env or self.raw.registry.tracking_uri
        check_tracking_uri(
            uri, "MLFLOW_TRACKING_URI" if from_env else f"{self.path}: registry.tracking_uri"
        )
        prefix = "sqlite:///"
        if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
            return prefix + str(self.resolve(uri[len(prefix) :]))
        return uri

    @property
    def ci(self) -> CISection:
        return self.raw.ci

    @property
    def monitor(self) -> MonitorSection:
        return self.raw.monitor

    @property
    def serving(self) -> ServingSection | None:
        """The serving check's settings: `serving:`, or its defaults when `deploy:` is set."""
        if self.raw.serving is None and self.raw.deploy:
            return ServingSection()
        return self.raw.serving

    @property
    def deploy(self) -> list[DeployTarget]:
        return list(self.raw.deploy or [])

    @property
    def experiment_name(self) -> str:
        return self.raw.registry.experiment or f"podium/{self.model.name}"


# What MLflow's tracking and registry stores open (podium needs both in one store).
_STORE_SCHEMES = re.compile(
    r"^(https?|sqlite|file|databricks(-uc)?|uc|(postgresql|mysql|mssql)(\+\w+)?)$"
)


def check_tracking_uri(uri: str, source: str) -> None:
    """Exit 2 (ConfigError naming `source` and the fix) for a URI MLflow cannot open as a
    tracking store: an unknown scheme, no scheme at all, an unparsable or host-less URL."""
    from urllib.parse import urlsplit

    fix = (
        "use http(s)://HOST[:PORT] for a tracking server, sqlite:///PATH.db for a file, or "
        "postgresql://… / mysql://… / databricks"
    )
    scheme, colon, _ = uri.partition(":")
    if not colon or not _STORE_SCHEMES.match(scheme.lower()):
        if uri == "databricks":
            return
        raise ConfigError(f"{source} '{uri}' is not an MLflow tracking URI; {fix}")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (parsing it is the check: 'http://h:x' fails here)
    except ValueError as exc:
        raise ConfigError(f"{source} '{uri}' is not a valid URL ({exc}); {fix}") from None
    if scheme.lower() in {"http", "https"} and not parts.hostname:
        raise ConfigError(f"{source} '{uri}' names no host; {fix}")


def load(path: str | Path = "podium.yaml") -> Config:
    """Read and validate podium.yaml; every problem is a ConfigError naming file and key."""
    cfg_path = Path(path)
    if not cfg_path.is_file():
        raise ConfigError(
            f"{cfg_path}: config file not found; create it (see README) or pass --config PATH"
        )
    try:
        document = yaml.load(cfg_path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
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


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: the second `min:` of a gate must not
    silently replace the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` may legitimately be overridden by explicit keys
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool | None):
                continue  # unhashable keys: let SafeLoader report them
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_cross_fields(config: Config) -> None:
    task = config.model.task
    allowed = metric_names_for(task)
    for index, gate in enumerate(config.gates if not config.gates_are_default else []):
        if gate.metric not in allowed:
            raise ConfigError(
                f"{config.path}: gates[{index}].metric '{gate.metric}' does not apply to "
                f"{task}; use one of {', '.join(sorted(allowed))}"
            )
    for index, name in enumerate(config.monitor.metrics or []):
        if name not in allowed:
            raise ConfigError(
                f"{config.path}: monitor.metrics[{index}] '{name}' does not apply to {task}; "
                f"use one of {', '.join(sorted(allowed & BOOTSTRAPPED))}"
            )
    _check_slices(config)
    branch = config.raw.registry.git_branch
    if branch is not None and branch == config.ci.main_branch:
        raise ConfigError(
            f"{config.path}: registry.git_branch '{branch}' is ci.main_branch, your code's "
            "branch; podium would overwrite it with the registry: name a branch of its own "
            "(e.g. podium-registry)"
        )
    data = config.data
    if data.target in data.exclude:
        raise ConfigError(
            f"{config.path}: data.exclude lists the target '{data.target}'; remove it"
        )
    if data.features is not None and data.target in data.features:
        raise ConfigError(
            f"{config.path}: data.features lists the target '{data.target}'; remove it"
        )
    listed_twice = [c for c in data.features or [] if c in set(data.exclude)]
    if listed_twice:
        # A column in both has two answers to "is it a feature?": refuse, never guess.
        # (Disjoint lists are fine: exclude then only names what is deliberately left out.)
        shown = ", ".join(repr(c) for c in listed_twice)
        raise ConfigError(
            f"{config.path}: data.features and data.exclude both list {shown}; remove it "
            "from data.features to leave it out, or from data.exclude to train on it"
        )


def _check_slices(config: Config) -> None:
    """Slice gates need `slices:`, a metric computed per row, and (ratios) a 0..1 scale."""
    specs = config.raw.slices or []
    for index, spec in enumerate(specs):
        names = [c if isinstance(c, str) else c.column for c in columns_of(spec)]
        if len(set(names)) != len(names):
            raise ConfigError(
                f"{config.path}: slices[{index}] crosses '{names[0]}' with itself; "
                "list each column once"
            )
    for index, gate in enumerate(config.raw.gates or []):
        key = f"{config.path}: gates[{index}]"
        sliced = [k for k in ("per_slice", "max_slice_gap", "min_slice_ratio") if getattr(gate, k)]
        if gate.slice_gap_not_wider and not (gate.max_slice_gap or gate.min_slice_ratio):
            raise ConfigError(
                f"{key}.slice_gap_not_wider needs max_slice_gap or min_slice_ratio on the gate"
            )
        if sliced and not specs:
            raise ConfigError(
                f"{key}.{sliced[0]} needs slices: in podium.yaml (e.g. slices: [region]); "
                "add it or remove the slice bound"
            )
        if sliced and gate.metric not in BOOTSTRAPPED:
            raise ConfigError(
                f"{key}.{sliced[0]}: '{gate.metric}' is measured once per model, not per "
                "slice; gate it on the whole set"
            )
        if gate.min_slice_ratio is not None and not METRICS[gate.metric].zero_to_one:
            raise ConfigError(
                f"{key}.min_slice_ratio is for rates on a 0..1 scale, not '{gate.metric}'; "
                "use max_slice_gap"
            )


def _one_line(path: Path, exc: ValidationError, document: dict[str, Any]) -> str:
    """The first pydantic error as `file: key.path: problem; fix` (one line)."""
    errors = exc.errors()
    error = errors[0]
    if error["loc"][:1] == ("slices",) and len(error["loc"]) > 1:
        entry = error["loc"][:2]
        fitting = _fitting([e for e in errors if e["loc"][:2] == entry])
        if fitting is None:
            return (
                f"{path}: slices[{entry[1]}]: expected a column name, {{column: ..., bins: "
                "[...]} or a list of those, e.g. slices: [region, [region, plan]]"
            )
        if fitting["type"] == "too_short" and len(_plain(fitting["loc"])) == 2:
            return (
                f"{path}: slices[{entry[1]}]: an empty list crosses no columns; list the "
                "columns to cross, e.g. [region, plan], or remove the entry"
            )
        error = fitting
    elif error["type"] == "string_type" and len(errors) > 1:  # `path | {source}`: a mapping
        error = errors[1]
    if error["type"] == "missing":  # `modle:` is a typo of `model:`: name the typo, not the gap
        parent = _plain(error["loc"])[:-1]
        error = next(
            (
                e
                for e in errors
                if e["type"] == "extra_forbidden" and _plain(e["loc"])[:-1] == parent
            ),
            error,
        )
    error = {**error, "loc": _plain(error["loc"])}
    loc = [str(p) for p in error["loc"]]
    key = _format_loc(error["loc"])
    if error["type"] == "extra_forbidden":
        parent = _lookup(document, error["loc"][:-1])
        model = _model_at(error["loc"][:-1])
        allowed = (
            sorted((f.alias or name) for name, f in model.model_fields.items()) if model else []
        )
        hint = closest(loc[-1], allowed)
        did_you = f"; did you mean '{hint}'?" if hint else ""
        listed = allowed and isinstance(parent, dict)
        known = f" (allowed here: {', '.join(allowed)})" if listed else ""
        return f"{path}: unknown key '{key}'{did_you}{known}"
    if error["type"] == "missing":
        return f"{path}: missing required key '{key}'; add it (see README for an example)"
    message = str(error["msg"]).removeprefix("Value error, ")
    # pydantic's class names ("or instance of Gate") mean nothing to users
    message = re.sub(r" or instance of \w+$", "", message)
    if error["type"] == "model_type" and key.startswith("data."):
        message = "expected a csv/parquet path or a source mapping like {uri: ..., table: ...}"
    value = error.get("input")
    shown = (
        f" (got {value!r})"
        if value is not None and not isinstance(value, dict | list) and f"'{value}'" not in message
        else ""
    )
    return f"{path}: {key or 'top level'}: {message}{shown}"


# The errors pydantic reports for a union member the value does not even have the shape of.
_WRONG_MEMBER = {"string_type", "model_type", "list_type", "dict_type"}


def _fitting(errors: list[Any]) -> Any:
    """Of one union value's errors (one set per member), those of the member it is shaped
    like — an unknown key first — or None when it has no member's shape."""
    real = [e for e in errors if e["type"] not in _WRONG_MEMBER]
    real.sort(key=lambda e: e["type"] != "extra_forbidden")
    return real[0] if real else None


def _plain(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Without pydantic's union-member tags (`str`, `Binned`, `function-after[…]`)."""
    tags = ("str", "list[str]", "Binned")
    return tuple(
        p
        for p in loc
        if not (
            isinstance(p, str)
            and (p in tags or p.startswith(("function-after[_one_source", "list[union[")))
        )
    )


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
