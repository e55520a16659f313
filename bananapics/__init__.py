"""BananaPicsBot: AI image generation sold for Telegram Stars, with a terminal operator console."""

__version__ = "0.1.0"
