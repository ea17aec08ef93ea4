"""Importing MLflow on a second thread while the stage reads its data.

Importing MLflow and its sqlalchemy stores is ≈ 1.5 s of pure Python on every stage that
opens the registry; reading a csv or parquet file is C code that releases the GIL. A stage
starts the import here, reads its data, and joins it right after reading: the two overlap
on a 2-core runner instead of following each other. Nothing is imported that the stage
would not import anyway, and a failed import is left for the main thread to raise in its
own words when it imports the module itself.

The join comes before anything else the stage does, because two threads importing modules
that import each other do not wait for each other: CPython hands one of them the other's
half-initialised module (a branch-kept registry's first copy imports MLflow's store on the
main thread: "partially initialized module 'mlflow' has no attribute 'version'"). Reading
a table imports nothing of MLflow's. `stages.open_registry` joins too, for safety.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator

_thread: threading.Thread | None = None
# Set by `cli.main` for a process that runs one command (not for in-process callers).
freeze_imports = False
_frozen = False

# What `registry.mlflow_store.Registry` imports to open a store.
_MLFLOW = ("mlflow", "mlflow.tracking", "mlflow.exceptions")
# A sqlite store (a local file, or a branch-kept registry's copy) also needs these.
_SQLITE = ("mlflow.store.tracking.sqlalchemy_store", "mlflow.store.model_registry.sqlalchemy_store")


def start(tracking_uri: str, also: tuple[str, ...] = ()) -> None:
    """Begin importing what opening `tracking_uri` needs, then `also` (what the stage
    imports next anyway: on a large file the reading outlasts MLflow's import), unless
    already done or begun."""
    global _thread
    import sys

    if _thread is not None or "mlflow.tracking" in sys.modules:
        return
    names = _MLFLOW + (_SQLITE if tracking_uri.startswith("sqlite:") else ()) + also
    # What both threads use is imported here first, so that the two never wait on each
    # other's half-imported modules (the data reading needs pandas and pyarrow itself).
    import pandas  # noqa: F401

    if freeze_imports:  # no full collections over the modules being imported (`join`)
        import gc

        gc.disable()
    _thread = threading.Thread(target=_import, args=(names,), name="podium-warmup", daemon=True)
    _thread.start()


def join() -> None:
    """Wait for the imports begun by `start` (a no-op when none were).

    With `freeze_imports` (a process running one command, `cli.main`), the cyclic
    collector is off while the imports run (`start`) and everything alive once they are
    done — MLflow's, SQLAlchemy's, pandas' and scikit-learn's modules, classes and tables
    of constants, over a million objects — is then moved out of its sight (`gc.freeze`)
    before it is switched back on. Importing them triggered full collections that
    traversed them again and again (measured: 5 of them on the import thread, 0.35-1 s of
    a 200k-row `podium run`) while finding a few dozen objects of garbage; reference
    counting still frees everything as before.
    """
    global _frozen
    if _thread is not None:
        _thread.join()
        if freeze_imports and not _frozen:
            import gc

            gc.freeze()
            gc.enable()
            _frozen = True


@contextlib.contextmanager
def importing() -> Iterator[None]:
    """Around a heavy import on the calling thread (Great Expectations: ~3 s): in a
    process running one command, no cyclic collections while it runs and what it
    created frozen afterwards, as `join` does for MLflow's (measured on GX's import: 3.2-3.5
    s of CPU with the collector on, 2.2-2.5 s with it off)."""
    import gc

    if not freeze_imports or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _import(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the main thread imports it again and reports the problem
            return
