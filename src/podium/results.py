"""Stage results under `.podium/`: one typed model per file, and how stages chain.

Each stage returns its model and saves it (`Evaluation.save(state_dir)`); a later stage
or `podium report` loads it once (`Evaluation.load(state_dir, ...)`) and everything
downstream reads attributes, never dict keys, so a renamed field fails type-checking
instead of a user's report.

These files are untrusted input: in the pull-request comment workflow a fork's run
uploads them. Loading is therefore strict — a size cap before parsing, no NaN/Infinity,
bounded nesting, exact types (no coercion), ranges, bounded strings and collections,
versions that are decimal numbers, ids that are hex, no unknown keys — and anything
else is exit 2 with one line that names the file, what is wrong and the fix.

Files are written atomically (temp file + rename) so a later stage never trusts a
half-written result, and a stage clears the results downstream of it before it runs
so that a stale evaluation can never be promoted.

pydantic is imported here, so `podium.cli` imports this module only inside commands.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    ValidationError,
)

from podium.errors import InputError

VALIDATION = "validation.json"
TRAINING = "train.json"
EVALUATION = "evaluation.json"
PROMOTION = "promotion.json"
MONITOR = "monitor.json"
REPORT = "report.md"

# What a stage's new result replaces (its own and everything after it), when it is written.
DOWNSTREAM = {
    VALIDATION: (VALIDATION, TRAINING, EVALUATION, PROMOTION, REPORT),
    TRAINING: (TRAINING, EVALUATION, PROMOTION, REPORT),
    EVALUATION: (EVALUATION, PROMOTION, REPORT),
    PROMOTION: (PROMOTION,),
}

# The version of the files' layout. Bump it when a field is renamed, removed or changes
# meaning: files written before are then "stale" (re-run the stage), never misread.
SCHEMA = 1

# Bounds for untrusted files: generous for real projects, small enough that a crafted
# file cannot exhaust memory, the recursion limit or a comment's size.
MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 32
MAX_TEXT = 10_000  # characters of any string
MAX_FEATURES = 10_000
MAX_METRICS = 1_000
MAX_ITEMS = 1_000  # checks, gates, notes, alerts, kwargs, examples
MAX_EXPECTATION_RESULTS = 100_000  # expectations × datasets


def _finite_or_none(value: Any) -> Any:
    """JSON has no NaN: a number that could not be computed is null ('not computed').

    Only values built in memory can be non-finite: a loaded file with NaN, Infinity or
    1e999 is refused before validation (see `_hostile`).
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


Text = Annotated[str, Field(max_length=MAX_TEXT)]
Name = Text  # a feature, metric, column or kind
Version = Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]
HexId = Annotated[str, Field(pattern=r"^[0-9a-f]{1,64}$")]  # an MLflow run id, a sha256
ExperimentId = Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]{1,64}$")]
Count = Annotated[int, Field(ge=0)]
Real = Annotated[float | None, BeforeValidator(_finite_or_none)]
NonNegative = Annotated[Annotated[float, Field(ge=0)] | None, BeforeValidator(_finite_or_none)]
Share = Annotated[Annotated[float, Field(ge=0, le=1)] | None, BeforeValidator(_finite_or_none)]
Notes = Annotated[list[Text], Field(max_length=MAX_ITEMS)]
Metrics = Annotated[dict[Name, Real], Field(max_length=MAX_METRICS)]


class _Record(BaseModel):
    """Strict: unknown keys are refused, so a renamed field fails loudly."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, validate_by_name=True, validate_by_alias=True
    )


# ------------------------------------------------------------------------ shared parts


class DataSummary(_Record):
    """A table as a stage read it (`data.Table.describe()`)."""

    path: Text
    rows: Count
    columns: Count
    sha256: HexId


class DriftFeature(_Record):
    """One feature's drift against the champion's training profile."""

    feature: Name
    kind: Name
    psi: NonNegative
    test: Name
    statistic: Real
    p_value: Share
    drifted: bool


class Drift(_Record):
    """Feature drift against the champion's training profile (validate and monitor)."""

    reference_version: Version | None
    passed: bool | None = None  # validate's drift gate; None: judged elsewhere (monitor)
    drifted_share: Share
    max_drifted_share: Share = None
    max_psi: NonNegative = None
    features: Annotated[list[DriftFeature], Field(max_length=MAX_FEATURES)] = []


