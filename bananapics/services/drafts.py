"""The generate wizard's draft: one per user, in the database, so it survives bot restarts.

Every change is validated against the chosen model (its limits and pricing rules) the moment it is
made, so the confirm screen can always show a price, and a confirm is a single
:func:`bananapics.services.jobs.submit` with the draft's ``confirm_id`` as the job id — a double tap
on "Generate" creates one job (the id stays on the draft until the next confirm screen).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any


from bananapics.db import atomic, atomic_statement, connection, is_postgres
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import AiModel, Draft, Job, User, utcnow
from bananapics.services import breaker, conversation, jobs, preferences, pricing, templates, toggles

STEPS = ("model", "prompt", "refs", "settings", "confirm")


class NoModels(InvalidInput):
    """Every model is switched off: no wizard screen can be drawn (the bot shows "no models")."""


def admins_default(models: list[AiModel]) -> AiModel | None:
    """Among enabled ``models``: the one the admin made the default, else the first."""
    return next((m for m in models if m.is_default), models[0] if models else None)


def users_default(user: User | None, models: list[AiModel]) -> AiModel | None:
    """Among enabled ``models``: the user's default (Settings) while it is on, else the admin's."""
    mine = next((m for m in models if user is not None and m.id == user.pref_model), None)
    return mine or admins_default(models)


def default_model() -> AiModel | None:
    return admins_default(enabled_models())


def enabled_models() -> list[AiModel]:
    with connection():
        return AiModel.all_by(AiModel.enabled, True, order=AiModel.sort)


def start_model(user: User | None) -> AiModel | None:
    """The model a new draft starts with: the user's default (Settings) while it is switched on,
    else the admin's default."""
    return users_default(user, enabled_models())


def _user_row(user_id: int) -> User | None:
    """The user's row, for callers that did not pass theirs (their defaults from Settings)."""
    with connection():
        return User.by(User.id, user_id)


def get(user_id: int) -> Draft:
    """The user's draft, created on first use with their default model (Settings) or the admin's."""
    return _get(user_id)[0]


def _get(user_id: int, user: User | None = None) -> tuple[Draft, bool]:
    """The draft, and whether this call created it (a new draft is a reset one). ``user``: the
    caller's row of the user, if it has one (else it is read when a draft is created)."""
    with connection():
        draft = Draft.by(Draft.user, user_id)  # a plain read: no transaction, no write lock
    if draft is not None:
        return draft, False
    with atomic():
        user = user or _user_row(user_id)
        model = start_model(user)
        settings = json.dumps(preferences.draft_defaults(user, model)) if model else "{}"
        created = next(iter(Draft.insert(user=user_id, model=model.id if model else None, settings=settings)
                            .on_conflict_ignore().returning(Draft).execute()), None)
        return (created, True) if created is not None else (Draft.by(Draft.user, user_id), False)


def _save(user_id: int, **fields: Any) -> Draft:
    """Change the draft (created first if the user has none) and return it: one UPDATE … RETURNING
    (SQL rendered once per set of fields). Inside a caller's transaction (reset, confirm) it joins
    it without a savepoint: the common path is that one statement, and a failure rolls the caller
    back as a whole."""
    fields["updated_at"] = utcnow()
    with atomic_statement():
        for _ in range(2):
            draft = Draft.update_by(Draft.user, user_id, fields, bump="version")
            if draft is not None:
                return draft
            get(user_id)
    raise NotFound(f"no draft for user #{user_id}")  # pragma: no cover - get() just created it


def chosen_model(draft: Draft) -> AiModel | None:
    """The model the draft names, enabled or not (None when it names none, or a deleted one)."""
    return pricing.find_model(draft.model)


def model_of(draft: Draft) -> AiModel:
    """The model the draft's screens and prices use: the chosen one while it is on, else the admin's
    default (:class:`NoModels` when every model is off)."""
    model = pricing.find_model(draft.model)
    if model is None or not model.enabled:
        fallback = default_model()
        if fallback is None:
            raise NoModels("no model is available right now", title="no_models")
        return fallback
    return model


def _fit_settings(model: AiModel, settings: dict[str, Any]) -> dict[str, Any]:
    """Keep the settings the new model supports; drop the rest (it falls back to defaults)."""
    kept: dict[str, Any] = {}
    for key, value in settings.items():
        try:
            pricing.normalise(model, {**kept, key: value})
            kept[key] = value
        except InvalidInput:
            continue
    return kept


