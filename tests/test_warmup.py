"""podium.warmup: MLflow imported on a second thread, joined before the registry opens.

Each case runs in a fresh interpreter: what is already imported decides what warmup does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from podium.config import Config, load


def _fresh(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_a_sqlite_store_s_modules_are_imported_on_another_thread() -> None:
    found = _fresh(
        """
        import json, sys, threading
        from podium import warmup
        warmup.start("sqlite:///nowhere.db")
        began = warmup._thread is not None and warmup._thread is not threading.main_thread()
        warmup.join()
        print(json.dumps({
            "began": began,
            "alive": warmup._thread.is_alive(),
            "mlflow": "mlflow.tracking" in sys.modules,
            "sqlalchemy_store": "mlflow.store.tracking.sqlalchemy_store" in sys.modules,
        }))
        """
    )
    assert found == {"began": True, "alive": False, "mlflow": True, "sqlalchemy_store": True}


def test_a_server_s_client_does_not_import_the_sqlite_stores() -> None:
    found = _fresh(
        """
        import json, sys
        from podium import warmup
        warmup.start("http://127.0.0.1:5000")
        warmup.join()
        print(json.dumps({
            "mlflow": "mlflow.tracking" in sys.modules,
            "sqlalchemy_store": "mlflow.store.tracking.sqlalchemy_store" in sys.modules,
        }))
        """
    )
    assert found == {"mlflow": True, "sqlalchemy_store": False}


def test_nothing_is_started_when_mlflow_is_already_imported() -> None:
    found = _fresh(
        """
        import json
        import mlflow.tracking
        from podium import warmup
        warmup.start("sqlite:///nowhere.db")
        warmup.join()
        print(json.dumps({"thread": warmup._thread is not None}))
        """
    )
    assert found == {"thread": False}


def test_a_module_that_fails_to_import_is_left_for_the_main_thread_to_report() -> None:
    found = _fresh(
        """
        import json, sys
        from podium import warmup
        warmup._import(("podium_no_such_module", "json"))
        try:
            import podium_no_such_module
            raised = None
        except ImportError as exc:
            raised = type(exc).__name__
        print(json.dumps({"raised": raised, "left": "podium_no_such_module" in sys.modules}))
        """
    )
    assert found == {"raised": "ModuleNotFoundError", "left": False}


def test_the_modules_a_stage_imports_next_are_imported_after_mlflow_s() -> None:
    found = _fresh(
        """
        import json, sys
        from podium import warmup
        warmup.start("http://127.0.0.1:5000", also=("scipy.stats", "sklearn.compose"))
        warmup.join()
        print(json.dumps({m: m in sys.modules for m in ("mlflow", "scipy.stats", "sklearn.compose")}))
        """
    )
    assert found == {"mlflow": True, "scipy.stats": True, "sklearn.compose": True}


def test_a_projects_own_estimator_module_is_left_to_the_main_thread(tmp_path: Path) -> None:
    from podium.stages import fitting_modules

    def config(estimator_class: str) -> Config:
        (tmp_path / "podium.yaml").write_text(
            "model:\n  name: m\n  task: classification\n"
            f"  estimator: {{class: {estimator_class}}}\n"
            "data: {train: train.csv, eval: eval.csv, target: y}\n"
        )
        return load(tmp_path / "podium.yaml")

    library = fitting_modules(config("sklearn.ensemble.HistGradientBoostingClassifier"))
    assert library[-1] == "sklearn.ensemble" and "sklearn.compose" in library
    own = fitting_modules(config("mypackage.models.Tuned"))
    assert "mypackage.models" not in own and "sklearn.pipeline" in own


def test_a_one_command_process_imports_without_collections_then_freezes_what_it_imported() -> None:
    found = _fresh(
        """
        import gc, json
        from podium import warmup
        warmup.freeze_imports = True  # what cli.main sets for the process's own command
        warmup.start("sqlite:///nowhere.db")
        off_while_importing = not gc.isenabled()
        warmup.join()
        frozen = gc.get_freeze_count()
        warmup.join()  # joining again changes nothing
        print(json.dumps({
            "off_while_importing": off_while_importing,
            "on_after": gc.isenabled(),
            "frozen": frozen > 100_000,
            "once": gc.get_freeze_count() == frozen,
        }))
        """
    )
    assert found == {"off_while_importing": True, "on_after": True, "frozen": True, "once": True}


def test_in_process_callers_keep_collecting_as_usual() -> None:
    found = _fresh(
        """
        import gc, json
        from podium import warmup
        warmup.start("sqlite:///nowhere.db")
        on = gc.isenabled()
        warmup.join()
        print(json.dumps({"on": on and gc.isenabled(), "frozen": gc.get_freeze_count()}))
        """
    )
    assert found == {"on": True, "frozen": 0}


def test_a_heavy_import_on_the_main_thread_runs_without_collections_in_a_one_command_process() -> (
    None
):
    found = _fresh(
        """
        import gc, json
        from podium import warmup
        with warmup.importing():
            untouched = gc.isenabled() and gc.get_freeze_count() == 0  # in-process caller
        warmup.freeze_imports = True
        with warmup.importing():
            off = not gc.isenabled()
            import decimal, email.parser  # noqa
        print(json.dumps({"untouched": untouched, "off": off, "on": gc.isenabled(),
                          "frozen": gc.get_freeze_count() > 0}))
        """
    )
    assert found == {"untouched": True, "off": True, "on": True, "frozen": True}