# ------------------------------------------------------------------------- the files


class _Result(_Record):
    """One `.podium/` file: its name, the stage that writes it, load and save."""

    FILE: ClassVar[str]
    STAGE: ClassVar[str]  # the command that writes it: the fix for a bad file

    schema_version: int = Field(default=SCHEMA, alias="schema")

    def save(self, state_dir: Path, *, replaces_downstream: bool = True) -> Path:
        """Write the file atomically (null for numbers that could not be computed).

        The results that followed from the previous one go (`invalidate`): only a stage that
        gets as far as writing its result replaces anything — a failed one leaves them all.
        `replaces_downstream=False`: the same result, amended (promote's delivery line).
        """
        payload = self.model_dump(mode="json", by_alias=True)
        if replaces_downstream:
            invalidate(state_dir, self.FILE)
        return write_state(state_dir, self.FILE, json.dumps(payload, indent=2) + "\n")

    @classmethod
    def load(cls, state_dir: Path, *, needed_by: str, model: str | None = None) -> Self:
        """The stage's result; InputError (exit 2, one line) if missing, stale or bad.

        `model`: podium.yaml's `model.name`; a result about another model is refused.
        """
        path = state_dir / cls.FILE
        if not path.is_file():
            raise InputError(
                f"{path}: not found; `podium {needed_by}` needs the result of "
                f"`podium {cls.STAGE}` — run that first"
            )
        return cls._read(path, model)

    @classmethod
    def load_optional(cls, state_dir: Path, *, model: str | None = None) -> Self | None:
        """The result if the stage has run (None if not); a bad file is still exit 2."""
        path = state_dir / cls.FILE
        return cls._read(path, model) if path.is_file() else None

    @classmethod
    def _read(cls, path: Path, model: str | None) -> Self:
        def refused(what: str, fix: str = f"re-run `podium {cls.STAGE}`") -> InputError:
            return InputError(f"{path}: {what}; {fix}")

        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise refused(f"cannot be read ({exc.strerror})") from None
        if len(raw) > MAX_BYTES:
            raise refused(f"is larger than {MAX_BYTES // 2**20} MB")
        try:
            loaded = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except RecursionError:
            raise refused(f"is nested deeper than {MAX_DEPTH} levels") from None
        except ValueError:  # also bad UTF-8
            raise refused("is not valid JSON") from None
        if not isinstance(loaded, dict):
            raise refused("is not a JSON object")
        problem = _hostile(loaded)
        if problem:
            raise refused(problem)
        schema = loaded.get("schema")
        if schema != SCHEMA or isinstance(schema, bool):
            if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
                raise refused(
                    f"was written by a newer podium (schema {schema}; this podium reads {SCHEMA})",
                    f"upgrade podium or re-run `podium {cls.STAGE}`",
                )
            found = "no schema version" if schema is None else "an unknown schema version"
            if isinstance(schema, int) and not isinstance(schema, bool):
                found = f"schema {schema}"
            raise refused(
                f"is stale: written by an older podium ({found}; this podium reads {SCHEMA})"
            )
        try:
            result = cls.model_validate(loaded, strict=True)
        except ValidationError as exc:
            raise refused(_first_error(exc)) from None
        named = getattr(result, "model_name", None)
        if model is not None and named is not None and named != model:
            raise refused(
                f"is for model {_shown(named)}, not {_shown(model)} (model.name in podium.yaml)"
            )
        return result


class DataCheck(_Record):
    """One data check of `podium validate` (the data loads, has the target, …)."""

    name: Text
    passed: bool
    detail: Text