def choose_model(user_id: int, model_id: str, user: User | None = None) -> Draft:
    """Switch the draft to ``model_id``: references and settings it cannot take are dropped, and the
    user's default ratio comes back when the new model offers it and none was chosen."""
    model = jobs.enabled_model(model_id)
    draft = get(user_id)
    refs = draft.refs[: model.max_refs]
    kept = {k: v for k, v in draft.settings_dict.items() if k != "refs"}
    if user is None and kept.get("aspect_ratio") is None:
        user = _user_row(user_id)
    settings = _fit_settings(model, {**preferences.draft_defaults(user, model), **kept})
    step = "prompt" if not draft.prompt else "confirm"
    return _save(user_id, model=model.id, settings=json.dumps(settings), ref_keys=json.dumps(refs), step=step)


def pick_model(user_id: int, model_id: str, user: User | None = None) -> Draft:
    """The user picks ``model_id`` from the model list: :func:`choose_model`, unless its provider
    keeps failing (``breaker.ModelUnavailable``: the user picks another or comes back later)."""
    breaker.ensure_available(jobs.enabled_model(model_id))
    return choose_model(user_id, model_id, user)


def set_prompt(user_id: int, text: str) -> Draft:
    prompt = jobs.clean_prompt(text)
    return _save(user_id, prompt=prompt, step="refs", template_id=None)  # their own words: no template


def max_refs(draft: Draft) -> int:
    return model_of(draft).max_refs


def _locked(user_id: int) -> Draft:
    """The draft, row-locked until the surrounding transaction ends (SQLite: BEGIN IMMEDIATE already
    serialises writers), so photos arriving at once never overwrite each other's references."""
    get(user_id)
    query = Draft.select().where(Draft.user == user_id)
    return (query.for_update() if is_postgres() else query).get()


def add_refs(user_id: int, keys: list[str]) -> Draft:
    with atomic():
        draft = _locked(user_id)
        limit = max_refs(draft)
        refs = draft.refs + [k for k in keys if k not in draft.refs]
        if len(refs) > limit:
            raise InvalidInput(f"{model_of(draft).name} takes at most {limit} reference images", title="too_many_refs")
        return _save(user_id, ref_keys=json.dumps(refs))


def ref_room(user_id: int) -> int:
    """How many more reference images the draft's model takes."""
    draft = get(user_id)
    return max(0, max_refs(draft) - len(draft.refs))


def add_refs_upto(user_id: int, keys: list[str]) -> tuple[Draft, int]:
    """Add as many of ``keys`` as the model still takes (an album may bring more than fit);
    returns the draft and how many were added. Repeats of a stored image are not added twice."""
    with atomic():
        draft = _locked(user_id)
        room = max(0, max_refs(draft) - len(draft.refs))
        new = [k for k in dict.fromkeys(keys) if k not in draft.refs][:room]
        if not new:
            return draft, 0
        return _save(user_id, ref_keys=json.dumps(draft.refs + new)), len(new)


def remove_last_ref(user_id: int) -> Draft:
    with atomic():
        draft = _locked(user_id)
        return _save(user_id, ref_keys=json.dumps(draft.refs[:-1]))


def clear_refs(user_id: int) -> Draft:
    return _save(user_id, ref_keys="[]")


def set_option(user_id: int, key: str, value: Any) -> Draft:
    """Change one setting (resolution, quality, aspect_ratio, format, count) after validating it."""
    if key == "refs":
        raise InvalidInput("references are added as images")
    draft = get(user_id)
    model = model_of(draft)
    settings = {**draft.settings_dict, key: value}
    pricing.normalise(model, {**settings, "refs": len(draft.refs)})
    return _save(user_id, settings=json.dumps(settings))


def go(user_id: int, step: str) -> Draft:
    if step not in STEPS:
        raise InvalidInput(f"unknown wizard step {step!r}")
    fields: dict[str, Any] = {"step": step}
    if step == "confirm":
        fields["confirm_id"] = uuid.uuid4().hex  # one job per confirm screen, however often it is tapped
    return _save(user_id, **fields)


def quote(user_id: int) -> pricing.Quote:
    draft = get(user_id)
    return pricing.cost(model_of(draft), {**draft.settings_dict, "refs": len(draft.refs)})


def confirm(user_id: int, *, chat_id: int | None, expected_cost: int | None = None,
            timing: jobs.Timing = jobs.Timing()) -> Job:
    """Submit the draft as a job (hold + job row); the caller enqueues the id after commit.

    ``expected_cost`` is the price the Generate button showed: it is compared, inside the submit's
    transaction, with the price of the draft as read there under its row lock, so a photo arriving
    meanwhile (a per-reference price) raises PriceChanged and holds nothing instead of charging more.
    """
    with atomic():
        draft = _locked(user_id)
        if not draft.prompt:
            raise InvalidInput("the prompt is empty", title="prompt_empty")
        # The draft (its version, so the wizard's buttons, and its confirm id) stays as it is: a second
        # tap of the same Generate button submits the same job id again and gets the job back.
        confirm_id = draft.confirm_id or uuid.uuid4().hex
        # The model the user chose, not a fallback: a model switched off since is refused, never swapped.
        job = jobs.submit(user_id, draft.model or model_of(draft).id, draft.prompt, draft.settings_dict,
                          ref_keys=draft.refs, chat_id=chat_id, job_id=confirm_id, expected_cost=expected_cost,
                          timing=timing)
        templates.record_use(draft.template_id, user_id, job.id)  # trending counts submitted generations
        if draft.confirm_id is None:
            _save(user_id, confirm_id=confirm_id, step="confirm")
    return job


