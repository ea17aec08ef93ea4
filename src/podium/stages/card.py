"""`podium card`: the model card of a version; and writing it at promotion."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from podium import card as model_card
from podium.config import Config
from podium.errors import InputError, PodiumError
from podium.registry import tags
from podium.stages import open_registry

if TYPE_CHECKING:
    from podium.registry import Registry
    from podium.results import Evaluation


def version_number(given: str, option: str = "--version") -> str:
    """A version as the user typed it (`7` or `v7`), checked to be a number (exit 2)."""
    number = given.strip().removeprefix("v")
    if not number.isdigit():
        raise InputError(f"{option} '{given}' is not a model version number; e.g. {option} 3")
    return number


def card(*, config: Config, version: str | None = None, fmt: str = "md") -> str:
    """The card of `version` (default: the champion) rendered as `fmt`."""
    if fmt not in model_card.FORMATS:
        raise InputError(
            f"--format '{fmt}' is not offered; use one of {', '.join(model_card.FORMATS)}"
        )
    registry = open_registry(config)
    if version is None:
        champion = registry.champion()
        if champion is None:
            raise InputError(
                f"model '{config.model.name}' has no champion yet; name a version with --version N"
            )
        found = champion
    else:
        found = registry.get_version(version_number(version))
    return model_card.render(model_card.collect(registry, found), fmt)


def write_at_promotion(
    config: Config, registry: Registry, version: str, evaluation: Evaluation
) -> str | None:
    """Log the card (`model_card.md`, `model_card.json`) and the evaluation it was promoted
    on as artifacts of the version's run. Returns why it could not (also printed as a
    warning), None when written: the promotion has happened either way, and `podium card`
    still renders the card from the registry."""
    from podium.results import Validation

    try:
        validation = Validation.load_optional(config.state_dir, model=config.model.name)
        found = registry.get_version(version)
        if not found.run_id:
            return f"v{version} has no run to attach its model card to"
        run_id = found.run_id

        def write(store: Registry) -> None:
            store.log_json(
                run_id, evaluation.model_dump(mode="json"), model_card.EVALUATION_ARTIFACT
            )
            done = model_card.collect(
                store, store.get_version(version), evaluation=evaluation, validation=validation
            )
            store.log_json(run_id, done.model_dump(mode="json"), model_card.JSON_ARTIFACT)
            text = model_card.render(done, "md")
            store.call(
                f"logging {model_card.MARKDOWN_ARTIFACT}",
                lambda: store.client.log_text(run_id, text, model_card.MARKDOWN_ARTIFACT),
            )
            store.set_version_tags(version, {tags.CARD_WRITTEN: model_card.MARKDOWN_ARTIFACT})

        from podium.registry.git_branch import change_message

        registry.change(
            write,
            lambda _: change_message(
                f"model card of {config.model.name} v{version}", commit=None, run_url=None
            ),
        )
    except PodiumError as exc:
        print(f"podium: warning: model card not written: {exc}", file=sys.stderr)
        return str(exc)
    return None