class ExpectationResult(_Record):
    """One expectation of the project's suite on one dataset."""

    dataset: Name
    expectation: Name
    column: Name | None
    kwargs: Annotated[dict[Name, JsonValue], Field(max_length=MAX_ITEMS)]
    success: bool
    observed: JsonValue = None
    unexpected_examples: Annotated[list[JsonValue], Field(max_length=MAX_ITEMS)] = []


class Expectations(_Record):
    """The Great Expectations suite's results on train and eval."""

    suite: Text | None
    passed: bool
    evaluated: Count
    failed: Count
    results: Annotated[list[ExpectationResult], Field(max_length=MAX_EXPECTATION_RESULTS)]


class Validation(_Result):
    """`.podium/validation.json`: the data checks, expectations and drift."""

    FILE: ClassVar[str] = VALIDATION
    STAGE: ClassVar[str] = "validate"

    passed: bool
    checks: Annotated[list[DataCheck], Field(max_length=MAX_ITEMS)]
    train: DataSummary
    eval: DataSummary
    champion_version: Version | None = None
    notes: Notes = []
    expectations: Expectations | None = None
    drift: Drift | None = None

    @property
    def failure(self) -> str | None:
        """Why the data failed (the exit-1 message), None when it passed."""
        if self.passed:
            return None
        return "validation failed: " + "; ".join(c.detail for c in self.checks if not c.passed)


class Training(_Result):
    """`.podium/train.json`: the registered challenger version and how it was made."""

    FILE: ClassVar[str] = TRAINING
    STAGE: ClassVar[str] = "train"

    model_name: Text
    version: Version
    run_id: HexId
    experiment_id: ExperimentId
    tracking_uri: Text = ""
    task: Name = ""
    estimator: Text
    feature_types: Annotated[dict[Name, Name], Field(max_length=MAX_FEATURES)]
    train: DataSummary
    eval: DataSummary
    train_metrics: Metrics = {}
    fit_seconds: NonNegative
    train_sample: Count | None = None  # engine: spark — rows of the sample it was fitted on
    fit_cpu_seconds: NonNegative = None  # this process and its children (`model.command`)
    fit_peak_memory_mb: NonNegative = None
    provenance: Annotated[dict[Name, Text], Field(max_length=100)] = {}
    trained_at: Text = ""
    # Not retrained: `version` is an earlier one trained on the same data, config and clean
    # commit (issue 31), the challenger again; None when this run fitted and registered it.
    identical_to: Version | None = None

    @property
    def not_retrained(self) -> str | None:
        """What to tell the user when the challenger is an identical earlier version."""
        if self.identical_to is None:
            return None
        return (
            f"identical to v{self.identical_to} (same data, config and commit): not retrained; "
            "pass --retrain to train anyway"
        )


class ModelScore(_Record):
    """One registered version's metrics on the evaluation data (or why it has none)."""

    version: Version
    run_id: HexId | None = None
    metrics: Metrics = {}
    error: Text | None = None
    # metric -> why this model cannot give it (e.g. "the model returns labels only");
    # left out of the file when empty, so files about other models read as before
    unavailable: Annotated[
        dict[Name, Text], Field(max_length=MAX_METRICS, exclude_if=lambda found: not found)
    ] = {}


class BootstrapInterval(_Record):
    """Paired bootstrap interval of challenger − champion (raw, not direction-adjusted)."""

    low: Real
    high: Real
    confidence: Share
    resamples: Count
    rows: Count
    method: Name


class GateResult(_Record):
    """One gate applied to one metric (`gates.GateCheck`, as written)."""

    metric: Name
    challenger: Real
    champion: Real
    delta: Real
    bound: Text
    passed: bool
    reasons: Notes = []
    interval: BootstrapInterval | None = None
    notes: Notes = []


class Significance(_Record):
    """How the intervals in the gate checks were made."""

    method: Name | None
    confidence: Share
    rows: Count | None
    skipped: Annotated[dict[Name, Text], Field(max_length=MAX_METRICS)] = {}


