"""The update stream: pushing ``Updates`` to connected bot sessions, the ``pts``/``qts`` logs and
``updates.getState``/``getDifference`` (so Telethon's ``MessageBox`` sees a consistent sequence)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from telethon.tl import types

from .records import StoredMessage, UserRecord

if TYPE_CHECKING:  # pragma: no cover
    from .client import SimSender


class UpdatesMixin:
    """Connected sessions, the pts/qts update logs and getState/getDifference."""

    # ---------------------------------------------------------------- connections

    def _attach(self, sender: "SimSender") -> None:
        self._senders.add(sender)

    def _detach(self, sender: "SimSender") -> None:
        self._senders.discard(sender)

    def _authorize(self, key_id: bytes) -> None:
        self._authorized_keys.add(key_id)

    def _push(self, updates: list, users: Iterable[UserRecord] = ()) -> None:
        """Send an ``Updates`` container to every connected bot session that wants updates."""
        container = types.Updates(
            updates=updates, users=[u.tl() for u in {u.id: u for u in users}.values()],
            chats=[], date=self._date(), seq=0,
        )
        payload = bytes(container)
        for sender in list(self._senders):
            if sender.is_connected() and sender.receive_updates:
                sender._deliver_updates(payload)

    # ---------------------------------------------------------------- update sequence

    def _log_pts(self, update: Any, count: int = 1) -> Any:
        self.pts += count
        update.pts = self.pts
        update.pts_count = count
        self._pts_log.append((self.pts, count, update))
        return update

    def _log_qts(self, update: Any) -> Any:
        self.qts += 1
        update.qts = self.qts
        self._qts_log.append((self.qts, update))
        return update

    def _next_msg_id(self) -> int:
        self._msg_id += 1
        return self._msg_id

    def _store(self, user: UserRecord, msg: Any, *, outgoing: bool) -> Any:
        """Store a new message and return its ``UpdateNewMessage`` (with the next pts)."""
        chat = self.chat(user.id)
        stored = StoredMessage(msg=msg, outgoing=outgoing, created=self.now())
        chat.messages[msg.id] = stored
        self._msg_index[msg.id] = (user.id, stored)
        self._users_in_log[user.id] = user
        return self._log_pts(types.UpdateNewMessage(message=msg, pts=0, pts_count=1))

    def _rq_GetStateRequest(self, sender, r):
        return types.updates.State(pts=self.pts, qts=self.qts, date=self._date(), seq=0, unread_count=0)

    def _rq_GetDifferenceRequest(self, sender, r):
        new_messages, other, users = [], [], {}
        for pts, _count, upd in self._pts_log:
            if pts > r.pts:
                if isinstance(upd, types.UpdateNewMessage):
                    new_messages.append(upd.message)
                else:
                    other.append(upd)
                uid = getattr(getattr(getattr(upd, "message", None), "peer_id", None), "user_id", None)
                if uid in self._users_in_log:
                    users[uid] = self._users_in_log[uid]
        for qts, upd in self._qts_log:
            if qts > (r.qts or 0):
                other.append(upd)
                if upd.user_id in self.users:
                    users[upd.user_id] = self.users[upd.user_id]
        if not new_messages and not other:
            return types.updates.DifferenceEmpty(date=self._date(), seq=0)
        return types.updates.Difference(
            new_messages=new_messages, new_encrypted_messages=[], other_updates=other, chats=[],
            users=[u.tl() for u in users.values()],
            state=types.updates.State(pts=self.pts, qts=self.qts, date=self._date(), seq=0, unread_count=0),
        )
