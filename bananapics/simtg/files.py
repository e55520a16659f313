"""Files and media: uploads in parts, photos and documents, ``InputMedia*`` → ``MessageMedia*``,
downloads and file references."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, Any, Optional

from telethon.tl import types

from .accounts import DC_ID
from .errors import NotSimulatedError, TgError
from .records import StoredFile

if TYPE_CHECKING:  # pragma: no cover
    from .client import SimSender

try:  # Pillow is optional: it only gives photos their real width/height.
    from PIL import Image as _PILImage
except ImportError:  # pragma: no cover - Pillow is a project dependency
    _PILImage = None


class FilesMixin:
    """Uploaded parts, stored photos and documents, media conversion and downloads."""

    def file_bytes(self, media: Any) -> Optional[bytes]:
        """The bytes behind a ``MessageMedia*``/``Photo``/``Document`` (or ``None``)."""
        obj = media
        if isinstance(obj, types.MessageMediaPhoto):
            obj = obj.photo
        elif isinstance(obj, types.MessageMediaDocument):
            obj = obj.document
        stored = self.files.get(getattr(obj, "id", None))
        return stored.data if stored else None

    def expire_file_references(self) -> int:
        """File references expire on Telegram (they are short-lived tokens): give every stored file a
        new one. Sending or downloading with an old reference then fails with
        ``FILE_REFERENCE_EXPIRED``; messages the server returns carry the new one. Returns the count."""
        for stored in self.files.values():
            self._expired_refs.add(stored.file_reference)
            stored.file_reference = self._rnd.getrandbits(64).to_bytes(8, "little") + b"\x02"
            stored.tl.file_reference = stored.file_reference
        return len(self.files)

    def _check_reference(self, given: bytes, stored: StoredFile) -> None:
        if given != stored.file_reference:
            raise TgError(400, "FILE_REFERENCE_EXPIRED" if given in self._expired_refs else "FILE_REFERENCE_INVALID")
    # ---------------------------------------------------------------- files

    def _upload_key(self, sender: "SimSender", file_id: int) -> tuple[bytes, int]:
        return (sender.auth_key.key_id, file_id)

    def _assemble(self, sender: "SimSender", input_file: Any) -> tuple[bytes, str]:
        if not isinstance(input_file, (types.InputFile, types.InputFileBig)):
            raise NotSimulatedError(f"simtg does not simulate {type(input_file).__name__} uploads")
        key = self._upload_key(sender, input_file.id)
        parts = self._uploads.get(key)
        if not parts:
            raise TgError(400, "FILE_PARTS_INVALID")
        if input_file.parts <= 0:
            raise TgError(400, "FILE_PARTS_INVALID")
        for i in range(input_file.parts):
            if i not in parts:
                raise TgError(400, f"FILE_PART_{i}_MISSING")
        data = b"".join(parts[i] for i in range(input_file.parts))
        if isinstance(input_file, types.InputFile) and input_file.md5_checksum:
            if hashlib.md5(data).hexdigest() != input_file.md5_checksum.lower():
                raise TgError(400, "MD5_CHECKSUM_INVALID")
        return data, input_file.name

    def _new_file_ids(self) -> tuple[int, int, bytes]:
        return self._rand63(), self._rand63(), self._rnd.getrandbits(64).to_bytes(8, "little") + b"\x01"

    def make_photo(self, data: bytes) -> StoredFile:
        """Store ``data`` as a photo (unmodified: no server-side recompression is simulated)."""
        width, height = _image_size(data)
        if width <= 0 or height <= 0:
            raise TgError(400, "IMAGE_PROCESS_FAILED")
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise TgError(400, "PHOTO_INVALID_DIMENSIONS")
        pid, ahash, ref = self._new_file_ids()
        longest = max(width, height)
        letter = "m" if longest <= 320 else "x" if longest <= 800 else "y" if longest <= 1280 else "w"
        photo = types.Photo(
            id=pid, access_hash=ahash, file_reference=ref, date=self._date(),
            sizes=[types.PhotoSize(type=letter, w=width, h=height, size=len(data))], dc_id=DC_ID,
        )
        stored = StoredFile("photo", pid, ahash, ref, data, photo)
        self.files[pid] = stored
        return stored

    def make_document(self, data: bytes, mime_type: str, attributes: list) -> StoredFile:
        did, ahash, ref = self._new_file_ids()
        name = next((a.file_name for a in attributes if isinstance(a, types.DocumentAttributeFilename)), None)
        doc = types.Document(
            id=did, access_hash=ahash, file_reference=ref, date=self._date(),
            mime_type=mime_type or "application/octet-stream", size=len(data), dc_id=DC_ID,
            attributes=list(attributes),
        )
        stored = StoredFile("document", did, ahash, ref, data, doc, name=name, mime_type=doc.mime_type)
        self.files[did] = stored
        return stored

    def _stored_input(self, ref: Any, kind: str) -> StoredFile:
        stored = self.files.get(getattr(ref, "id", None))
        if stored is None or stored.kind != kind or ref.access_hash != stored.access_hash:
            raise TgError(400, "MEDIA_INVALID")
        self._check_reference(ref.file_reference, stored)
        return stored

    def _media(self, sender: "SimSender", media: Any) -> Any:
        """``InputMedia*`` → ``MessageMedia*`` (uploading/looking up the file)."""
        if isinstance(media, types.InputMediaUploadedPhoto):
            data, _ = self._assemble(sender, media.file)
            return types.MessageMediaPhoto(photo=self.make_photo(data).tl, spoiler=media.spoiler)
        if isinstance(media, types.InputMediaUploadedDocument):
            data, name = self._assemble(sender, media.file)
            attributes = list(media.attributes or [])
            if name and not any(isinstance(a, types.DocumentAttributeFilename) for a in attributes):
                attributes.append(types.DocumentAttributeFilename(name))
            stored = self.make_document(data, media.mime_type, attributes)
            return types.MessageMediaDocument(document=stored.tl, spoiler=media.spoiler)
        if isinstance(media, types.InputMediaPhoto):
            if not isinstance(media.id, types.InputPhoto):
                raise TgError(400, "MEDIA_EMPTY")
            return types.MessageMediaPhoto(photo=self._stored_input(media.id, "photo").tl, spoiler=media.spoiler)
        if isinstance(media, types.InputMediaDocument):
            if not isinstance(media.id, types.InputDocument):
                raise TgError(400, "MEDIA_EMPTY")
            return types.MessageMediaDocument(document=self._stored_input(media.id, "document").tl,
                                              spoiler=media.spoiler)
        if isinstance(media, types.InputMediaEmpty):
            raise TgError(400, "MEDIA_EMPTY")
        raise NotSimulatedError(f"simtg does not simulate {type(media).__name__} (no network, no other media)")

    def _rq_UploadMediaRequest(self, sender, r):
        self._input_user(r.peer)
        if isinstance(r.media, (types.InputMediaUploadedPhoto, types.InputMediaUploadedDocument,
                                types.InputMediaPhoto, types.InputMediaDocument)):
            return self._media(sender, r.media)
        raise NotSimulatedError(f"simtg does not simulate uploadMedia({type(r.media).__name__})")
    # ---------------------------------------------------------------- uploads and downloads

    def _rq_SaveFilePartRequest(self, sender, r):
        if not 0 <= r.file_part < 4000:
            raise TgError(400, "FILE_PART_INVALID")
        if not r.bytes:
            raise TgError(400, "FILE_PART_EMPTY")
        if len(r.bytes) > 512 * 1024:
            raise TgError(400, "FILE_PART_TOO_BIG")
        self._uploads.setdefault(self._upload_key(sender, r.file_id), {})[r.file_part] = r.bytes
        return True

    def _rq_SaveBigFilePartRequest(self, sender, r):
        key = self._upload_key(sender, r.file_id)
        if not 0 <= r.file_part < r.file_total_parts <= 8000:
            raise TgError(400, "FILE_PART_INVALID")
        if self._big_uploads.setdefault(key, r.file_total_parts) != r.file_total_parts:
            raise TgError(400, "FILE_PARTS_INVALID")
        if not r.bytes:
            raise TgError(400, "FILE_PART_EMPTY")
        if len(r.bytes) > 512 * 1024:
            raise TgError(400, "FILE_PART_TOO_BIG")
        self._uploads.setdefault(key, {})[r.file_part] = r.bytes
        return True

    def _rq_GetFileRequest(self, sender, r):
        loc = r.location
        if isinstance(loc, types.InputPhotoFileLocation):
            stored = self.files.get(loc.id)
            if stored is None or stored.kind != "photo" or stored.access_hash != loc.access_hash:
                raise TgError(400, "FILE_ID_INVALID")
            if not any(getattr(s, "type", None) == loc.thumb_size for s in stored.tl.sizes):
                raise TgError(400, "LOCATION_INVALID")
        elif isinstance(loc, types.InputDocumentFileLocation):
            stored = self.files.get(loc.id)
            if stored is None or stored.kind != "document" or stored.access_hash != loc.access_hash:
                raise TgError(400, "FILE_ID_INVALID")
            if loc.thumb_size:
                raise TgError(400, "LOCATION_INVALID")  # no document thumbnails are simulated
        else:
            raise NotSimulatedError(f"simtg does not simulate downloads from {type(loc).__name__}")
        self._check_reference(loc.file_reference, stored)
        unit = 1024 if r.precise else 4096
        if r.limit <= 0 or r.limit > 1024 * 1024 or r.limit % unit or (not r.precise and (1024 * 1024) % r.limit):
            raise TgError(400, "LIMIT_INVALID")
        if r.offset < 0 or r.offset % unit:
            raise TgError(400, "OFFSET_INVALID")
        if not r.precise and r.offset // (1024 * 1024) != (r.offset + r.limit - 1) // (1024 * 1024):
            raise TgError(400, "LIMIT_INVALID")
        return types.upload.File(
            type=types.storage.FileUnknown(), mtime=int(self.now()),
            bytes=stored.data[r.offset:r.offset + r.limit],
        )


def _image_size(data: bytes) -> tuple[int, int]:
    if _PILImage is None:  # pragma: no cover - Pillow is a dependency of the project
        return 512, 512
    try:
        with _PILImage.open(io.BytesIO(data)) as img:
            img.verify()
            return img.size
    except Exception:
        return 0, 0
