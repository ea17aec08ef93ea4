"""Moving @champion: compare-and-set under the lock, audited, against a real sqlite store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from podium.errors import CheckFailed
from tests.conftest import Project
from tests.registry.conftest import lock_models


def test_compare_and_set_refuses_a_stale_expectation(
    project: Project, registry_of: Callable[..., Any]
) -> None:
    assert project.cli("train").code == 0
    assert project.cli("train").code == 0
    registry = registry_of(project)
    move = dict(action="promote", actor="ci", reason="gates passed", commit=None, run_url=None)
    registry.move_champion(version="1", expected=None, **move)

    with pytest.raises(CheckFailed, match=r"@champion of 'churn' is now v1, not unset"):
        registry.move_champion(version="2", expected=None, **move)
    assert registry.champion().version == "1"
    assert [e.version for e in registry.history()] == ["1"]
    assert lock_models(registry) == {}

    event = registry.move_champion(version="2", expected="1", **move)
    assert (event.seq, event.previous, registry.champion().version) == (2, "1", "2")
