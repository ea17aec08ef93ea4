"""podium.yaml: strict, typed loading; every problem is one line naming file and key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from podium.config import DEFAULT_TRACKING_URI, load
from podium.errors import ConfigError
from tests.conftest import run_cli

MINIMAL: dict[str, Any] = {
    "model": {
        "name": "churn",
        "task": "classification",
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier", "params": {"max_depth": 2}},
    },
    "data": {"train": "data/train.csv", "eval": "data/eval.csv", "target": "churned"},
    "gates": [{"metric": "roc_auc", "min": 0.8, "min_delta": -0.005}],
}


def write(folder: Path, document: Any = None, *, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "podium.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(document, sort_keys=False))
    return path


def edited(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(MINIMAL)
    change(document)
    return document


def refused(path: Path, *fragments: str) -> str:
    """Load `path`, expect a ConfigError; check it is one line naming the file and fragments."""
    with pytest.raises(ConfigError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_minimal_config_loads_with_absolute_paths(tmp_path: Path) -> None:
    config = load(write(tmp_path, MINIMAL))
    assert config.model.name == "churn"
    assert config.model.estimator is not None
    assert config.model.estimator.class_ == "sklearn.tree.DecisionTreeClassifier"
    assert config.model.estimator.params == {"max_depth": 2}
    assert config.resolve(config.data.train) == tmp_path / "data" / "train.csv"
    assert config.state_dir == tmp_path / ".podium"
    assert config.gates[0].min == 0.8
    assert not config.gates_are_default


def test_entrypoint_instead_of_estimator(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        del d["model"]["estimator"]
        d["model"]["entrypoint"] = "train.py:build_model"

    config = load(write(tmp_path, edited(change)))
    assert config.model.entrypoint == "train.py:build_model"
    assert config.model.estimator is None


# -- unknown keys: a typo must never silently disable a gate -----------------------------


@pytest.mark.parametrize(
    ("change", "key", "hint"),
    [
        (lambda d: d["gates"][0].update(mn=0.3), "gates[0].mn", "did you mean 'min'?"),
        (lambda d: d["gates"][0].update(min_detla=0.0), "gates[0].min_detla", "'min_delta'"),
        (lambda d: d.update(gate=[]), "'gate'", "did you mean 'gates'?"),
        (lambda d: d["model"].update(estimatr={}), "model.estimatr", "'estimator'"),
        (lambda d: d["model"]["estimator"].update(parms={}), "model.estimator.parms", "'params'"),
        (lambda d: d["data"].update(targt="y"), "data.targt", "'target'"),
        (
            lambda d: d.update(registry={"tracking_url": "x"}),
            "registry.tracking_url",
            "'tracking_uri'",
        ),
    ],
)
def test_unknown_key_is_named_with_a_suggestion(
    tmp_path: Path, change: Any, key: str, hint: str
) -> None:
    message = refused(write(tmp_path, edited(change)), "unknown key", key, hint)
    assert "allowed here:" in message


def _renamed(node: dict[str, Any], key: str, typo: str) -> None:
    node[typo] = node.pop(key)


@pytest.mark.parametrize(
    ("change", "key", "hint"),
    [
        (lambda d: _renamed(d, "model", "modle"), "'modle'", "did you mean 'model'?"),
        (lambda d: _renamed(d["data"], "target", "targte"), "data.targte", "'target'"),
        (lambda d: _renamed(d["gates"][0], "metric", "metrc"), "gates[0].metrc", "'metric'"),
    ],
)
def test_a_misspelt_required_key_is_named_not_reported_missing(
    tmp_path: Path, change: Any, key: str, hint: str
) -> None:
    message = refused(write(tmp_path, edited(change)), "unknown key", key, hint)
    assert "missing required key" not in message


def test_unknown_key_without_close_match_lists_the_allowed_keys(tmp_path: Path) -> None:
    message = refused(write(tmp_path, edited(lambda d: d["data"].update(zzz=1))), "data.zzz")
    assert "did you mean" not in message
    assert "eval" in message
    assert "target" in message


# -- missing keys and wrong types -----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.pop("model"), "model"),
        (lambda d: d.pop("data"), "data"),
        (lambda d: d["model"].pop("name"), "model.name"),
        (lambda d: d["model"].pop("task"), "model.task"),
        (lambda d: d["data"].pop("target"), "data.target"),
        (lambda d: d["data"].pop("eval"), "data.eval"),
        (lambda d: d["gates"][0].pop("metric"), "gates[0].metric"),
    ],
)
def test_missing_required_key(tmp_path: Path, change: Any, key: str) -> None:
    refused(write(tmp_path, edited(change)), f"missing required key '{key}'")


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda d: d["gates"][0].update(min="high"), ["gates[0].min", "number", "'high'"]),
        (lambda d: d["gates"][0].update(min=True), ["gates[0].min", "expected a number"]),
        (lambda d: d["gates"][0].update(min_delta=float("nan")), ["gates[0].min_delta", "finite"]),
        (lambda d: d["gates"][0].update(max=float("inf")), ["gates[0].max", "finite"]),
        (lambda d: d.update(gates="roc_auc"), ["gates:", "list"]),
        (lambda d: d.update(gates=["roc_auc"]), ["gates[0]", "dictionary"]),
        (
            lambda d: d["model"].update(task="clustering"),
            ["model.task", "'clustering'", "regression"],
        ),
        (lambda d: d["model"].update(name="churn model!"), ["model.name", "valid model name"]),
        (lambda d: d["data"].update(train=3), ["data.train", "csv/parquet path"]),
        (lambda d: d["data"].update(features="age"), ["data.features", "list"]),
        (
            lambda d: d["model"].update(estimator="sklearn.tree.X"),
            ["model.estimator", "dictionary"],
        ),
        (lambda d: d["model"]["estimator"].update(params=[1]), ["model.estimator.params"]),
        (
            lambda d: d["model"]["estimator"].update({"class": "Tree"}),
            ["model.estimator.class", "dotted"],
        ),
        (lambda d: d.update(model=[1]), ["model:", "dictionary"]),
    ],
)
def test_wrong_type_or_value(tmp_path: Path, change: Any, fragments: list[str]) -> None:
    message = refused(write(tmp_path, edited(change)), *fragments)
    assert "instance of" not in message  # pydantic's class names mean nothing to users


def test_empty_gates_list_is_refused_rather_than_promoting_anything(tmp_path: Path) -> None:
    refused(write(tmp_path, edited(lambda d: d.update(gates=[]))), "gates", "add a gate")


# -- the YAML document itself ---------------------------------------------------------------


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    text = "model:\n  name: churn\n  task: classification\n   estimator: x\n"
    refused(write(tmp_path, text=text), "podium.yaml:4:", "fix the YAML syntax")


def test_unclosed_bracket_names_a_line(tmp_path: Path) -> None:
    message = refused(write(tmp_path, text="gates: [\n  {metric: f1\n"), "fix the YAML syntax")
    assert "podium.yaml:" in message


def test_duplicate_key_is_refused_with_its_line(tmp_path: Path) -> None:
    text = yaml.safe_dump(edited(lambda d: d.pop("gates")), sort_keys=False)
    text += "gates:\n  - metric: roc_auc\n    min: 0.8\n    min: 0.1\n"
    line = text.splitlines().index("    min: 0.1") + 1
    refused(write(tmp_path, text=text), f"podium.yaml:{line}:", "duplicate key 'min'")


@pytest.mark.parametrize(
    "text", ["", "# only a comment\n", "- model\n- data\n", "just text\n", "42\n"]
)
def test_document_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    refused(write(tmp_path, text=text), "expected a mapping")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "podium.yaml"
    path.write_bytes("model:\n  name: caf\xe9\n".encode("latin-1"))
    refused(path, "UTF-8")


def test_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    refused(path, "not found", "--config")


def test_config_path_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "podium.yaml").mkdir()
    refused(tmp_path / "podium.yaml", "not found")


# -- model section --------------------------------------------------------------------------


def test_both_estimator_and_entrypoint(tmp_path: Path) -> None:
    path = write(tmp_path, edited(lambda d: d["model"].update(entrypoint="train.py:build")))
    refused(path, "model:", "exactly one of 'estimator', 'entrypoint' or 'command'")


def test_neither_estimator_nor_entrypoint(tmp_path: Path) -> None:
    refused(write(tmp_path, edited(lambda d: d["model"].pop("estimator"))), "exactly one of")


@pytest.mark.parametrize("entrypoint", ["train.py", "train.py:", ":build", "a:b:c"])
def test_malformed_entrypoint(tmp_path: Path, entrypoint: str) -> None:
    def change(d: dict[str, Any]) -> None:
        del d["model"]["estimator"]
        d["model"]["entrypoint"] = entrypoint

    refused(write(tmp_path, edited(change)), "model.entrypoint", "train.py:build_model")


# -- gates ----------------------------------------------------------------------------------


def test_gate_without_any_bound(tmp_path: Path) -> None:
    path = write(tmp_path, edited(lambda d: d.update(gates=[{"metric": "f1"}])))
    refused(path, "gates[0]", "needs at least one of min, max, min_delta")


def test_gate_with_min_above_max(tmp_path: Path) -> None:
    gates = [{"metric": "f1", "min": 0.1}, {"metric": "accuracy", "min": 0.9, "max": 0.8}]
    refused(
        write(tmp_path, edited(lambda d: d.update(gates=gates))),
        "gates[1]",
        "min 0.9 above max 0.8",
    )


@pytest.mark.parametrize(
    ("typo", "hint"), [("roc_uac", "roc_auc"), ("ROC_AUC", "roc_auc"), ("f_1", "f1")]
)
def test_unknown_metric_with_hint(tmp_path: Path, typo: str, hint: str) -> None:
    path = write(tmp_path, edited(lambda d: d["gates"][0].update(metric=typo)))
    message = refused(
        path, "gates[0].metric", f"unknown metric '{typo}'", f"did you mean '{hint}'?"
    )
    assert "known: accuracy" in message


def test_unknown_metric_without_hint_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, edited(lambda d: d["gates"][0].update(metric="zzz")))
    message = refused(path, "unknown metric 'zzz'", "known:")
    assert "did you mean" not in message


@pytest.mark.parametrize(
    ("task", "metric", "allowed"),
    [
        ("classification", "rmse", "roc_auc"),
        ("regression", "roc_auc", "rmse"),
        ("regression", "f1", "r2"),
    ],
)
def test_metric_not_applicable_to_the_task(
    tmp_path: Path, task: str, metric: str, allowed: str
) -> None:
    def change(d: dict[str, Any]) -> None:
        d["model"]["task"] = task
        d["gates"] = [{"metric": metric, "min_delta": 0.0}]

    refused(
        write(tmp_path, edited(change)), "gates[0].metric", f"does not apply to {task}", allowed
    )


@pytest.mark.parametrize("metric", ["latency_ms", "model_size_mb"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_cost_metrics_apply_to_both_tasks(tmp_path: Path, task: str, metric: str) -> None:
    def change(d: dict[str, Any]) -> None:
        d["model"]["task"] = task
        d["gates"] = [{"metric": metric, "max": 50}]

    assert load(write(tmp_path, edited(change))).gates[0].metric == metric


@pytest.mark.parametrize(("task", "metric"), [("classification", "f1"), ("regression", "rmse")])
def test_default_gates_forbid_a_regression_of_the_primary_metric(
    tmp_path: Path, task: str, metric: str
) -> None:
    def change(d: dict[str, Any]) -> None:
        d["model"]["task"] = task
        del d["gates"]

    config = load(write(tmp_path, edited(change)))
    assert config.gates_are_default
    (gate,) = config.gates
    assert (gate.metric, gate.min, gate.max, gate.min_delta) == (metric, None, None, 0.0)


def test_gates_key_without_value_means_the_default(tmp_path: Path) -> None:
    text = yaml.safe_dump(edited(lambda d: d.pop("gates")), sort_keys=False) + "gates:\n"
    assert load(write(tmp_path, text=text)).gates_are_default


def test_numbers_may_be_ints_or_quoted(tmp_path: Path) -> None:
    gates = [{"metric": "latency_ms", "max": 50}, {"metric": "f1", "min": "0.5"}]
    config = load(write(tmp_path, edited(lambda d: d.update(gates=gates))))
    assert [g.max for g in config.gates] == [50.0, None]
    assert config.gates[1].min == 0.5


# -- data section ---------------------------------------------------------------------------


def test_target_listed_in_exclude(tmp_path: Path) -> None:
    path = write(tmp_path, edited(lambda d: d["data"].update(exclude=["churned"])))
    refused(path, "data.exclude", "'churned'", "remove it")


def test_target_listed_in_features(tmp_path: Path) -> None:
    path = write(tmp_path, edited(lambda d: d["data"].update(features=["age", "churned"])))
    refused(path, "data.features", "'churned'", "remove it")


def test_a_column_in_both_features_and_exclude_is_refused_not_half_applied(tmp_path: Path) -> None:
    # exclude used to be ignored silently when features was set: the excluded column trained.
    both = edited(lambda d: d["data"].update(features=["age", "plan"], exclude=["plan"]))
    refused(write(tmp_path, both), "data.features and data.exclude both list 'plan'", "remove it")
    # Disjoint lists are no contradiction: exclude names what is left out (a slicing column).
    apart = edited(lambda d: d["data"].update(features=["age", "plan"], exclude=["region"]))
    assert load(write(tmp_path, apart)).data.features == ["age", "plan"]
    only = edited(lambda d: d["data"].update(features=["age", "plan"], exclude=[]))
    assert load(write(tmp_path, only)).data.features == ["age", "plan"]


# -- registry -------------------------------------------------------------------------------


def test_default_registry_is_sqlite_next_to_the_config(tmp_path: Path) -> None:
    config = load(write(tmp_path, MINIMAL))
    assert DEFAULT_TRACKING_URI.startswith("sqlite:///.podium/")
    assert config.tracking_uri == f"sqlite:///{tmp_path}/.podium/mlflow.db"
    assert config.experiment_name == "podium/churn"


def test_relative_sqlite_path_resolves_against_the_config_folder_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = edited(lambda d: d.update(registry={"tracking_uri": "sqlite:///state/reg.db"}))
    write(tmp_path / "repo" / "ml", document)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load(Path("..") / "repo" / "ml" / "podium.yaml")
    expected = (tmp_path / "repo" / "ml").resolve()
    assert config.tracking_uri == f"sqlite:///{expected}/state/reg.db"
    assert config.resolve(config.data.train) == expected / "data" / "train.csv"
    assert config.path == expected / "podium.yaml"


@pytest.mark.parametrize(
    "uri",
    ["sqlite:////var/lib/mlflow.db", "http://127.0.0.1:5000", "databricks", "file:///tmp/mlruns"],
)
def test_other_tracking_uris_are_kept_as_written(tmp_path: Path, uri: str) -> None:
    document = edited(lambda d: d.update(registry={"tracking_uri": uri}))
    assert load(write(tmp_path, document)).tracking_uri == uri


def test_mlflow_tracking_uri_env_overrides_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = edited(lambda d: d.update(registry={"tracking_uri": "sqlite:///x.db"}))
    config = load(write(tmp_path, document))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert config.tracking_uri == "http://mlflow.internal:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")  # empty means unset, as in MLflow
    assert config.tracking_uri == f"sqlite:///{tmp_path}/x.db"


def test_experiment_name_can_be_set(tmp_path: Path) -> None:
    document = edited(lambda d: d.update(registry={"experiment": "team/churn"}))
    config = load(write(tmp_path, document))
    assert config.experiment_name == "team/churn"
    assert config.tracking_uri.endswith("/.podium/mlflow.db")


# -- through the CLI: exit 2, one line on stderr, no traceback --------------------------------


@pytest.mark.parametrize("command", ["validate", "train", "evaluate", "promote", "run", "history"])
def test_cli_reports_a_config_error_in_one_line(tmp_path: Path, command: str) -> None:
    path = write(tmp_path, edited(lambda d: d["gates"][0].update(mn=0.3)))
    result = run_cli([command, "--config", str(path)])
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("podium: ")
    assert str(path) in lines[0]
    assert "gates[0].mn" in lines[0]
    assert "Traceback" not in result.err
    assert not (tmp_path / ".podium").exists()  # nothing was started


def test_yaml_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    text = yaml.safe_dump(edited(lambda d: d.pop("gates")), sort_keys=False) + (
        "gates:\n"
        "  - &strict {metric: roc_auc, min: 0.6}\n"
        "  - <<: *strict\n"
        "    metric: accuracy\n"
        "    min: 0.7\n"
    )
    gates = load(write(tmp_path, text=text)).gates
    assert [(g.metric, g.min) for g in gates] == [("roc_auc", 0.6), ("accuracy", 0.7)]


def test_a_key_that_is_a_list(tmp_path: Path) -> None:
    refused(write(tmp_path, text="? [a, b]\n: 1\n"), "podium.yaml:", "fix the YAML syntax")


def test_opening_a_registry_does_not_redirect_later_projects(tmp_path: Path) -> None:
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI; podium must not then read it
    back as the user's override for the next project in the same process."""
    from podium.registry import Registry

    first = load(write(tmp_path / "first", MINIMAL))
    second = load(write(tmp_path / "second", MINIMAL))
    Registry(first.tracking_uri, first.model.name)
    assert second.tracking_uri == f"sqlite:///{tmp_path}/second/.podium/mlflow.db"


