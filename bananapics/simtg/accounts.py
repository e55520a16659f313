"""Accounts: bot authorisation, config, user lookups, the bot's commands and info, and users
blocking the bot."""

from __future__ import annotations

import datetime
import itertools
import re
from typing import Any

from telethon.tl import types

from .errors import TgError
from .records import UserRecord


DC_ID = 2  # Telethon's DEFAULT_DC_ID: files "live" where the session is, so no exported senders.

_LANG_RE = re.compile(r"^(|[a-z]{2})$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class AccountsMixin:
    """Bot authorisation, config, users as the bot sees them, the bot's commands and info."""

    # ---------------------------------------------------------------- auth, config, state

    def _rq_ImportBotAuthorizationRequest(self, sender, r):
        if r.bot_auth_token != self.bot_token:
            raise TgError(400, "ACCESS_TOKEN_INVALID")
        self._authorize(sender.auth_key.key_id)
        return types.auth.Authorization(user=self._bot_self())

    def _rq_LogOutRequest(self, sender, r):
        self._authorized_keys.discard(sender.auth_key.key_id)
        return types.auth.LoggedOut()

    def _rq_GetConfigRequest(self, sender, r):
        now = self._date()
        return types.Config(
            date=now, expires=now + datetime.timedelta(hours=1), test_mode=False, this_dc=DC_ID,
            dc_options=[types.DcOption(id=DC_ID, ip_address="127.0.0.1", port=443)],
            dc_txt_domain_name="simtg.invalid", chat_size_max=200, megagroup_size_max=200000,
            forwarded_count_max=100, online_update_period_ms=210000, offline_blur_timeout_ms=5000,
            offline_idle_timeout_ms=30000, online_cloud_timeout_ms=300000, notify_cloud_delay_ms=30000,
            notify_default_delay_ms=1500, push_chat_period_ms=60000, push_chat_limit=2,
            edit_time_limit=172800, revoke_time_limit=172800, revoke_pm_time_limit=2147483647,
            rating_e_decay=2419200, stickers_recent_limit=200, channels_read_media_period=604800,
            call_receive_timeout_ms=20000, call_ring_timeout_ms=90000, call_connect_timeout_ms=30000,
            call_packet_timeout_ms=10000, me_url_prefix="https://t.me/",
            caption_length_max=self.limits.caption_max, message_length_max=self.limits.text_max,
            webfile_dc_id=DC_ID,
        )

    def _bot_self(self) -> types.User:
        b = self.bot
        return types.User(
            id=b.id, is_self=True, bot=True, access_hash=b.access_hash, first_name=b.first_name,
            username=b.username, bot_info_version=1,
        )

    # ---------------------------------------------------------------- users

    def _user_view(self, ref: Any) -> Any:
        if isinstance(ref, (types.InputUserSelf, types.InputPeerSelf)):
            return self._bot_self()
        if isinstance(ref, (types.InputUser, types.InputPeerUser)):
            if ref.user_id == self.bot.id and ref.access_hash == self.bot.access_hash:
                return self._bot_self()
            user = self.users.get(ref.user_id)
            # Bots may pass access_hash=0 for users who wrote to them (Telethon relies on it).
            if user and (ref.access_hash == user.access_hash or (ref.access_hash == 0 and user.started)):
                return user.tl()
            return types.UserEmpty(id=ref.user_id)
        return types.UserEmpty(id=0)

    def _rq_users_GetUsersRequest(self, sender, r):
        return [self._user_view(ref) for ref in r.id]

    def _rq_users_GetFullUserRequest(self, sender, r):
        view = self._user_view(r.id)
        if isinstance(view, types.UserEmpty):
            raise TgError(400, "USER_ID_INVALID")
        rec = self.users.get(view.id)
        full = types.UserFull(
            id=view.id, settings=types.PeerSettings(), notify_settings=types.PeerNotifySettings(),
            common_chats_count=0, blocked=bool(rec and rec.blocked),
        )
        return types.users.UserFull(full_user=full, chats=[], users=[view])

    def _rq_ResolveUsernameRequest(self, sender, r):
        wanted = r.username.lower().lstrip("@")
        for user in itertools.chain([self.bot], self.users.values()):
            if user.username and user.username.lower() == wanted:
                view = self._bot_self() if user is self.bot else user.tl()
                return types.contacts.ResolvedPeer(peer=types.PeerUser(user.id), chats=[], users=[view])
        raise TgError(400, "USERNAME_NOT_OCCUPIED")

    # ---------------------------------------------------------------- bot settings

    def _scope_key(self, scope: Any) -> tuple:
        if isinstance(scope, type):
            return (scope.__name__,)
        peer = getattr(scope, "peer", None)
        user_id = getattr(scope, "user_id", None)
        key = [type(scope).__name__]
        if peer is not None:
            key.append(getattr(peer, "user_id", None) or getattr(peer, "chat_id", None)
                       or getattr(peer, "channel_id", None))
        if user_id is not None:
            key.append(getattr(user_id, "user_id", user_id))
        return tuple(key)

    def _rq_SetBotCommandsRequest(self, sender, r):
        if not _LANG_RE.match(r.lang_code or ""):
            raise TgError(400, "LANG_CODE_INVALID")
        if len(r.commands) > self.limits.commands_max:
            raise TgError(400, "BOT_COMMANDS_TOO_MUCH")
        for cmd in r.commands:
            if not _COMMAND_RE.match(cmd.command):
                raise TgError(400, "BOT_COMMAND_INVALID")
            if not 1 <= len(cmd.description) <= 256:
                raise TgError(400, "BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope_key(r.scope), r.lang_code or "")
        if r.commands:
            self.commands[key] = [(c.command, c.description) for c in r.commands]
        else:
            self.commands.pop(key, None)
        return True

    def _rq_ResetBotCommandsRequest(self, sender, r):
        self.commands.pop((self._scope_key(r.scope), r.lang_code or ""), None)
        return True

    def _rq_GetBotCommandsRequest(self, sender, r):
        found = self.commands.get((self._scope_key(r.scope), r.lang_code or "")) or []
        return [types.BotCommand(command=c, description=d) for c, d in found]

    def _rq_SetBotInfoRequest(self, sender, r):
        if not _LANG_RE.match(r.lang_code or ""):
            raise TgError(400, "LANG_CODE_INVALID")
        info = self.bot_info.setdefault(r.lang_code or "", {})
        for field in ("name", "about", "description"):
            value = getattr(r, field)
            if value is not None:
                info[field] = value
        return True

    def _rq_GetBotInfoRequest(self, sender, r):
        info = self.bot_info.get(r.lang_code or "", {})
        return types.bots.BotInfo(
            name=info.get("name") or self.bot.first_name, about=info.get("about") or "",
            description=info.get("description") or "",
        )

    def user_blocks(self, user: UserRecord, *, blocked: bool = True) -> None:
        if user.blocked == blocked:
            return
        user.blocked = blocked
        update = self._log_qts(types.UpdateBotStopped(user_id=user.id, date=self._date(), stopped=blocked, qts=0))
        self._push([update], [user])