def from_job(user_id: int, job: Job, *, keep_refs: bool = True) -> Draft:
    """Put a past job's model, prompt and settings (and references) back into the draft; a job made
    from a template keeps counting for that template."""
    if job.user_id != user_id:
        raise NotFound("no such job", title="stale")
    settings = {k: v for k, v in job.settings_dict.items() if k != "refs"}
    return _save(user_id, model=job.model, prompt=job.prompt, settings=json.dumps(settings),
                 ref_keys=json.dumps(job.refs if keep_refs else []), template_id=templates.of_job(job.id),
                 step="confirm")


def from_template(user_id: int, template: Any, lang: str, user: User | None = None) -> Draft:
    """Fill the draft from a template: its prompt in the user's language, its model when enabled
    (else the draft's model), the settings that model supports (the user's default ratio where the
    template sets none); photos already added stay. ``user``: the caller's row of the user, if any.
    FeatureOff while an admin has templates switched off."""
    toggles.require("templates")
    draft = get(user_id)
    model = pricing.find_model(template.model)
    if user is None and template.settings_dict.get("aspect_ratio") is None:
        user = _user_row(user_id)
    if model is None or not model.enabled:
        model = model_of(draft)
    refs = draft.refs[: model.max_refs]
    settings = _fit_settings(model, {**preferences.draft_defaults(user, model), **template.settings_dict})
    return _save(user_id, model=model.id, prompt=jobs.clean_prompt(template.prompt(lang)),
                 settings=json.dumps(settings), ref_keys=json.dumps(refs), template_id=template.id,
                 step="refs", confirm_id=None)


def repeat(user_id: int, job_id: str, *, chat_id: int | None, pressed: int | None = None,
           timing: jobs.Timing = jobs.Timing()) -> Job:
    """The same request again ("again" / "try again"): priced and held anew at today's prices.

    The new job id is derived from the source job and the message whose button was ``pressed`` (that
    message then becomes the new job's panel, so it never offers this button again): a double tap
    makes one job, even when the taps are handled one after the other. Without a message, from how
    many jobs the user has (taps handled at the same moment see the same count). The caller enqueues
    it after commit.
    """
    job = jobs.get_for_user(user_id, job_id)
    if pressed is not None:
        seq = f"m{pressed}"
    else:
        with connection():
            seq = str(Job.select().where(Job.user == user_id).count())
    again_id = hashlib.sha256(f"{job.id}:again:{seq}".encode()).hexdigest()[:32]
    settings = {k: v for k, v in job.settings_dict.items() if k != "refs"}
    with atomic():  # the other tap of a double tap waits in submit for this one, then gets the job back
        again = jobs.submit(user_id, job.model, job.prompt, settings, ref_keys=job.refs, chat_id=chat_id,
                            job_id=again_id, timing=timing)
        # a repeat of a template's job is one more use of it, as its confirm through the wizard is
        templates.record_use(templates.of_job(job.id), user_id, again.id)
    return again


def reset(user_id: int, user: User | None = None) -> Draft:
    """A new draft: on the user's default model (Settings) when they chose one, else on the model
    chosen last; with their default aspect ratio when that model offers it. Typed text is its prompt
    again: a text step some screen asked for (``services.conversation``) is dropped. ``user``: the
    caller's row of the user, if it has one (else it is read)."""
    user = user or _user_row(user_id)
    draft, created = _get(user_id, user)
    if created:
        conversation.clear(user_id)
        return draft
    preferred = start_model(user) if user is not None and user.pref_model else None
    try:
        model = preferred if preferred is not None else model_of(draft)
    except NoModels:  # the admin switched every model off: still a clean draft (/cancel, /generate answer)
        model = None
    fresh = {"prompt": None, "template_id": None, "ref_keys": "[]", "settings": "{}", "step": "model", "confirm_id": None}
    if model is not None:
        fresh.update(model=model.id, settings=json.dumps(preferences.draft_defaults(user, model)))
    with atomic():  # one write transaction for both
        conversation.clear(user_id)
        return _save(user_id, **fresh)