# -- model.command (any framework) -------------------------------------------------------------


def _with_command(command: Any, **more: Any) -> dict[str, Any]:
    def change(document: dict[str, Any]) -> None:
        document["model"].pop("estimator")
        document["model"].update(command=command, **more)

    return edited(change)


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("python train.py --epochs 3", ["python", "train.py", "--epochs", "3"]),
        ("python 'my train.py' --name \"a b\"", ["python", "my train.py", "--name", "a b"]),
        (["python", "train.py", "--name", "a b"], ["python", "train.py", "--name", "a b"]),
        ("python train.py; rm -rf /", ["python", "train.py;", "rm", "-rf", "/"]),  # no shell
    ],
)
def test_a_command_is_split_like_a_shell_would_or_taken_as_a_list(
    tmp_path: Path, command: Any, argv: list[str]
) -> None:
    config = load(write(tmp_path, _with_command(command, timeout_minutes=30)))
    assert config.model.argv == argv
    assert config.model.timeout_minutes == 30
    assert config.model.estimator is None and config.model.entrypoint is None


@pytest.mark.parametrize(
    ("document", "fragments"),
    [
        (
            edited(lambda d: d["model"].update(command="python train.py")),
            ["model:", "exactly one of 'estimator', 'entrypoint' or 'command'"],
        ),
        (_with_command("python 'train.py"), ["model.command", "cannot split", "quotation"]),
        (_with_command(""), ["model.command", "the command is empty"]),
        (_with_command([]), ["model.command", "the command is empty"]),
        (_with_command("python train.py", timeout_minutes=0), ["model.timeout_minutes"]),
        (
            edited(lambda d: d["model"].update(timeout_minutes=5)),
            ["'timeout_minutes' bounds 'command'"],
        ),
        (_with_command("python train.py", timeout_minute=5), ["timeout_minute", "timeout_minutes"]),
    ],
)
def test_bad_commands_are_one_line_errors(
    tmp_path: Path, document: dict[str, Any], fragments: list[str]
) -> None:
    refused(write(tmp_path, document), *fragments)