class FeatureImportance(_Record):
    feature: Name
    importance: Real
    std: Real
    rank: Annotated[int, Field(ge=1)]


class ImportanceRanking(_Record):
    """Permutation importance of one model's features, most important first."""

    metric: Name
    rows: Count
    repeats: Count
    features: Annotated[list[FeatureImportance], Field(max_length=MAX_FEATURES)]


class ImportanceFailed(_Record):
    """Importance could not be computed (the comparison goes on without it)."""

    error: Text


class Importance(_Record):
    challenger: ImportanceRanking | ImportanceFailed | None = None
    champion: ImportanceRanking | ImportanceFailed | None = None


class DeliveryMetrics(_Record):
    """`delivery.Delivery` before this candidate, as written into the evaluation."""

    model_name: Text
    as_of: Text = ""
    window_days: Count
    promotions: Count
    deployment_frequency: NonNegative
    candidates: Count
    candidates_promoted: Count
    success_rate: Share = None
    pr_candidates: Count = 0
    rollbacks: Count
    change_failure_rate: NonNegative = None
    last_promotion: Text | None = None
    days_since_last_promotion: NonNegative = None
    champion_version: Version | None = None
    champion_since: Text | None = None
    days_as_champion: NonNegative = None
    champion_age_days: NonNegative = None
    total_promotions: Count = 0
    total_rollbacks: Count = 0


class Computation(_Record):
    """How evaluate's numbers were computed inside an engine (`engine: spark`): which are
    exact aggregates over every row, which approximate (how, and the error bound), and
    which come from a seeded sample of how many rows."""

    engine: Name
    rows: Count  # labelled evaluation rows scored
    exact: Annotated[list[Name], Field(max_length=MAX_METRICS)] = []
    approximate: Annotated[dict[Name, Text], Field(max_length=MAX_METRICS)] = {}
    sample_rows: Count = 0  # rows behind the bootstrap, importance and latency
    sampled: Annotated[list[Name], Field(max_length=MAX_METRICS)] = []


MAX_SLICES = 20_000  # slices × slicings (each slicing is capped at 1,000 by podium)


class SliceResult(_Record):
    """Both models on one slice of the evaluation data (`podium.slices`), worst first."""

    slicing: Text  # 'region', 'region × plan'
    slice: Text  # 'region=south' — values from the data: escape them when shown
    rows: Count
    challenger: Metrics = {}
    champion: Metrics | None = None
    intervals: Annotated[dict[Name, BootstrapInterval], Field(max_length=MAX_METRICS)] = {}
    sample_rows: Count | None = None  # engine: spark — its rows in the bootstrap sample
    passed: bool | None = None  # None: not gated (too few rows, or no per-slice gate)
    reasons: Notes = []


class SliceGap(_Record):
    """A cross-slice gate on one slicing: the challenger's best slice against its worst."""

    metric: Name
    slicing: Text
    gap: Real
    ratio: Real = None
    champion_gap: Real = None
    champion_ratio: Real = None
    best: Text
    worst: Text
    bound: Text
    passed: bool
    reasons: Notes = []
    notes: Notes = []


class Slices(_Record):
    """`slices:` of podium.yaml: every slice scored, the slice gates and how they decided."""

    min_rows: Count
    slicings: Annotated[list[Text], Field(max_length=MAX_ITEMS)]
    metrics: Annotated[list[Name], Field(max_length=MAX_METRICS)]
    slices: Annotated[list[SliceResult], Field(max_length=MAX_SLICES)]
    gaps: Annotated[list[SliceGap], Field(max_length=MAX_SLICES)] = []
    passed: bool
    failures: Annotated[list[Text], Field(max_length=MAX_ITEMS)] = []  # worst first
    failed: Count = 0  # failed slice gates in all (failures holds at most the first 1,000)
    guard: Text = ""  # how many slices are kept from raising false alarms
    computed: Text = ""  # engine: spark — which numbers are exact, which from the sample
    seconds: NonNegative = None


