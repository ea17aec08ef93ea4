"""The project's own git repository, read for governance: whether the working tree is
dirty (at training), and a temporary worktree at a recorded commit (`podium reproduce`).

Every call is `git` with an argument list and a timeout; a failure is an InputError
naming what to fix (these commands only ever read the user's repository: the worktree
is added in a temporary folder and removed with it).
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from podium.errors import InputError

_TIMEOUT = 60


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise InputError(f"git {args[0]} failed in {cwd}: {exc}; is git installed?") from None


def top_level(path: Path) -> Path | None:
    """The root of the git repository holding `path`, None outside one."""
    found = _git(path, "rev-parse", "--show-toplevel")
    return Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None


def changed_files(
    root: Path, *, ignore: Iterable[Path] = (), top: Path | None = None
) -> list[str] | None:
    """Tracked files changed and untracked files not ignored, relative to the repository
    (None outside a git repository). `ignore`: files that do not count (data files,
    which are fingerprinted on their own). `top`: the repository's root, when known."""
    top = top or top_level(root)
    if top is None:
        return None
    found = _git(root, "status", "--porcelain", "-z", "--untracked-files=normal")
    if found.returncode != 0:
        return None
    skipped = {p.resolve() for p in ignore}
    changed = []
    entries = iter(found.stdout.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        status, name = entry[:2], entry[3:]
        if "R" in status or "C" in status:
            next(entries, None)  # the rename's source path follows
        if (top / name).resolve() in skipped:
            continue
        changed.append(name)
    return changed


def has_commit(root: Path, commit: str) -> bool:
    """Whether the repository at `root` holds `commit`."""
    return _git(root, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


@contextlib.contextmanager
def checked_out(root: Path, commit: str) -> Iterator[Path]:
    """A temporary worktree of the repository holding `root`, detached at `commit`;
    removed (and pruned) afterwards. Yields the worktree's root."""
    with tempfile.TemporaryDirectory(prefix="podium-reproduce-") as folder:
        where = Path(folder) / "tree"
        added = _git(root, "worktree", "add", "--detach", "--quiet", str(where), commit)
        if added.returncode != 0:
            message = added.stderr.strip().splitlines()[-1] if added.stderr.strip() else ""
            raise InputError(
                f"cannot check out commit {commit[:12]} in a temporary worktree: {message}"
            )
        try:
            yield where
        finally:
            _git(root, "worktree", "remove", "--force", str(where))
            _git(root, "worktree", "prune")
