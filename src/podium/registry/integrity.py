"""What a model version's files must be: sha256 digests recorded at registration.

Loading a model runs code (a pickle, a PythonModel's module), so a version's files are
checked against what podium recorded when it registered them — before anything loads
them. The digest of the whole manifest is a version tag (`podium.model_sha256`); the
manifest itself (relative path -> sha256) is a JSON artifact of the version's run, read
only to name the file that differs. This guards against files changed behind the
registry's back (an artifact store writable by more hands than the registry, a swapped
file on the registry branch); the registry branch itself is guarded by the repository
ruleset that `podium init` prints.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from podium.errors import InputError

MANIFEST = "podium/model.sha256.json"  # run artifact: {relative path: sha256}
_CHUNK = 1 << 20
# Written by MLflow's own download of `models:/<name>/<version>` (the name and version it
# was fetched as): not one of the files registered, rewritten by every download.
DOWNLOAD_NOTES = frozenset({"registered_model_meta"})


class IntegrityError(InputError):
    """A model's files differ from what was recorded at registration (exit 2)."""


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder`, by POSIX path relative to it (sorted).

    A symlink or other non-regular file is refused: what it points at is not what was
    recorded."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if name in DOWNLOAD_NOTES:
            continue
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise IntegrityError(
                f"model file '{name}' is not a regular file (a symlink or device); it is "
                "not loaded — re-register the model from a clean training run"
            )
        if path.is_file():
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(_CHUNK), b""):
                    digest.update(chunk)
            found[name] = digest.hexdigest()
    return found


def manifest_digest(manifest: dict[str, str]) -> str:
    """One sha256 for a whole manifest (canonical JSON: sorted keys, no spaces)."""
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def mismatch(label: str, found: dict[str, str], recorded: dict[str, str] | None) -> str:
    """The one-line complaint: which file differs, with both digests."""
    fix = (
        "it is not loaded; find who changed it (the registry's history), then roll back to "
        "a verified version or retrain"
    )
    if recorded is None:
        return (
            f"model {label}: its files do not match the digest recorded at registration and "
            f"its digest list ({MANIFEST}) is missing or altered; {fix}"
        )
    for name in sorted(set(found) | set(recorded)):
        have, want = found.get(name), recorded.get(name)
        if have == want:
            continue
        if want is None:
            return (
                f"model {label}: file '{name}' (sha256 {have}) was not there at registration "
                f"(sha256 none recorded); {fix}"
            )
        return (
            f"model {label}: file '{name}' has sha256 {have or 'none (missing)'}, but "
            f"{want} was recorded at registration; {fix}"
        )
    return (
        f"model {label}: its digest list ({MANIFEST}) does not match the digest recorded "
        f"at registration; {fix}"
    )
