"""Modal dialogs: :class:`ReasonConfirm` (reason + exact effect), :class:`AskValue`, :class:`Choose`."""

from bananapics.tui.dialogs.ask_value import AskValue
from bananapics.tui.dialogs.choose import Choose
from bananapics.tui.dialogs.reason_confirm import ReasonConfirm

__all__ = ["AskValue", "Choose", "ReasonConfirm"]
