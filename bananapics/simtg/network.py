"""A network between the bot and the simulated Telegram: round-trip time, upload bandwidth, slow chats.

By default the simulator answers one event-loop hop after a request (``Network`` absent or all
zero), so tests stay fast. With a :class:`Network` set on :class:`~bananapics.simtg.FakeTelegram`
(``FakeTelegram(network=Network(rtt=0.15, upload_bytes_per_s=10e6))`` or ``tg.network = …``) each
request is answered the way a real connection would:

* on the way up it takes half the round trip plus its size on the wire divided by the upload
  bandwidth (a 128 KiB ``upload.saveFilePart`` at 10 MB/s: 13 ms), then Telegram handles it (rate
  limits are checked at that moment, on the server's clock);
* the answer takes the other half of the round trip back;
* a request towards a *slow chat* (``slow_chats``: user id → extra seconds; any request whose
  ``peer`` is that user) arrives that much later, as if Telegram took seconds for that chat.

Each request has its own path (requests are concurrent, as over several connections: there is no
shared uplink that uploads queue on). Delays are real time (``loop.call_later``), so use the real
clock (the default) when a network is set: a ``ManualClock`` would not move while requests travel.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class Network:
    rtt: float = 0.0  # seconds for a request to reach Telegram and its answer to come back
    upload_bytes_per_s: float = 0.0  # 0: no bandwidth limit; else a request's bytes take bytes / this
    slow_chats: dict[int, float] = dataclasses.field(default_factory=dict)  # user id → extra seconds

    @property
    def active(self) -> bool:
        return self.rtt > 0 or self.upload_bytes_per_s > 0 or bool(self.slow_chats)

    def slow_chat(self, user_id: int, seconds: float = 3.0) -> None:
        """Every request towards ``user_id``'s chat takes ``seconds`` longer (0 removes it)."""
        if seconds > 0:
            self.slow_chats[user_id] = float(seconds)
        else:
            self.slow_chats.pop(user_id, None)

    def delays(self, request: Any, size: int) -> tuple[float, float]:
        """(seconds until Telegram handles the request, seconds until its answer is back after that)."""
        up = self.rtt / 2
        if self.upload_bytes_per_s > 0:
            up += size / self.upload_bytes_per_s
        if self.slow_chats:
            peer = getattr(_unwrap(request), "peer", None)
            user_id = getattr(peer, "user_id", None)
            up += self.slow_chats.get(user_id, 0.0) if user_id is not None else 0.0
        return up, self.rtt / 2


def _unwrap(request: Any) -> Any:
    """The request inside Telethon's wrappers (``invokeWithLayer``, ``initConnection`` …)."""
    while hasattr(request, "query"):
        request = request.query
    return request
