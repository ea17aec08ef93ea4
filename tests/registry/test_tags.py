"""Tag names and the one parser of `podium.features`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from podium.registry import tags
from podium.registry.tags import read_feature_types


def test_feature_types_as_train_writes_them() -> None:
    written = {"tenure": "numeric", "plan": "categorical"}
    assert read_feature_types({tags.FEATURES: json.dumps(written), "other": "x"}) == written


@pytest.mark.parametrize(
    "recorded",
    [
        {},  # trained by a podium that did not record them
        {tags.FEATURES: ""},
        {tags.FEATURES: "{tenure: numeric"},  # broken JSON (a hand-edited tag)
        {tags.FEATURES: '["tenure", "plan"]'},  # JSON, but not an object
        {tags.FEATURES: '"tenure"'},
        {tags.FEATURES: "null"},
    ],
)
def test_missing_broken_or_foreign_feature_types_are_none(recorded: dict[str, str]) -> None:
    assert read_feature_types(recorded) is None


def test_feature_types_are_strings_even_when_hand_edited() -> None:
    assert read_feature_types({tags.FEATURES: '{"age": 1}'}) == {"age": "1"}
    assert read_feature_types({tags.FEATURES: "{}"}) == {}


def test_every_podium_tag_name_is_a_constant_here() -> None:
    names = {v for k, v in vars(tags).items() if k.isupper() and isinstance(v, str)}
    assert all(n.startswith("podium.") or n == tags.CHAMPION for n in names), names
    # Literal `podium.…` tag names the registry package writes are spelled only in tags.py.
    package = Path(tags.__file__).parent
    for module in package.glob("*.py"):
        if module.name != "tags.py":
            assert not re.search(r"\"podium\.\w", module.read_text()), module.name
