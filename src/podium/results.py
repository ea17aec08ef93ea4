"""Stage results under `.podium/`: how stages chain, in CI and locally.

Files are written atomically (temp file + rename) so a later stage never trusts a
half-written result, and a stage clears the results downstream of it before it runs
so that a stale evaluation can never be promoted.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from podium.errors import InputError

VALIDATION = "validation.json"
TRAINING = "train.json"
EVALUATION = "evaluation.json"
PROMOTION = "promotion.json"
REPORT = "report.md"

# What each stage invalidates when it starts (its own result and everything after it).
DOWNSTREAM = {
    VALIDATION: (VALIDATION, TRAINING, EVALUATION, PROMOTION, REPORT),
    TRAINING: (TRAINING, EVALUATION, PROMOTION, REPORT),
    EVALUATION: (EVALUATION, PROMOTION, REPORT),
    PROMOTION: (PROMOTION,),
}


def _clean(value: Any) -> Any:
    """JSON has no NaN: write null instead (readers treat null as 'not computed')."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_text(state_dir: Path, name: str, text: str) -> Path:
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


def write(state_dir: Path, name: str, payload: dict[str, Any]) -> Path:
    text = json.dumps(_clean(payload), indent=2, sort_keys=False, allow_nan=False) + "\n"
    return write_text(state_dir, name, text)


def read(state_dir: Path, name: str, *, needed_by: str, produced_by: str) -> dict[str, Any]:
    path = state_dir / name
    if not path.is_file():
        raise InputError(
            f"{path}: not found; `podium {needed_by}` needs the result of "
            f"`podium {produced_by}` — run that first"
        )
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise InputError(f"{path}: is not valid JSON; re-run `podium {produced_by}`") from None
    if not isinstance(loaded, dict):
        raise InputError(f"{path}: unexpected content; re-run `podium {produced_by}`")
    return loaded


def read_optional(state_dir: Path, name: str) -> dict[str, Any] | None:
    path = state_dir / name
    if not path.is_file():
        return None
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None


def invalidate(state_dir: Path, stage_file: str) -> None:
    for name in DOWNSTREAM[stage_file]:
        (state_dir / name).unlink(missing_ok=True)
