"""upload-artifact v4 stand-in: globs, hidden-file exclusion, least common ancestor."""

import os
import shutil
import sys
from pathlib import Path

name = os.environ["INPUT_NAME"]
hidden_ok = os.environ["INPUT_INCLUDE_HIDDEN_FILES"] == "true"
workspace = Path(os.environ["GITHUB_WORKSPACE"])
patterns = [p.strip() for p in os.environ["INPUT_PATH"].splitlines() if p.strip()]
found: list[Path] = []
for pattern in patterns:
    for path in workspace.glob(pattern):  # pathlib's glob sees hidden files too
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            hidden = any(part.startswith(".") for part in file.relative_to(workspace).parts)
            if hidden and not hidden_ok:
                continue  # v4.4+: hidden files need include-hidden-files
            found.append(file.resolve())
if not found:
    message = f"No files were found with the provided path: {patterns}"
    mode = os.environ["INPUT_IF_NO_FILES_FOUND"]
    if mode == "error":
        print(f"::error::{message}")
        sys.exit(1)
    print(f"::warning::{message}" if mode == "warn" else message)
    sys.exit(0)
root = Path(os.path.commonpath([str(f.parent) for f in found]))
target = Path(os.environ["PODIUM_TEST_ARTIFACTS"]) / os.environ["GITHUB_RUN_ID"] / name
if target.exists():
    print(f"::error::an artifact named {name} already exists in this run")
    sys.exit(1)
for file in sorted(set(found)):
    destination = target / file.relative_to(root)
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(file, destination)
    print(f"uploaded {file.relative_to(workspace)}")
