"""`podium reproduce --version N`: rebuild a version from what was recorded, and compare.

The version's recorded commit is checked out in a temporary git worktree; its data (there,
or in `--data-from`) must match the recorded sha256 fingerprints; `podium train` then runs
on that checkout with its podium.yaml, into a throwaway MLflow store in a temporary folder
(the project's registry is only read, and gets one tag: the verdict). The new run is
compared with the recorded one: parameters, every recorded training metric, the evaluation
metrics and predictions on the evaluation rows, and the library versions logged with the
model. The verdict names the first cause when it is not reproduced.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from podium import gha, resources, worktree
from podium.clock import now_iso
from podium.config import Config, TableSource, load
from podium.errors import InputError, PodiumError
from podium.registry import tags
from podium.stages import open_registry
from podium.stages.card import version_number

if TYPE_CHECKING:
    from podium.registry import Registry, Version

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
# Compared like any metric, but they measure the machine, not the model.
_UNCOMPARED = resources.RESOURCES


@dataclass
class Reproduction:
    """The verdict of `podium reproduce`, with what was compared."""

    model_name: str
    version: str
    commit: str
    verdict: str = NOT_REPRODUCED
    cause: str | None = None
    compared: list[str] = field(default_factory=list)  # one line per comparison made
    notes: list[str] = field(default_factory=list)

    @property
    def failure(self) -> str | None:
        if self.verdict == REPRODUCED:
            return None
        return f"v{self.version} of {self.model_name} not reproduced: {self.cause}"

    def lines(self) -> list[str]:
        found = [f"  {line}" for line in self.compared] + [f"  note: {n}" for n in self.notes]
        if self.verdict == REPRODUCED:
            found.append(
                f"reproduced: v{self.version} of {self.model_name} from {self.commit[:12]}"
            )
        return found


def reproduce(
    *,
    config: Config,
    version: str,
    data_from: str | None = None,
    tolerance: float = 0.0,
    say: Callable[[str], None] = lambda _: None,
) -> Reproduction:
    """Rebuild `version` from its recorded commit and data and compare (see module doc)."""
    if not math.isfinite(tolerance) or tolerance < 0:
        raise InputError(f"--tolerance {tolerance} must be a number ≥ 0, e.g. --tolerance 1e-6")
    number = version_number(version)
    top = worktree.top_level(config.root)
    if top is None:
        raise InputError(
            f"{config.root} is not in a git repository; run `podium reproduce` in the "
            "repository the model was trained from"
        )
    folder = Path(data_from).resolve() if data_from else None
    if folder is not None and not folder.is_dir():
        raise InputError(f"--data-from {data_from}: no such folder; name the folder the data is in")
    registry = open_registry(config, writes=True)
    recorded = registry.get_version(number)
    commit = recorded.tags.get(tags.PROVENANCE_PREFIX + "git_commit")
    if not commit:
        raise InputError(
            f"v{number} of {config.model.name} has no recorded commit (trained outside a git "
            "repository, or by an older podium); only versions trained from a commit can be "
            "reproduced"
        )
    done = Reproduction(model_name=config.model.name, version=number, commit=commit)
    if recorded.tags.get(tags.DIRTY, "").lower() == "true":
        done.notes.append(f"v{number} was trained from uncommitted changes; the commit may differ")
    if not worktree.has_commit(top, commit):
        done.cause = (
            f"commit {commit[:12]} is missing from this repository; fetch it "
            f"(git fetch origin {commit}) or reproduce in a clone that has it"
        )
        return _record(registry, done)
    say(f"checking out {commit[:12]} in a temporary worktree …")
    with worktree.checked_out(top, commit) as tree:
        done.cause = _rebuild(config, registry, recorded, tree, top, folder, tolerance, done, say)
    if done.cause is None:
        done.verdict = REPRODUCED
    return _record(registry, done)


def _rebuild(
    config: Config,
    registry: Registry,
    recorded: Version,
    tree: Path,
    top: Path,
    folder: Path | None,
    tolerance: float,
    done: Reproduction,
    say: Callable[[str], None],
) -> str | None:
    """Retrain in `tree` and compare; the first cause of a difference, None if none."""
    there = tree / config.path.resolve().relative_to(top)
    if not there.is_file():
        return f"{there.relative_to(tree)} does not exist at commit {done.commit[:12]}"
    try:
        old = load(there)
    except PodiumError as exc:
        return f"the recorded podium.yaml cannot be read by this podium: {exc}"
    if old.model.name != config.model.name:
        return f"the podium.yaml at the commit names model '{old.model.name}'"
    for role, key in (("train", tags.TRAIN_SHA256), ("eval", tags.EVAL_SHA256)):
        source = getattr(old.data, role)
        if isinstance(source, TableSource):
            return f"data.{role} is a table source: only files can be checked against a fingerprint"
        cause = _place_data(old, role, source, recorded.tags.get(key), folder, config, done)
        if cause:
            return cause
    with tempfile.TemporaryDirectory(prefix="podium-reproduce-store-") as scratch:
        throwaway = _throwaway(old, Path(scratch))
        say("retraining with the recorded configuration into a throwaway MLflow store …")
        from podium.stages.train import train

        with _registry_env():
            try:
                trained = train(config=throwaway, retrain=True)
            except PodiumError as exc:
                return f"retraining failed: {exc}"
            from podium.registry import Registry

            again = Registry(throwaway.tracking_uri, old.model.name)
            rebuilt = again.get_version(trained.version)
            return _compare(registry, recorded, again, rebuilt, old, tolerance, done)


def _place_data(
    old: Config,
    role: str,
    source: str,
    fingerprint: str | None,
    folder: Path | None,
    config: Config,
    done: Reproduction,
) -> str | None:
    """Put the data file the commit's config names in place and check its fingerprint."""
    from podium.data import fingerprint as sha256

    target = old.resolve(source)
    if folder is not None:
        candidate = folder / Path(source).name
    elif target.is_file():
        candidate = target
    else:  # not committed (git-ignored data): the project's copy, if it has one
        candidate = config.resolve(source)
    if not candidate.is_file():
        where = f"--data-from {folder}" if folder else f"the commit or {config.root}"
        return f"data.{role} {source} not found in {where}; pass --data-from DIR"
    if fingerprint is None:
        return f"v{done.version} has no recorded data.{role} fingerprint"
    found = sha256(candidate)
    if found != fingerprint:
        return (
            f"data.{role} {candidate} differs from its fingerprint "
            f"(sha256 {found[:12]}…, recorded {fingerprint[:12]}…)"
        )
    done.compared.append(f"data.{role}: sha256 matches ({fingerprint[:12]}…)")
    if candidate.resolve() != target.resolve():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        target.symlink_to(candidate.resolve())
    return None


