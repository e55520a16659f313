"""One routing shape for every feature module (``bananapics.bot.<area>``).

* Buttons: the module declares ``ACTIONS``, a table from a declared callback route
  ``(screen, action)`` (``callbacks.ROUTES``) to a module-level handler ``handler(press)`` that
  returns ``(Screen, toast or None)``. Handlers run in the update's one thread hop (synchronous
  service and screen code), or on the event loop when they are coroutine functions (they may send
  messages themselves). A press the table does not serve — or a handler raising
  :class:`~bananapics.bot.callbacks.StaleButton` or ``PermissionDenied`` — gets the one "this button
  is outdated" answer.
* Typed text: ``TEXT_STEPS``, a table from a conversation step name (``services.conversation``) to
  ``handler(text_input) -> Screen``. A message goes to the step the user was last asked for, else to
  the wizard's prompt (:data:`PROMPT`). A step whose service refuses the user's role
  (``PermissionDenied``: demoted since they were asked) is dropped and the text is the prompt.
* One ``register(bot)`` per module adds both tables (``bot.add_actions``, ``bot.add_text_steps``)
  and the module's commands, deep links and outbox kinds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bananapics.bot.callbacks import Callback
from bananapics.bot.ui import Screen

PROMPT = "gen.prompt"  # the text step of a user nobody asked anything else: the wizard's prompt


@dataclass(frozen=True)
class Press:
    """A decoded button press as its handler sees it."""

    bot: Any
    user_id: int
    chat_id: int
    cb: Callback

    @property
    def args(self) -> tuple[Any, ...]:
        return self.cb.args

    def to(self, screen: str, action: str, *args: Any) -> "Press":
        """The same press, for another route (a handler that shows another module's screen)."""
        return Press(self.bot, self.user_id, self.chat_id, Callback(screen, action, args))


@dataclass(frozen=True)
class TextInput:
    """A typed message as the text step's handler sees it (``data``: what the asking screen left)."""

    bot: Any
    user_id: int
    chat_id: int
    text: str
    step: str = PROMPT
    data: dict[str, Any] = field(default_factory=dict)


Answer = tuple[Screen, str | None]
Handler = Callable[[Press], Answer | Awaitable[Answer]]
TextHandler = Callable[[TextInput], Screen]