# -- slices -----------------------------------------------------------------------------------


def test_slices_and_their_gates_load(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["slices"] = ["region", {"column": "age", "bins": [0, 30, 50, 120]}, ["region", "plan"]]
        d["slices_min_rows"] = 50
        d["gates"] = [
            {"metric": "f1", "min_delta": -0.005, "per_slice": {"min_delta": -0.05}},
            {"metric": "recall", "max_slice_gap": 0.15, "slice_gap_not_wider": True},
        ]
        d["metrics"] = {"cost_per_cpu_hour": 0.05}

    config = load(write(tmp_path, edited(change)))
    assert config.raw.slices_min_rows == 50
    assert [g.bounds_whole_set for g in config.gates] == [True, False]
    assert config.raw.metrics.cost_per_cpu_hour == 0.05


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            lambda d: d.update(gates=[{"metric": "f1", "per_slice": {"min_delta": -0.05}}]),
            ("gates[0].per_slice needs slices: in podium.yaml",),
        ),
        (
            lambda d: d.update(
                slices=["region"], gates=[{"metric": "latency_ms", "max_slice_gap": 1}]
            ),
            ("gates[0].max_slice_gap", "measured once per model, not per slice"),
        ),
        (
            lambda d: d.update(
                slices=["region"], gates=[{"metric": "log_loss", "min_slice_ratio": 0.8}]
            ),
            ("gates[0].min_slice_ratio is for rates on a 0..1 scale",),
        ),
        (
            lambda d: d.update(slices=[{"column": "age", "bins": [50, 30]}]),
            ("slices[0]", "bins must increase strictly"),
        ),
        (
            lambda d: d.update(slices=[["region", "region"]]),
            ("slices[0] crosses 'region' with itself",),
        ),
        (  # was an IndexError traceback in train
            lambda d: d.update(slices=["region", []]),
            ("slices[1]: an empty list crosses no columns", "e.g. [region, plan]"),
        ),
        (  # the union member's class name never shows; the typo is named, not `bins` missing
            lambda d: d.update(slices=[{"column": "age", "bin": [0, 30]}]),
            ("unknown key 'slices[0].bin'; did you mean 'bins'?",),
        ),
        (
            lambda d: d.update(slices=[["region", {"column": "age", "bin": [0, 30]}]]),
            ("unknown key 'slices[0][1].bin'; did you mean 'bins'?",),
        ),
        (
            lambda d: d.update(slices=[{"column": "age"}]),
            ("missing required key 'slices[0].bins'",),
        ),
        (
            lambda d: d.update(slices=[{"column": "age", "bins": [0]}]),
            ("slices[0].bins: List should have at least 2 items",),
        ),
        (
            lambda d: d.update(slices=["region", 5]),
            ("slices[1]: expected a column name, {column: ..., bins: [...]} or a list",),
        ),
        (
            lambda d: d.update(slices=["region"], gates=[{"metric": "f1", "per_slice": {}}]),
            ("per_slice needs at least one of min, max, min_delta",),
        ),
    ],
)
def test_bad_slice_settings_name_the_key_and_the_fix(
    tmp_path: Path, change: Any, fragments: tuple[str, ...]
) -> None:
    message = refused(write(tmp_path, edited(change)), *fragments)
    assert "Binned" not in message and "list[union" not in message
