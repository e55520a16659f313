"""A user's own choices in Settings: the language, the model a new draft starts with and its aspect ratio.

Both are only defaults: a model the admin switches off is skipped (the admin's default model is used
instead), and a ratio the chosen model does not offer is left out (the model's own default applies).
"""

from __future__ import annotations

from typing import Any

from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput
from bananapics.models import AiModel, User, utcnow
from bananapics.services import jobs, pricing, users

# The order ratios are offered in: square, portrait, landscape, then anything else a model declares.
RATIO_ORDER = ("1:1", "2:3", "3:4", "4:5", "9:16", "1:4", "3:2", "4:3", "5:4", "16:9", "21:9", "4:1")


def ratios(models: list[AiModel]) -> list[str]:
    """Every aspect ratio at least one of ``models`` offers, in :data:`RATIO_ORDER`."""
    offered = {ratio for model in models for ratio in pricing.choices(model).get("aspect_ratio", [])}
    known = [ratio for ratio in RATIO_ORDER if ratio in offered]
    return known + sorted(offered - set(known))


def set_language(user_id: int, code: str) -> User:
    """The language the bot speaks to the user (one of ``users.LANGUAGES``)."""
    if code not in users.LANGUAGES:
        raise InvalidInput(f"unknown language {code!r}; choose {', '.join(users.LANGUAGES)}")
    return _set(user_id, language=code)


def set_model(user_id: int, model_id: str | None) -> User:
    """Make ``model_id`` (an enabled model) the user's default; None follows the admin's default."""
    if model_id is not None:
        jobs.enabled_model(model_id)  # NotFound / InvalidInput for an unknown or switched-off model
    return _set(user_id, pref_model=model_id)


def set_ratio(user_id: int, ratio: str | None) -> User:
    """Make ``ratio`` the user's default aspect ratio; None uses each model's own default."""
    if ratio is not None:
        with connection():
            enabled = AiModel.all_by(AiModel.enabled, True, order=AiModel.sort)
        if ratio not in ratios(enabled):
            raise InvalidInput(f"no model offers the aspect ratio {ratio}", title="setting_unsupported")
    return _set(user_id, pref_ratio=ratio)


def _set(user_id: int, **changes: Any) -> User:
    with atomic():
        user = User.update_by(User.id, user_id, {**changes, "updated_at": utcnow()})
    if user is None:
        raise InvalidInput(f"no user #{user_id}")
    return user


def draft_defaults(user: User | None, model: AiModel) -> dict[str, Any]:
    """The settings a new draft on ``model`` starts with: the user's ratio when the model offers it."""
    if user is None or not user.pref_ratio:
        return {}
    return {"aspect_ratio": user.pref_ratio} if user.pref_ratio in pricing.choices(model).get("aspect_ratio", []) else {}