class ServingCheck(_Record):
    """The candidate behind MLflow's scoring server (`serving:`): did it answer as in-process?"""

    env_manager: Name
    rows: Count
    requests: Count = 0
    parity: Share = None  # share of probe rows answered identically
    latency_ms: NonNegative = None  # p95 of `requests` single-batch requests
    start_seconds: NonNegative = None  # until /ping answered
    error: Text | None = None  # one line and the server's last log lines
    mismatch: Text | None = None  # the first row answered differently
    skipped: Text | None = None  # why it did not run (an engine source)

    @property
    def passed(self) -> bool:
        return self.skipped is not None or (self.error is None and self.parity == 1.0)


class Evaluation(_Result):
    """`.podium/evaluation.json`: challenger and champion scored, and the gates' verdict."""

    FILE: ClassVar[str] = EVALUATION
    STAGE: ClassVar[str] = "evaluate"

    model_name: Text
    tracking_uri: Text
    task: Name
    challenger: ModelScore
    champion: ModelScore | None
    passed: bool
    summary: Annotated[str, Field(max_length=10 * MAX_TEXT)]
    checks: Annotated[list[GateResult], Field(max_length=MAX_ITEMS)]
    gates_are_default: bool
    eval: DataSummary
    evaluated_at: Text = ""
    significance: Significance | None = None
    importance: Importance | None = None
    delivery: DeliveryMetrics | None = None
    computed: Computation | None = None  # engine: spark — exact, approximate, sampled
    slices: Slices | None = None
    # A rollback paused automatic promotion of the model: why, and what lifts it.
    paused: Text | None = None
    serving: ServingCheck | None = None
    positive_class: Text | None = None  # binary: which class the scores are for, in words

    @property
    def failure(self) -> str | None:
        """Why the gates failed (the exit-1 message), None when they passed."""
        return None if self.passed else f"gates failed: {self.summary}"


class Promotion(_Result):
    """`.podium/promotion.json`: whether `@champion` moved, and why (not)."""

    FILE: ClassVar[str] = PROMOTION
    STAGE: ClassVar[str] = "promote"

    promoted: bool
    champion_version: Version | None
    previous_version: Version | None
    reason: Text = ""
    paused: bool = False  # a rollback paused automatic promotion (`reason` says which)
    # Why promotion was refused (exit 1): failed gates or a lost race. Not written.
    _refused: str | None = PrivateAttr(default=None)

    @classmethod
    def refused(cls, champion: str | None, reason: str, failure: str) -> Promotion:
        """Nothing moved, and that is a failed outcome (`failure` is the exit-1 message)."""
        outcome = cls(
            promoted=False, champion_version=champion, previous_version=champion, reason=reason
        )
        outcome._refused = failure
        return outcome

    @property
    def passed(self) -> bool:
        return self._refused is None

    @property
    def failure(self) -> str | None:
        return self._refused


class MetricComparison(_Record):
    """A live metric on production data against the champion's evaluation."""

    metric: Name
    live: Real
    champion: Real
    drop: Real  # positive: worse than at evaluation
    alert: bool


class Monitor(_Result):
    """`.podium/monitor.json`: production data against what was recorded at training."""

    FILE: ClassVar[str] = MONITOR
    STAGE: ClassVar[str] = "monitor"

    model_name: Text
    champion_version: Version
    passed: bool
    alerts: Notes
    notes: Notes
    data: DataSummary
    rows: Count
    labelled_rows: Count
    drift: Drift | None
    metrics: Annotated[list[MetricComparison], Field(max_length=MAX_METRICS)]
    max_metric_drop: NonNegative
    checked_at: Text
    metric_drop: Literal["relative", "absolute"] = "relative"  # how max_metric_drop reads
    issue_url: Text | None = None
    issue_created: bool | None = None
    dispatched: bool = False
    skipped: Notes = []  # what was not sent, and why

    @property
    def failure(self) -> str | None:
        """Which thresholds were crossed (the exit-1 message), None when healthy."""
        return None if self.passed else "monitoring thresholds crossed: " + "; ".join(self.alerts)


