"""Every name podium writes into MLflow: the alias, and the `podium.*` tags.

Model-version tags are how one stage hands facts to a later one (train → evaluate,
validate, monitor) and how `podium metrics` reads delivery history, so each name is
spelled once, here. The feature list has one writer and one parser: `feature_types_tag`, `read_feature_types`;
so do the classes: `classes_tag`, `read_classes`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

CHAMPION = "champion"  # the registered model's alias: the serving model

# -- registered-model tags -----------------------------------------------------------
AUDIT_PREFIX = "podium.audit."  # + 6-digit seq = one champion move, as JSON (audit.py)
# + a UTC timestamp and a random suffix = one `podium monitor` run's look at the champion
MONITOR_PREFIX = "podium.monitor."
# JSON of the rollback that paused automatic promotion (champion.py); "" once resumed
PAUSED = "podium.promotion_paused"
DEPLOY_PREFIX = "podium.deploy."  # + 6-digit seq = one deployment attempt, as JSON
PROBE_PREFIX = "podium.probe."  # + UTC time and random = one look at a live endpoint
LOCK_HOLDER = "podium.lock.holder"  # on the lock model (lock.py)
LOCK_SINCE = "podium.lock.since"
LOCK_HOST = "podium.lock.host"  # the holder's machine (and pid namespace) …
LOCK_PID = "podium.lock.pid"  # … and process there: a dead holder's lease is broken at once

# -- model-version tags written by train -----------------------------------------------
CANDIDATE = "podium.candidate"
TASK = "podium.task"
FEATURES = "podium.features"  # JSON object: column → kind, as in the training data
# On a branch registry, a version whose model files retention (registry.keep_versions)
# removed from the tip: the branch commit that still holds them.
PRUNED = "podium.pruned_files_in"
PODIUM_VERSION = "podium.version"  # the podium release that trained it (not a model version)
CLASSES = "podium.classes"  # JSON list: the training labels, sorted (classification)
POSITIVE = "podium.positive_class"  # JSON: model.positive_class, when set
TRAIN_SHA256 = "podium.train_sha256"
# sha256 of the manifest of the model's files at registration (registry/integrity.py)
MODEL_SHA256 = "podium.model_sha256"
EVAL_SHA256 = "podium.eval_sha256"
# sha256 of podium.yaml as resolved (every key, defaults filled in): with the data's and
# the commit, what makes a retraining identical (`podium train` reuses such a version)
CONFIG_SHA256 = "podium.config_sha256"
TRAIN_ROWS = "podium.train_rows"
EVAL_ROWS = "podium.eval_rows"
PROVENANCE_PREFIX = "podium."  # + each key of gha.provenance(): git_commit, pr, ref, …
PR = PROVENANCE_PREFIX + "pr"

# -- model-version tags for governance: the model card (card.py) and `podium reproduce`
PURPOSE = "podium.purpose"  # train: JSON of model.description, owners, intended_use, limitations
DIRTY = PROVENANCE_PREFIX + "dirty"  # train: "true" when trained from uncommitted changes
DIRTY_FILES = "podium.dirty_files"  # train (gha.provenance): "a, b, … (+N)", the changed paths
TARGET = "podium.target"  # train: data.target
MODEL_KIND = "podium.model_kind"  # train: estimator | entrypoint | command
CARD_WRITTEN = "podium.model_card"  # promote: the card's artifact path, once written
REPRODUCTION = "podium.reproduction"  # reproduce: JSON of the last verdict

# -- model-version tags written by evaluate --------------------------------------------
VERDICT = "podium.verdict"  # "passed" | "failed"
EVALUATED_AGAINST = "podium.evaluated_against"  # champion version, "" when none
EVALUATED_AT = "podium.evaluated_at"
# sha256 of the evaluation data its logged importance (podium/importance.json) was computed on
IMPORTANCE_EVAL_SHA256 = "podium.importance_eval_sha256"

# -- written by `podium registry export` on the target (export.py): what was copied ------
SOURCE_VERSION = "podium.source_version"  # on a model version: its number in the source
SOURCE_RUN = "podium.source_run_id"  # on a run: the source run's id

# -- model-version tags written when @champion moves -------------------------------------
CHAMPION_SINCE = "podium.champion_since"
CHAMPION_BY = "podium.champion_by"
CHAMPION_REASON = "podium.champion_reason"
CHAMPION_ACTION = "podium.champion_action"
CHAMPION_COMMIT = "podium.champion_commit"
PREVIOUS_CHAMPION = "podium.previous_champion"
RETIRED_AT = "podium.retired_at"
RETIRED_BY_VERSION = "podium.retired_by_version"


def feature_types_tag(types: Mapping[str, str]) -> str:
    """The value of `podium.features` for a version trained on `types` (column → kind)."""
    return json.dumps(dict(types))


def read_feature_types(tags: Mapping[str, str]) -> dict[str, str] | None:
    """The columns (name → kind) a model version was trained on, from its `podium.features`.

    None when the tag is missing, is not JSON or is not a JSON object (a version trained
    by an older podium, or a hand-edited tag); each caller decides what that means.
    """
    try:
        loaded = json.loads(tags.get(FEATURES, ""))
    except ValueError:
        return None
    if not isinstance(loaded, dict):
        return None
    return {str(column): str(kind) for column, kind in loaded.items()}


def classes_tag(classes: Sequence[Any]) -> str:
    """The value of `podium.classes`: the labels a classifier was trained on, sorted."""
    return json.dumps([_plain(label) for label in classes])


def read_classes(tags: Mapping[str, str]) -> list[Any] | None:
    """The labels a version was trained on (sorted), from `podium.classes`; None if unknown."""
    try:
        loaded = json.loads(tags.get(CLASSES, ""))
    except ValueError:
        return None
    return loaded if isinstance(loaded, list) else None


def _plain(label: Any) -> Any:
    """A numpy scalar as the Python value JSON can hold (np.int64(1) → 1)."""
    item = getattr(label, "item", None)
    return item() if callable(item) else label


def read_positive(tags: Mapping[str, str]) -> Any:
    """The class a version's single probability per row is for (model.positive_class), or
    None when it was not set (the second of the two sorted labels, then)."""
    try:
        return json.loads(tags.get(POSITIVE, "null"))
    except ValueError:
        return None