def _throwaway(old: Config, scratch: Path) -> Config:
    """The commit's config, its registry replaced by a sqlite store in `scratch`."""
    from podium.config import Config as Loaded

    registry = old.raw.registry.model_copy(
        update={"tracking_uri": f"sqlite:///{scratch / 'mlflow.db'}", "git_branch": None}
    )
    return Loaded(old.raw.model_copy(update={"registry": registry}), old.path)


@contextlib.contextmanager
def _registry_env() -> Iterator[None]:
    """Without MLFLOW_TRACKING_URI (a server would win over the throwaway store) and outside
    GitHub Actions (the scratch store is a runner-local file on purpose; the rebuild sets no
    step output and writes no job summary)."""
    hidden = ("MLFLOW_TRACKING_URI", "GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")
    saved = {k: os.environ.pop(k) for k in hidden if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _compare(
    registry: Registry,
    recorded: Version,
    again: Registry,
    rebuilt: Version,
    old: Config,
    tolerance: float,
    done: Reproduction,
) -> str | None:
    """The first difference between the recorded version and its rebuild, None if none."""
    first: list[str] = []

    def differ(cause: str) -> None:
        if not first:
            first.append(cause)

    before = _run(registry, recorded.run_id)
    after = _run(again, rebuilt.run_id)
    for name, given in sorted(before[0].items()):
        if after[0].get(name) != given:
            differ(f"parameter {name} was {given}, now {after[0].get(name)}")
    done.compared.append(f"parameters: {len(before[0])} compared")
    libraries = _libraries(registry, recorded, again, rebuilt, done)
    metrics = {
        k: v for k, v in before[1].items() if k not in _UNCOMPARED and not k.startswith("eval_")
    }
    for name, value in sorted(metrics.items()):
        again_value = after[1].get(name)
        if again_value is None or not _close(value, again_value, tolerance):
            differ(f"metric {name} was {value!r}, now {again_value!r}")
    done.compared.append(f"training metrics: {len(metrics)} compared (tolerance {tolerance:g})")
    _on_eval_rows(registry, recorded, again, rebuilt, before[1], old, tolerance, done, differ)
    if not first:
        return None
    if libraries:
        return f"a library version differs ({libraries[0]}), and so does the model: {first[0]}"
    if any("uncommitted changes" in n for n in done.notes):
        return f"trained from uncommitted changes, the commit does not rebuild it: {first[0]}"
    return f"the training is nondeterministic or its inputs changed: {first[0]}"


def _run(registry: Registry, run_id: str | None) -> tuple[dict[str, str], dict[str, float]]:
    if not run_id:
        return {}, {}
    run = registry.call("reading the run", lambda: registry.client.get_run(run_id))
    params = {str(k): str(v) for k, v in run.data.params.items()}
    return params, {str(k): float(v) for k, v in run.data.metrics.items()}


def _close(a: float, b: float, tolerance: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= tolerance


def _libraries(
    registry: Registry, recorded: Version, again: Registry, rebuilt: Version, done: Reproduction
) -> list[str]:
    """Library pins logged with the model then and now; the differences, as notes."""
    then = _pins(registry, recorded)
    now = _pins(again, rebuilt) or {}
    if then is None:
        done.notes.append("library versions: none recorded with the model")
        return []
    changed = [
        f"{name} {then[name]} then, {now.get(name) or 'absent'} now"
        for name in sorted(then)
        if then[name] != now.get(name)
    ]
    done.compared.append(
        f"library versions: {len(then)} compared"
        + (f", differ: {'; '.join(changed)}" if changed else ", the same")
    )
    return changed


def _pins(registry: Registry, version: Version) -> dict[str, str] | None:
    """`name → version` of the model's logged requirements.txt (unpinned ones: "")."""
    import mlflow

    from podium.errors import ServiceError

    try:
        with _active(registry):
            path = registry.call(
                "reading the model's requirements",
                lambda: mlflow.pyfunc.get_model_dependencies(version.uri, format="pip"),
            )
    except (ServiceError, InputError):
        return None
    found = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, pinned = line.partition("==")
        found[name.strip().lower()] = pinned.strip()
    return found


@contextlib.contextmanager
def _active(registry: Registry) -> Iterator[None]:
    """MLflow's fluent API pointed at `registry` (its URI env restored afterwards)."""
    import mlflow

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(registry.tracking_uri)
    mlflow.set_registry_uri(registry.tracking_uri)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _on_eval_rows(
    registry: Registry,
    recorded: Version,
    again: Registry,
    rebuilt: Version,
    logged: dict[str, float],
    old: Config,
    tolerance: float,
    done: Reproduction,
    differ: Callable[[str], None],
) -> None:
    """Both models' predictions on the evaluation rows, and the rebuild's evaluation
    metrics against the recorded `eval_*` ones."""
    import numpy as np

    from podium import data
    from podium.scoring import predict, score_outputs

    table = data.read_table(old.resolve(old.data.eval), label="data.eval")
    prepared = data.prepare(
        table,
        target=old.data.target,
        task=old.model.task,
        features=old.data.features,
        exclude=old.data.exclude,
        expected_types=tags.read_feature_types(recorded.tags),
    )
    task = old.model.task
    then = predict(registry.load_model(recorded), prepared.features, task)
    now = predict(again.load_model(rebuilt), prepared.features, task)
    rows = len(prepared.target)
    same = np.array_equal(np.asarray(then.predicted), np.asarray(now.predicted))
    if not same and task == "regression":
        same = bool(
            np.allclose(
                np.asarray(then.predicted, float),
                np.asarray(now.predicted, float),
                rtol=0,
                atol=tolerance,
            )
        )
    if not same:
        differ(f"predictions on the {rows} evaluation rows differ")
    elif then.proba is not None and now.proba is not None:
        gap = float(np.max(np.abs(np.asarray(then.proba) - np.asarray(now.proba))))
        if gap > tolerance:
            differ(f"predicted probabilities on the evaluation rows differ by up to {gap:.3g}")
    done.compared.append(
        f"predictions on {rows} evaluation rows: {'the same' if same else 'differ'}"
    )
    scored = score_outputs(now, prepared.target, task)
    recorded_eval = {k.removeprefix("eval_"): v for k, v in logged.items() if k.startswith("eval_")}
    checked = 0
    for name, value in sorted(recorded_eval.items()):
        if name in _UNCOMPARED or name not in scored:
            continue
        checked += 1
        if not _close(value, float(scored[name]), tolerance):
            differ(f"metric eval_{name} was {value!r}, now {scored[name]!r}")
    done.compared.append(f"evaluation metrics: {checked} compared")


def _record(registry: Registry, done: Reproduction) -> Reproduction:
    """The verdict as the version's `podium.reproduction` tag (shown in its card)."""
    import json

    from podium.registry.git_branch import change_message

    value = json.dumps(
        {
            "verdict": done.verdict,
            "at": now_iso(),
            "cause": (done.cause or "")[:2000] or None,
            "commit": done.commit,
            "by": gha.actor(),
        }
    )
    registry.change(
        lambda store: store.set_version_tags(done.version, {tags.REPRODUCTION: value}),
        lambda _: change_message(
            f"reproduce {done.model_name} v{done.version}: {done.verdict}",
            commit=None,
            run_url=None,
        ),
    )
    return done
