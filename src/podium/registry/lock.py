"""The promotion lock: a lease on champion moves, across processes and hosts.

MLflow has no lock and no compare-and-set, but creating a registered model is atomic
in every store (names are unique). So the lock for model `churn` is a registered model
`churn.podium-lock`, created to take the lock and deleted to release it, tagged with
its holder and the time it was taken. Everything here goes through the adapter's
registered-model operations (`registered_model`, `create_model`, `delete_model`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from podium import gha
from podium.errors import PodiumError, ServiceError
from podium.registry import tags
from podium.registry.store import Busy

if TYPE_CHECKING:
    from podium.registry.store import Store

LOCK_SUFFIX = ".podium-lock"
LOCK_STALE_SECONDS = 600.0

# Waits between attempts, in seconds (tests set them to zero): a waiter starts at
# WAIT_FIRST and doubles up to WAIT_MAX, with jitter; a failed release retries after
# RELEASE_WAIT × attempt.
WAIT_FIRST = 0.05
WAIT_MAX = 1.0
RELEASE_WAIT = 0.2


def lock_name(registry: Store) -> str:
    """The registered model that is the lock on `registry`'s champion moves."""
    return registry.name + LOCK_SUFFIX


@contextmanager
def hold(registry: Store, holder: str, timeout: float = 120.0) -> Iterator[None]:
    """Exclusive lock on champion moves for this model, across processes and hosts.

    `holder` must be unique per attempt: the lock is only ever released, and only
    ever broken as stale, by comparing holders, so nobody deletes a lock they do
    not own. Safety assumes, as any lease does, that a holder never stalls for
    LOCK_STALE_SECONDS (its moves take a few requests).
    """
    name = lock_name(registry)
    deadline = time.monotonic() + timeout
    delay = WAIT_FIRST
    while not _try_lock(registry, name, holder):
        if time.monotonic() > deadline:
            raise ServiceError(
                f"MLflow registered model '{name}' (podium's promotion lock) has been "
                f"held for over {timeout:.0f}s; if no promotion is running, delete it"
            )
        time.sleep(delay * (0.5 + random.random()))  # jitter: waiters must not march in step
        delay = min(delay * 2, WAIT_MAX)
    try:
        yield
    finally:
        _release(registry, name, holder)


def holder_of(registry: Store, name: str) -> tuple[str, float] | None:
    """Who holds the lock `name` and since when (epoch seconds); None when it is free."""
    found = _lease(registry, name)
    return None if found is None else found[:2]


def _lease(registry: Store, name: str) -> tuple[str, float, bool] | None:
    """holder_of, and whether that holder is a process of this machine that is gone."""
    try:
        held = registry.registered_model(name, "reading the promotion lock")
    except Busy:
        return ("", time.time(), False)  # unknown: treat as held, fresh
    if held is None:
        return None
    try:
        since = float(held.tags.get(tags.LOCK_SINCE, "0"))
    except ValueError:
        since = 0.0
    pid = held.tags.get(tags.LOCK_PID, "")
    dead = held.tags.get(tags.LOCK_HOST) == this_host() and not _alive(pid)
    return held.tags.get(tags.LOCK_HOLDER, ""), since, dead


def this_host() -> str:
    """This machine as a lock holder records it: host name, boot and (Linux) pid namespace,
    so that a container's pid is never looked up in another's namespace."""
    import socket
    from pathlib import Path

    parts = [socket.gethostname()]
    with contextlib.suppress(OSError):
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
    with contextlib.suppress(OSError):
        parts.append(str(Path("/proc/self/ns/pid").readlink()))
    return "|".join(parts)


def this_process() -> str:
    """This process as a lock holder records it: its pid and (Linux) start time, so that a
    later process reusing the pid does not pass for the holder."""
    return f"{os.getpid()}:{_started(os.getpid())}"


def _started(pid: int) -> str:
    """A process's start time in clock ticks since boot ('' where /proc is not there)."""
    from pathlib import Path

    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]  # field 22, after the command's name


def _alive(recorded: str) -> bool:
    """Whether the process recorded as `pid:start` still runs (unknown: assumed alive)."""
    pid_text, _, start = recorded.partition(":")
    if not pid_text.isdigit():
        return True
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: it exists
    return not start or _started(pid) in {start, ""}


def break_token(lock_name: str, holder: str, since: float) -> str:
    """The registered model a breaker creates to own the breaking of one stale lock."""
    digest = hashlib.sha256(f"{holder}|{since}".encode()).hexdigest()[:16]
    return f"{lock_name}.break-{digest}"


def _try_lock(registry: Store, name: str, holder: str) -> bool:
    """One attempt: create the lock model (atomic: names are unique)."""
    with contextlib.suppress(Busy):  # busy sqlite: look at who holds it, as when taken
        if registry.create_model(
            name,
            "taking the promotion lock",
            tags={
                tags.LOCK_HOLDER: holder,
                tags.LOCK_SINCE: str(time.time()),
                tags.LOCK_HOST: this_host(),
                tags.LOCK_PID: this_process(),
            },
            description=f"podium promotion lock for '{registry.name}' (held by {holder}); "
            "deleted automatically when the move completes",
        ):
            return True
    found = _lease(registry, name)
    if found is None:
        return False  # released meanwhile: try again
    held_by, since, dead = found
    if held_by == holder:
        return True  # our create went through but its answer was lost (retried request)
    if dead or time.time() - since > LOCK_STALE_SECONDS:
        _break_stale_lock(registry, name, (held_by, since))
    return False


def _release(registry: Store, name: str, holder: str) -> None:
    """Delete the lock if (and only if) it is still ours."""
    for attempt in range(5):
        try:
            found = holder_of(registry, name)
            if found is None or found[0] != holder:
                return  # broken as stale by someone else: theirs now, leave it
            registry.delete_model(name, "releasing the promotion lock")
            return
        except (PodiumError, OSError):
            time.sleep(RELEASE_WAIT * (attempt + 1))  # must not mask the error being raised
    gha.warning(
        f"could not release podium's promotion lock '{name}'; it expires after "
        f"{LOCK_STALE_SECONDS:.0f}s, or delete that registered model"
    )


def _break_stale_lock(registry: Store, name: str, stale: tuple[str, float]) -> None:
    """Remove a lock abandoned by a crashed holder, with one breaker per stale lock.

    Two waiters may both see the same stale lock. Deleting it blindly lets the slower
    one delete the lock the faster one has just taken. So a breaker first creates a
    token named after the stale holder (atomic, like the lock), re-checks that the
    lock is still that holder's, deletes it, then removes the token.
    """
    token = break_token(name, *stale)
    try:
        created = registry.create_model(
            token,
            "taking the lock breaker's token",
            description=f"podium is breaking a stale lock held by {stale[0]}",
        )
    except PodiumError:
        created = False
    if not created:
        _drop_abandoned_token(registry, token)
        return  # another waiter is breaking it
    try:
        if holder_of(registry, name) == stale:
            registry.delete_model(name, "breaking a stale promotion lock")
    except PodiumError:
        pass  # left for the next waiter
    finally:
        with contextlib.suppress(PodiumError):
            registry.delete_model(token, "removing the lock breaker's token")


def _drop_abandoned_token(registry: Store, token: str) -> None:
    """A breaker that died mid-break leaves its token: expire it like a lock."""
    with contextlib.suppress(PodiumError):
        found = registry.registered_model(token, "reading a lock breaker's token")
        if found is not None and time.time() - found.created_ms / 1000 > LOCK_STALE_SECONDS:
            registry.delete_model(token, "removing an abandoned lock breaker's token")
