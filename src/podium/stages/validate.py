"""`podium validate`: the data loads, has the target, and has what the champion needs.

Great Expectations suites and drift are the data-quality issue's; this stage already
refuses data that training or evaluation could not use, before anything is trained.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from podium import data, gha, results
from podium.config import Config
from podium.errors import CheckFailed
from podium.stages import open_registry


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class ValidationResult:
    passed: bool
    checks: list[Check] = field(default_factory=list)
    train: dict[str, Any] = field(default_factory=dict)
    eval: dict[str, Any] = field(default_factory=dict)
    champion_version: str | None = None
    notes: list[str] = field(default_factory=list)


def validate(*, config: Config, use_registry: bool = True) -> ValidationResult:
    """Check train/eval data; write `.podium/validation.json`; CheckFailed if a check fails."""
    results.invalidate(config.state_dir, results.VALIDATION)
    spec = config.data
    train_table = data.read_table(config.resolve(spec.train), label="data.train")
    eval_table = data.read_table(config.resolve(spec.eval), label="data.eval")
    checks: list[Check] = []
    train_set = data.prepare(
        train_table,
        target=spec.target,
        task=config.model.task,
        features=spec.features,
        exclude=spec.exclude,
    )
    checks.append(
        Check(
            "train data",
            True,
            f"{train_table.rows:,} rows, {len(train_set.feature_types)} features, "
            f"target '{spec.target}'",
        )
    )
    eval_set = data.prepare(
        eval_table,
        target=spec.target,
        task=config.model.task,
        features=None,
        exclude=[],
        expected_types=train_set.feature_types,
    )
    checks.append(
        Check("eval data", True, f"{eval_table.rows:,} rows with every training feature")
    )
    notes = []
    for label, dataset in (("train", train_set), ("eval", eval_set)):
        if dataset.dropped_unlabelled:
            notes.append(f"{dataset.dropped_unlabelled} {label} rows have no target and are skipped")
    if config.model.task == "classification":
        classes = train_set.target.nunique()
        checks.append(
            Check(
                "target classes",
                classes >= 2,
                f"{classes} classes in the training data"
                + ("" if classes >= 2 else "; a classifier needs at least 2"),
            )
        )
        unseen = sorted(set(eval_set.target.unique()) - set(train_set.target.unique()), key=str)
        if unseen:
            notes.append(f"eval labels never seen in training: {unseen[:5]}")

    champion_version = None
    if use_registry:
        registry = open_registry(config)
        champion = registry.champion()
        if champion is not None:
            champion_version = champion.version
            checks.append(_champion_columns(champion.tags, train_set.feature_types, champion.version))
    if spec.expectations:
        notes.append(
            f"data.expectations ({spec.expectations}) is not evaluated by this podium version"
        )

    passed = all(c.passed for c in checks)
    outcome = ValidationResult(
        passed=passed,
        checks=checks,
        train=train_table.describe(),
        eval=eval_table.describe(),
        champion_version=champion_version,
        notes=notes,
    )
    results.write(config.state_dir, results.VALIDATION, asdict(outcome))
    gha.set_output("passed", str(passed).lower())
    if not passed:
        failed = "; ".join(c.detail for c in checks if not c.passed)
        raise CheckFailed(f"validation failed: {failed}")
    return outcome


def _champion_columns(tags: dict[str, str], types: dict[str, str], version: str) -> Check:
    """The new data must still carry every column the champion was trained on."""
    try:
        needed: dict[str, str] = json.loads(tags.get("podium.features", "{}"))
    except ValueError:
        needed = {}
    if not needed:
        return Check("champion columns", True, f"champion v{version} records no feature list")
    missing = [c for c in needed if c not in types]
    changed = [c for c, kind in needed.items() if c in types and types[c] != kind]
    if missing:
        return Check(
            "champion columns",
            False,
            f"columns champion v{version} was trained on are missing: {', '.join(missing)}",
        )
    detail = f"all {len(needed)} columns champion v{version} uses are present"
    if changed:
        detail += f" (type changed: {', '.join(changed)})"
    return Check("champion columns", True, detail)
