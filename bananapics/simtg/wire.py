"""Wire helpers: results serialised as Telegram puts them in ``rpc_result``, TL round trips."""

from __future__ import annotations

import struct
from typing import Any

from telethon.extensions import BinaryReader

_VECTOR = 0x1CB5C415
_BOOL_TRUE = 0x997275B5
_BOOL_FALSE = 0xBC799737


def serialize_result(obj: Any) -> bytes:
    """Serialise a result the way Telegram would put it in ``rpc_result``."""
    if obj is True:
        return struct.pack("<I", _BOOL_TRUE)
    if obj is False:
        return struct.pack("<I", _BOOL_FALSE)
    if isinstance(obj, list):
        return struct.pack("<Ii", _VECTOR, len(obj)) + b"".join(serialize_result(x) for x in obj)
    return bytes(obj)


def wire_copy(obj: Any) -> Any:
    """A TL object after a trip over the wire (a fresh, decoded copy)."""
    with BinaryReader(bytes(obj)) as reader:
        return reader.tgread_object()


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
