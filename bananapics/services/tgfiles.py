"""Telegram file references of stored images: upload once, send by reference afterwards.

A reference is plain data (media id, access hash, file reference bytes) so this service stays free of
Telethon; the bot turns it into ``InputPhoto``/``InputDocument``. A reference Telegram no longer
accepts (``FILE_REFERENCE_EXPIRED``, a new bot account …) is :func:`forget`-ed and the image is
uploaded again.
"""

from __future__ import annotations

from dataclasses import dataclass

from bananapics.db import atomic, connection
from bananapics.models import TgFile, utcnow

KINDS = ("photo", "document")


@dataclass(frozen=True)
class FileRef:
    media_id: int
    access_hash: int
    file_reference: bytes


def get(storage_key: str, kind: str) -> FileRef | None:
    with connection():
        row = TgFile.get_or_none((TgFile.storage_key == storage_key) & (TgFile.kind == kind))
    return FileRef(row.media_id, row.access_hash, bytes(row.file_reference)) if row else None


def known(storage_key: str) -> bool:
    """Telegram has this image already, as a photo or as a file."""
    with connection():
        return TgFile.select(TgFile.id).where(TgFile.storage_key == storage_key).limit(1).exists()


def remember(storage_key: str, kind: str, ref: FileRef) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    now = utcnow()
    with atomic():
        TgFile.insert(storage_key=storage_key, kind=kind, media_id=ref.media_id, access_hash=ref.access_hash,
                      file_reference=ref.file_reference, created_at=now, updated_at=now).on_conflict(
            conflict_target=[TgFile.storage_key, TgFile.kind],
            update={TgFile.media_id: ref.media_id, TgFile.access_hash: ref.access_hash,
                    TgFile.file_reference: ref.file_reference, TgFile.updated_at: now}).execute()


def forget(storage_key: str, kind: str) -> None:
    with atomic():
        TgFile.delete().where((TgFile.storage_key == storage_key) & (TgFile.kind == kind)).execute()


def forget_keys(storage_keys: list[str]) -> None:
    """Every reference (photo and file) of these images: they are deleted from storage."""
    if storage_keys:
        with atomic():
            TgFile.delete().where(TgFile.storage_key.in_(storage_keys)).execute()

