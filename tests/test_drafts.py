"""The wizard draft: validated at every step, survives restarts, one job per confirm screen."""

from __future__ import annotations

import pytest

from bananapics.errors import InvalidInput, NotFound
from bananapics.models import AiModel, Draft, Job
from bananapics.services import drafts, ledger
from tests.helpers import assert_ledger_clean, new_user


def test_new_draft_uses_the_admin_default_model(database):
    user = new_user()
    assert drafts.get(user.id).model == "nano-banana"
    AiModel.update(is_default=False).execute()
    AiModel.update(is_default=True).where(AiModel.id == "seedream-4").execute()
    assert drafts.get(new_user().id).model == "seedream-4"


def test_steps_validate_and_price(database):
    user = new_user(200)
    drafts.choose_model(user.id, "nano-banana-pro")
    drafts.set_prompt(user.id, "  a red fox in the snow \x00")
    drafts.add_refs(user.id, ["refs/1/a.jpg", "refs/1/b.jpg"])
    drafts.set_option(user.id, "resolution", "4K")
    drafts.set_option(user.id, "count", 2)
    draft = drafts.get(user.id)
    assert (draft.prompt, draft.refs) == ("a red fox in the snow", ["refs/1/a.jpg", "refs/1/b.jpg"])
    assert drafts.quote(user.id).total == 2 * (30 + 25 + 2)
    with pytest.raises(InvalidInput):
        drafts.set_option(user.id, "quality", "high")
    with pytest.raises(InvalidInput):
        drafts.set_option(user.id, "count", 9)
    with pytest.raises(InvalidInput) as exc:
        drafts.set_prompt(user.id, " ")
    assert exc.value.title == "prompt_empty"
    assert drafts.get(user.id).prompt == "a red fox in the snow"


def test_switching_model_keeps_what_fits(database):
    user = new_user()
    drafts.choose_model(user.id, "nano-banana-pro")
    drafts.add_refs(user.id, [f"refs/1/{n}.jpg" for n in range(12)])
    drafts.set_option(user.id, "resolution", "4K")
    drafts.set_option(user.id, "aspect_ratio", "21:9")
    draft = drafts.choose_model(user.id, "gpt-image")
    assert len(draft.refs) == 12 and draft.settings_dict == {}
    draft = drafts.choose_model(user.id, "seedream-4")
    assert len(draft.refs) == 10  # SeeDream takes at most 10
    with pytest.raises(InvalidInput) as exc:
        drafts.add_refs(user.id, ["refs/1/x.jpg"])
    assert exc.value.title == "too_many_refs"
    AiModel.update(enabled=False).where(AiModel.id == "gpt-image").execute()
    with pytest.raises(InvalidInput):
        drafts.choose_model(user.id, "gpt-image")
    with pytest.raises(NotFound):
        drafts.choose_model(user.id, "nope")


def test_confirm_twice_is_one_job_and_survives_restart(database, database_url):
    user = new_user(100)
    drafts.set_prompt(user.id, "a banana")
    drafts.go(user.id, "confirm")
    first = drafts.confirm(user.id, chat_id=7)
    assert Job.select().count() == 1 and ledger.balance(user.id) == (85, 15)
    again = drafts.get(user.id)
    assert again.confirm_id == first.id and again.prompt == "a banana"  # kept for "again"
    # re-tapping the old confirm screen is the same job; a fresh confirm screen makes a new job id
    assert drafts.confirm(user.id, chat_id=7).id == first.id and ledger.balance(user.id) == (85, 15)
    drafts.go(user.id, "confirm")
    assert drafts.confirm(user.id, chat_id=7).id != first.id
    assert Draft.select().count() == 1
    assert_ledger_clean()


def test_from_job_and_reset(database):
    user, other = new_user(100), new_user(100)
    drafts.choose_model(user.id, "seedream-4")
    drafts.set_prompt(user.id, "castle")
    drafts.set_option(user.id, "resolution", "4K")
    drafts.go(user.id, "confirm")
    job = drafts.confirm(user.id, chat_id=1)
    drafts.reset(user.id)
    draft = drafts.get(user.id)
    assert (draft.model, draft.prompt, draft.step) == ("seedream-4", None, "model")
    draft = drafts.from_job(user.id, job)
    assert (draft.prompt, draft.settings_dict["resolution"]) == ("castle", "4K")
    with pytest.raises(NotFound):
        drafts.from_job(other.id, job)
