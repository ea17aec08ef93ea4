"""Sample projects for the engine tests."""

from __future__ import annotations

import shutil

import pandas as pd

from tests.conftest import Project


def spark_copy(project: Project) -> Project:
    """A copy of the project whose train and eval data are parquet read by Spark."""
    copy = Project(project.root.parent / "on-spark")
    shutil.copytree(project.root, copy.root)
    document = copy.config()
    for name in ("train", "eval"):
        frame = pd.read_csv(copy.root / "data" / f"{name}.csv")
        frame.to_parquet(copy.root / "data" / f"{name}.parquet", index=False)
        document["data"][name] = {"engine": "spark", "path": f"data/{name}.parquet"}
    copy.write_config(document)
    return copy