# ------------------------------------------------------------------------- reading


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _path(parts: list[Any]) -> str:
    return ".".join(_key(p) for p in parts) or "the document"


def _key(part: Any) -> str:
    """A path element as a one-line, short, harmless string (keys come from the file)."""
    if isinstance(part, int):
        return str(part)
    shown = str(part)
    if not shown.replace("_", "").isalnum() or len(shown) > 60:
        shown = json.dumps(shown[:60])
    return shown


def _shown(value: str) -> str:
    return json.dumps(value[:100])


def _hostile(document: Any) -> str | None:
    """Nesting deeper than any podium file, or a number JSON cannot hold (1e999)."""
    stack: list[tuple[Any, list[Any]]] = [(document, [])]
    while stack:
        value, where = stack.pop()
        if len(where) > MAX_DEPTH:
            return f"is nested deeper than {MAX_DEPTH} levels (at {_path(where[:3])}…)"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{_path(where)}: is not a finite number"
        if isinstance(value, dict):
            stack.extend((v, [*where, k]) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, [*where, i]) for i, v in enumerate(value))
    return None


# pydantic names union members in error locations; they are not keys of the file.
_TAGS = {
    "ImportanceRanking",
    "ImportanceFailed",
    "BootstrapInterval",
    "ModelScore",
    "Drift",
    "Expectations",
    "Significance",
    "Importance",
    "DeliveryMetrics",
    "Slices",
    "float",
    "int",
    "str",
    "bool",
    "none",
}


def _first_error(error: ValidationError) -> str:
    """The first problem as `key.path: what` (never the value: it may be hostile)."""
    first = error.errors(include_url=False, include_input=False)[0]
    parts = [
        p
        for p in first["loc"]
        if not (isinstance(p, str) and (p in _TAGS or p.startswith(("function-", "constrained-"))))
    ]
    where = _path(parts)
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"{where}: unknown key"
    if kind == "missing":
        return f"{where}: missing"
    return f"{where}: {first['msg']}"


# ------------------------------------------------------------------------- writing


def write_text(state_dir: Path, name: str, text: str) -> Path:
    """Write `state_dir/name` atomically (temp file + rename)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    target = state_dir / name
    fd, tmp = tempfile.mkstemp(dir=state_dir, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


STATE_GITIGNORE = (
    "# podium's working state (stage results, reports, the local registry): not for commits.\n"
    "# Written by podium when it creates the folder; delete this file to commit some of it.\n"
    "*\n"
)


def state_folder(state_dir: Path) -> Path:
    """`.podium/`, created with a .gitignore of its own when new (as pytest's and mypy's
    caches are), so that `git add .` never commits a run's results or the local registry."""
    if not state_dir.is_dir():
        state_dir.mkdir(parents=True, exist_ok=True)
        write_text(state_dir, ".gitignore", STATE_GITIGNORE)
    return state_dir


def write_state(state_dir: Path, name: str, text: str) -> Path:
    """`write_text` into `.podium/` (see `state_folder`)."""
    return write_text(state_folder(state_dir), name, text)


@contextmanager
def restored_on_error(state_dir: Path) -> Iterator[None]:
    """Several stages as one command (`podium run`): when it fails with an exception (bad
    input, a service down) the stage results are put back as they were before it — a
    stage it got through must not have replaced them for a command that failed."""
    names = tuple(DOWNSTREAM[VALIDATION])
    before = {n: (state_dir / n).read_text() for n in names if (state_dir / n).is_file()}
    try:
        yield
    except BaseException:
        for name in names:
            if name in before:
                write_text(state_dir, name, before[name])
            else:
                (state_dir / name).unlink(missing_ok=True)
        raise


def invalidate(state_dir: Path, stage_file: str) -> None:
    """Remove a stage's result and everything downstream of it, as its new result is
    written (`_Result.save`): never before, so a stage that fails leaves them as they were."""
    for name in DOWNSTREAM.get(stage_file, ()):
        (state_dir / name).unlink(missing_ok=True)
