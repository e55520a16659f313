"""Messages in private chats: sending, albums, forwards, edits, deletions, reads and chat actions,
and the user sending a message to the bot."""

from __future__ import annotations

import re
from typing import Any, Optional

from telethon.tl import types

from .errors import TgError
from .records import UserRecord
from .wire import utf16_len, wire_copy


class MessagesMixin:
    """Messages the bot sends, edits, forwards and deletes; messages the user sends."""

    # ---------------------------------------------------------------- outgoing messages

    def _out_message(self, user: UserRecord, **fields: Any) -> Any:
        reply_to = fields.pop("reply_to", None)
        header = None
        if isinstance(reply_to, types.InputReplyToMessage):
            target = self._msg_index.get(reply_to.reply_to_msg_id)
            if target and target[0] == user.id and not target[1].deleted:
                header = types.MessageReplyHeader(reply_to_msg_id=reply_to.reply_to_msg_id)
        return types.Message(
            id=self._next_msg_id(), peer_id=user.peer, from_id=types.PeerUser(self.bot.id),
            date=self._date(), out=True, reply_to=header, **fields,
        )

    def _check_random_ids(self, user: UserRecord, random_ids: list[int]) -> None:
        """Telegram refuses a send whose ``random_id`` it has seen from the bot in this chat before
        (the client's own deduplication of a repeated send: ``500 RANDOM_ID_DUPLICATE``, nothing is
        sent again; an album is refused whole). Checked after the content, before the flood limits."""
        seen = self.chat(user.id).random_ids
        if len(set(random_ids)) < len(random_ids) or any(rid in seen for rid in random_ids):
            raise TgError(500, "RANDOM_ID_DUPLICATE")

    def _sent(self, user: UserRecord, pairs: list[tuple[int, Any]]) -> types.Updates:
        self.chat(user.id).random_ids.update(rid for rid, _ in pairs)
        ids = [types.UpdateMessageID(id=msg.id, random_id=rid) for rid, msg in pairs]
        news = [self._store(user, msg, outgoing=True) for _, msg in pairs]
        return types.Updates(updates=ids + news, users=[user.tl()], chats=[], date=self._date(), seq=0)

    # ---------------------------------------------------------------- messages

    def _rq_SendMessageRequest(self, sender, r):
        user = self._chat_user(r.peer)
        if not r.message.strip():
            raise TgError(400, "MESSAGE_EMPTY")
        entities = self._check_text(r.message, r.entities, caption=False)
        markup = self._check_markup(r.reply_markup)
        self._check_random_ids(user, [r.random_id])
        self._take_flood(user, 1)
        msg = self._out_message(
            user, message=r.message, entities=entities, reply_markup=markup, reply_to=r.reply_to,
            silent=r.silent, noforwards=r.noforwards,
        )
        return self._sent(user, [(r.random_id, msg)])

    def _rq_SendMediaRequest(self, sender, r):
        user = self._chat_user(r.peer)
        if isinstance(r.media, types.InputMediaInvoice):
            return self._send_invoice(user, r)
        entities = self._check_text(r.message or "", r.entities, caption=True)
        markup = self._check_markup(r.reply_markup)
        media = self._media(sender, r.media)
        self._check_random_ids(user, [r.random_id])
        self._take_flood(user, 1)
        msg = self._out_message(
            user, message=r.message or "", entities=entities, media=media, reply_markup=markup,
            reply_to=r.reply_to, silent=r.silent, noforwards=r.noforwards,
        )
        return self._sent(user, [(r.random_id, msg)])

    def _rq_SendMultiMediaRequest(self, sender, r):
        user = self._chat_user(r.peer)
        items = r.multi_media
        if not items:
            raise TgError(400, "MEDIA_EMPTY")
        if len(items) > self.limits.album_max:
            raise TgError(400, "MULTI_MEDIA_TOO_LONG")
        prepared, kinds = [], set()
        for item in items:
            if not isinstance(item.media, (types.InputMediaPhoto, types.InputMediaDocument)):
                raise TgError(400, "MEDIA_INVALID")  # upload first (messages.uploadMedia)
            kinds.add(type(item.media))
            entities = self._check_text(item.message or "", item.entities, caption=True)
            prepared.append((item, entities, self._media(sender, item.media)))
        if len(kinds) > 1:
            raise TgError(400, "MEDIA_INVALID")  # photos and documents cannot share an album
        self._check_random_ids(user, [item.random_id for item in items])
        self._take_flood(user, len(items))
        grouped_id = self._rand63()
        pairs = []
        for item, entities, media in prepared:
            pairs.append((item.random_id, self._out_message(
                user, message=item.message or "", entities=entities, media=media, grouped_id=grouped_id,
                reply_to=r.reply_to, silent=r.silent,
            )))
        return self._sent(user, pairs)

    def _rq_ForwardMessagesRequest(self, sender, r):
        source = self._input_user(r.from_peer)
        user = self._chat_user(r.to_peer)
        if not r.id or len(r.id) != len(r.random_id):
            raise TgError(400, "MESSAGE_IDS_EMPTY")
        originals = []
        for mid in r.id:
            found = self._msg_index.get(mid)
            if not found or found[0] != source.id or found[1].deleted or isinstance(found[1].msg, types.MessageService):
                raise TgError(400, "MESSAGE_ID_INVALID")
            originals.append(found[1])
        if any(isinstance(o.msg.media, types.MessageMediaInvoice) for o in originals):
            raise TgError(400, "MEDIA_INVALID")
        self._check_random_ids(user, list(r.random_id))
        self._take_flood(user, len(originals))
        groups: dict[int, int] = {}
        pairs = []
        for rid, original in zip(r.random_id, originals):
            old = original.msg
            author = types.PeerUser(self.bot.id) if original.outgoing else old.from_id
            media = old.media
            keep_caption = not (r.drop_media_captions and media is not None)
            pairs.append((rid, self._out_message(
                user, message=(old.message or "") if keep_caption else "",
                entities=old.entities if keep_caption else None, media=media, silent=r.silent,
                grouped_id=groups.setdefault(old.grouped_id, self._rand63()) if old.grouped_id else None,
                fwd_from=None if r.drop_author else types.MessageFwdHeader(date=old.date, from_id=author),
            )))
        return self._sent(user, pairs)

    def _rq_EditMessageRequest(self, sender, r):
        user = self._input_user(r.peer)
        if user.blocked:
            raise TgError(400, "USER_IS_BLOCKED")
        found = self._msg_index.get(r.id)
        if not found or found[0] != user.id or found[1].deleted:
            raise TgError(400, "MESSAGE_ID_INVALID")
        stored = found[1]
        old = stored.msg
        if isinstance(old, types.MessageService):
            raise TgError(400, "MESSAGE_ID_INVALID")
        if not stored.outgoing:
            raise TgError(400, "MESSAGE_AUTHOR_REQUIRED")
        is_invoice = isinstance(old.media, types.MessageMediaInvoice)
        if is_invoice and r.media is not None:
            raise TgError(400, "MEDIA_PREV_INVALID")
        media = old.media if r.media is None else self._media(sender, r.media)
        has_media = media is not None and not isinstance(media, (types.MessageMediaEmpty, types.MessageMediaWebPage))
        if r.message is None:
            text, entities = old.message or "", old.entities
        else:
            text = r.message
            if not has_media and not text.strip():
                raise TgError(400, "MESSAGE_EMPTY")
            entities = self._check_text(text, r.entities, caption=has_media)
        markup = self._check_markup(r.reply_markup, invoice=is_invoice)
        if (r.media is None and text == (old.message or "") and _same(entities, old.entities)
                and _same(markup, old.reply_markup)):
            raise TgError(400, "MESSAGE_NOT_MODIFIED")
        new = wire_copy(old)
        new.message, new.entities, new.media, new.reply_markup = text, entities, media, markup
        new.edit_date = self._date()
        stored.versions.append(old)
        stored.msg = new
        update = self._log_pts(types.UpdateEditMessage(message=new, pts=0, pts_count=1))
        return types.Updates(updates=[update], users=[user.tl()], chats=[], date=self._date(), seq=0)

    def _rq_messages_DeleteMessagesRequest(self, sender, r):
        now = self.now()
        victims = []
        for mid in r.id:
            found = self._msg_index.get(mid)
            if not found or found[1].deleted:
                continue
            if now - found[1].created > self.limits.delete_window:
                raise TgError(400, "MESSAGE_DELETE_FORBIDDEN")
            victims.append(found[1])
        if not victims:
            return types.messages.AffectedMessages(pts=self.pts, pts_count=0)
        for stored in victims:
            stored.deleted = True
        self._log_pts(types.UpdateDeleteMessages(messages=[s.id for s in victims], pts=0, pts_count=0),
                      count=len(victims))
        return types.messages.AffectedMessages(pts=self.pts, pts_count=len(victims))

    def _rq_messages_GetMessagesRequest(self, sender, r):
        out, users = [], {}
        for ref in r.id:
            mid = getattr(ref, "id", None)
            found = self._msg_index.get(mid) if isinstance(ref, types.InputMessageID) else None
            if found and not found[1].deleted:
                out.append(found[1].msg)
                users[found[0]] = self.users[found[0]]
            else:
                out.append(types.MessageEmpty(id=mid or 0))
        return types.messages.Messages(messages=out, topics=[], chats=[], users=[u.tl() for u in users.values()])

    def _rq_SetTypingRequest(self, sender, r):
        user = self._chat_user(r.peer)
        self.chat_actions.append((self.now(), user.id, type(r.action).__name__))
        return True

    # ---------------------------------------------------------------- user-side

    def user_sends(
        self, user: UserRecord, items: list[dict], *, reply_to: Optional[int] = None,
    ) -> list[Any]:
        """The user sends one message (or an album when ``items`` has several) to the bot."""
        if user.blocked:  # Telegram's "Restart bot" unblocks before sending
            self.user_blocks(user, blocked=False)
        user.started = True
        grouped_id = self._rand63() if len(items) > 1 else None
        header = types.MessageReplyHeader(reply_to_msg_id=reply_to) if reply_to else None
        updates, msgs = [], []
        for item in items:
            text = item.get("text") or ""
            entities = item.get("entities")
            if entities is None:
                entities = _command_entities(text)
            msg = types.Message(
                id=self._next_msg_id(), peer_id=user.peer, from_id=user.peer, date=self._date(),
                message=text, media=item.get("media"), entities=entities or None, grouped_id=grouped_id,
                reply_to=header,
            )
            updates.append(self._store(user, msg, outgoing=False))
            msgs.append(msg)
        self._push(updates, [user])
        return msgs


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None or a == [] or b == []:
        return (a or None) is None and (b or None) is None
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(bytes(x) == bytes(y) for x, y in zip(a, b))
    return bytes(a) == bytes(b)


def _command_entities(text: str) -> list:
    """Telegram marks a leading ``/command`` (and ``/command@bot``) with a bot-command entity."""
    m = re.match(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)", text)
    if not m:
        return []
    return [types.MessageEntityBotCommand(offset=0, length=utf16_len(m.group(0)))]
