"""Callback queries: the user pressing an inline button and the bot answering it."""

from __future__ import annotations

from telethon.tl import types

from .errors import TgError
from .records import CallbackRecord, UserRecord


class CallbacksMixin:
    """Inline-button presses and their answers."""

    def _rq_SetBotCallbackAnswerRequest(self, sender, r):
        query = self.callback_queries.get(r.query_id)
        if query is None or query.answered or self.now() - query.created > self.limits.callback_query_ttl:
            raise TgError(400, "QUERY_ID_INVALID")
        if r.message and len(r.message) > self.limits.callback_answer_max:
            raise TgError(400, "MESSAGE_TOO_LONG")
        query.answered, query.message, query.alert = True, r.message, bool(r.alert)
        query.url, query.cache_time = r.url, r.cache_time
        return True

    def user_presses(self, user: UserRecord, msg_id: int, data: bytes) -> CallbackRecord:
        query = CallbackRecord(
            query_id=self._rand63(), user_id=user.id, msg_id=msg_id, data=data, created=self.now(),
        )
        self.callback_queries[query.query_id] = query
        chat = self.chat(user.id)
        self._push([types.UpdateBotCallbackQuery(
            query_id=query.query_id, user_id=user.id, peer=user.peer, msg_id=msg_id,
            chat_instance=chat.chat_instance, data=data,
        )], [user])
        return query
