"""Object storage for images: a local directory or any S3-speaking service (``ARCHITECTURE.md`` §5).

Job rows hold only keys; the bytes live here. Keys are ``/``-separated names made of
``[A-Za-z0-9_.-]`` (no ``..``, no leading ``/`` or ``.`` in a segment), built with
:func:`job_output_key` and :func:`reference_key`::

    jobs/<job_id>/<n>.<ext>          generated images
    refs/<user_id>/<digest>.<ext>    re-encoded reference images (see bananapics.images)

Every failure is a :class:`StorageError` (a missing object: :class:`ObjectNotFound`) whose message
names the operation and the key, never a credential. ``purge_older_than`` implements the retention
limit (``reliability.md`` §5) and ``delete_prefix(user_references_prefix(uid))`` a deletion request.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import time
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable

from bananapics.config import StorageConfig
from bananapics.errors import BananaError, ConfigError

log = logging.getLogger(__name__)

KEY_MAX = 512
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9_.-]*"
_KEY_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_PREFIX_RE = re.compile(rf"(?:{_SEGMENT}(?:/{_SEGMENT})*/?)?")
_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DIGEST_RE = re.compile(r"[0-9a-f]{8,128}")
_EXT_RE = re.compile(r"[a-z0-9]{1,5}")
JOBS_PREFIX = "jobs/"
REFS_PREFIX = "refs/"
_TMP_PREFIX = ".tmp-"
DAY = 86400.0


class StorageError(BananaError):
    """The storage backend failed or refused a key; the message names operation and key only."""

    code = "storage"


class ObjectNotFound(StorageError):
    code = "storage_not_found"


# ---------------------------------------------------------------- keys


def validate_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > KEY_MAX or ".." in key or not _KEY_RE.fullmatch(key):
        raise StorageError(f"invalid storage key {key!r:.80}", title="bad_key")
    return key


def validate_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or len(prefix) > KEY_MAX or ".." in prefix or not _PREFIX_RE.fullmatch(prefix):
        raise StorageError(f"invalid storage prefix {prefix!r:.80}", title="bad_key")
    return prefix


def _ext(ext: str) -> str:
    ext = ext.lower().lstrip(".")
    if not _EXT_RE.fullmatch(ext):
        raise StorageError(f"invalid file extension {ext!r:.20}", title="bad_key")
    return ext


def job_output_key(job_id: str, n: int, ext: str) -> str:
    """``jobs/<job_id>/<n>.<ext>``: the n-th (0-based) image a job produced."""
    if not _ID_RE.fullmatch(str(job_id)) or not isinstance(n, int) or n < 0:
        raise StorageError(f"invalid job output key parts ({job_id!r:.80}, {n!r})", title="bad_key")
    return f"{JOBS_PREFIX}{job_id}/{n}.{_ext(ext)}"


def reference_key(user_id: int, digest: str, ext: str) -> str:
    """``refs/<user_id>/<digest>.<ext>``: content-addressed, so the same upload is stored once."""
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not _DIGEST_RE.fullmatch(str(digest)):
        raise StorageError(f"invalid reference key parts ({user_id!r}, {digest!r:.80})", title="bad_key")
    return f"{REFS_PREFIX}{user_id}/{digest}.{_ext(ext)}"


def user_references_prefix(user_id: int) -> str:
    """Everything stored for one user's reference images (for a deletion request)."""
    return f"{REFS_PREFIX}{int(user_id)}/"


# ---------------------------------------------------------------- protocol


@runtime_checkable
class Storage(Protocol):
    def put(self, key: str, data: bytes, mime: str = "application/octet-stream") -> None:
        """Store (or atomically replace) an object."""

    def get(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFound if there is none."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove an object; no error when it does not exist."""

    def list(self, prefix: str = "") -> list[str]:
        """Sorted keys starting with ``prefix`` (plain string prefix, as in S3)."""

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix`` (which must not be empty); returns how many."""

    def purge_older_than(self, days: float, *, prefix: str = "", now: float | None = None) -> int:
        """Retention: remove objects last written more than ``days`` ago; returns how many."""

    def check(self) -> str | None:
        """None when the backend answers, else a one-line reason (for `bananapics status`)."""


def _require_prefix(prefix: str) -> str:
    validate_prefix(prefix)
    if not prefix:
        raise StorageError("delete_prefix needs a non-empty prefix", title="bad_key")
    return prefix


def _cutoff(days: float, now: float | None) -> float:
    if days < 0:
        raise StorageError("retention days must not be negative", title="bad_retention")
    return (time.time() if now is None else now) - days * DAY


# ---------------------------------------------------------------- local directory


class LocalStorage:
    """Files under ``root``; writes go to a temp file in the same directory, then ``os.replace``.

    Files are created 0600 and directories 0700: reference images are personal data.
    """

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = self.root / key
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):  # a symlink planted inside the root
            raise StorageError(f"storage key {key!r} leaves the storage root", title="bad_key")
        return path

    def _fail(self, op: str, key: str, exc: OSError) -> StorageError:
        return StorageError(f"local storage {op} {key!r}: {exc.strerror or type(exc).__name__}")

    def put(self, key: str, data: bytes, mime: str = "application/octet-stream") -> None:
        path = self._path(key)
        for attempt in range(3):  # a concurrent purge may remove the (empty) directory in between
            tmp = path.with_name(f"{_TMP_PREFIX}{uuid.uuid4().hex}")
            try:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
                try:
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(data)
                        fh.flush()
                        if self.fsync:
                            os.fsync(fh.fileno())
                    os.replace(tmp, path)
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
                if self.fsync:
                    self._fsync_dir(path.parent)
                return
            except FileNotFoundError as exc:
                if attempt == 2:
                    raise self._fail("put", key, exc) from None
            except OSError as exc:
                raise self._fail("put", key, exc) from None

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(f"no stored object {key!r}", title="not_found") from None
        except OSError as exc:
            raise self._fail("get", key, exc) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except (IsADirectoryError, NotADirectoryError):
            return
        except OSError as exc:
            raise self._fail("delete", key, exc) from None
        self._prune_dirs(path.parent)

    def _prune_dirs(self, directory: Path) -> None:
        """Remove now-empty directories up to (not including) the root."""
        root = self.root.resolve()
        current = directory.resolve()
        while current != root and current.is_relative_to(root):
            try:
                current.rmdir()
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                    log.debug("storage: cannot prune %s: %s", current, exc.strerror)
                if exc.errno != errno.ENOENT:
                    return
            current = current.parent

    def _walk(self, prefix: str) -> list[tuple[str, Path]]:
        """(key, path) of every object whose key starts with ``prefix``; temp files are skipped."""
        validate_prefix(prefix)
        base = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        found = []
        if not base.is_dir():
            return found
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix) and _KEY_RE.fullmatch(key):
                    found.append((key, path))
        found.sort()
        return found

    def list(self, prefix: str = "") -> list[str]:
        try:
            return [key for key, _ in self._walk(prefix)]
        except OSError as exc:
            raise self._fail("list", prefix, exc) from None

    def delete_prefix(self, prefix: str) -> int:
        _require_prefix(prefix)
        count = 0
        for key, _path in self._walk(prefix):
            self.delete(key)
            count += 1
        return count

    def purge_older_than(self, days: float, *, prefix: str = "", now: float | None = None) -> int:
        cutoff = _cutoff(days, now)
        count = 0
        for key, path in self._walk(prefix):
            try:
                if path.stat().st_mtime < cutoff:
                    self.delete(key)
                    count += 1
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise self._fail("purge", key, exc) from None
        self._purge_stale_temp((time.time() if now is None else now) - DAY)
        return count

    def _purge_stale_temp(self, cutoff: float) -> None:
        """Temp files left behind by a crash in the middle of ``put``."""
        if not self.root.is_dir():
            return
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in filenames:
                if name.startswith(_TMP_PREFIX):
                    path = Path(dirpath) / name
                    try:
                        if path.stat().st_mtime < cutoff:
                            path.unlink()
                    except OSError:
                        continue

    def check(self) -> str | None:
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            probe = self.root / f"{_TMP_PREFIX}check-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            return f"local storage {self.root}: {exc.strerror or type(exc).__name__}"
        return None


# ---------------------------------------------------------------- S3


class S3Storage:
    """Objects in one bucket of an S3-compatible service (AWS, MinIO, R2, Ceph …) through boto3.

    Credentials are passed in explicitly (from ``StorageConfig``'s secrets); they are handed to the
    boto3 client and not kept on this object. A custom endpoint uses path-style addressing.
    """

    page_size = 1000  # list_objects_v2 MaxKeys (S3's maximum)
    delete_batch = 1000  # delete_objects accepts at most 1000 keys

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0, max_attempts: int = 3,
                 client=None) -> None:
        if not bucket:
            raise ConfigError('[storage] s3_bucket: required when backend = "s3"')
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        if client is None:
            import boto3
            from botocore.config import Config as BotoConfig

            client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=region or None,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                config=BotoConfig(
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
                    retries={"max_attempts": max_attempts, "mode": "standard"},
                    s3={"addressing_style": "path" if self.endpoint_url else "auto"},
                    max_pool_connections=50,
                    # S3-compatible services (MinIO, R2, Ceph …) do not all accept the default CRC checksums
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
            )
        self.client = client

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, endpoint={self.endpoint_url!r})"

    def _fail(self, op: str, key: str, exc: Exception) -> StorageError:
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code = err.get("Code", "?")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            if op in ("get", "head") and (code in ("NoSuchKey", "404", "NotFound") or status == 404):
                return ObjectNotFound(f"no stored object {key!r}", title="not_found")
            return StorageError(f"s3 {op} {key!r} in bucket {self.bucket!r}: {code} (HTTP {status})")
        # BotoCoreError messages can carry the endpoint URL; the class name is enough to act on.
        return StorageError(f"s3 {op} {key!r} in bucket {self.bucket!r}: {type(exc).__name__}")

    def _errors(self):
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError)

    def put(self, key: str, data: bytes, mime: str = "application/octet-stream") -> None:
        validate_key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(data), ContentType=mime)
        except self._errors() as exc:
            raise self._fail("put", key, exc) from None

    def get(self, key: str) -> bytes:
        validate_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            with response["Body"] as body:
                return body.read()
        except self._errors() as exc:
            raise self._fail("get", key, exc) from None

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except self._errors() as exc:
            err = self._fail("head", key, exc)
            if isinstance(err, ObjectNotFound):
                return False
            raise err from None

    def delete(self, key: str) -> None:
        validate_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except self._errors() as exc:
            raise self._fail("delete", key, exc) from None

    def _objects(self, prefix: str) -> list[dict]:
        validate_prefix(prefix)
        found = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            pages = paginator.paginate(Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": self.page_size})
            for page in pages:
                found.extend(page.get("Contents", []))
        except self._errors() as exc:
            raise self._fail("list", prefix, exc) from None
        found.sort(key=lambda o: o["Key"])
        return found

    def list(self, prefix: str = "") -> list[str]:
        return [obj["Key"] for obj in self._objects(prefix)]

    def _delete_many(self, keys: list[str]) -> int:
        deleted = 0
        for start in range(0, len(keys), self.delete_batch):
            batch = keys[start:start + self.delete_batch]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
            except self._errors() as exc:
                raise self._fail("delete", batch[0], exc) from None
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise StorageError(f"s3 delete {first.get('Key')!r} in bucket {self.bucket!r}: "
                                   f"{first.get('Code', '?')} ({len(errors)} objects not deleted)")
            deleted += len(batch)
        return deleted

    def delete_prefix(self, prefix: str) -> int:
        _require_prefix(prefix)
        return self._delete_many([obj["Key"] for obj in self._objects(prefix)])

    def purge_older_than(self, days: float, *, prefix: str = "", now: float | None = None) -> int:
        cutoff = _cutoff(days, now)
        old = [obj["Key"] for obj in self._objects(prefix) if obj["LastModified"].timestamp() < cutoff]
        return self._delete_many(old)

    def check(self) -> str | None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except self._errors() as exc:
            return str(self._fail("head_bucket", "", exc))
        return None


# ---------------------------------------------------------------- factory


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None and value.get_secret_value() else None


def make_storage(cfg: StorageConfig) -> Storage:
    """The configured backend. S3 needs a bucket and both keys from the config's secrets."""
    if cfg.backend == "local":
        return LocalStorage(cfg.path)
    access, secret = _secret(cfg.s3_access_key), _secret(cfg.s3_secret_key)
    if not cfg.s3_bucket:
        raise ConfigError('[storage] s3_bucket: required when backend = "s3"')
    if access is None or secret is None:
        missing = "s3_access_key" if access is None else "s3_secret_key"
        raise ConfigError(f'[storage] {missing}: required when backend = "s3" '
                          f"(set BANANAPICS_STORAGE__{missing.upper()} or {missing}_file)")
    return S3Storage(cfg.s3_bucket, endpoint_url=cfg.s3_endpoint or None, region=cfg.s3_region or None,
                     access_key=access, secret_key=secret)


def store_reference(storage: Storage, user_id: int, data: bytes) -> str:
    """Validate and re-encode an uploaded image (``images.prepare_reference``) and store it under a
    content-addressed key, so the same photo sent twice is stored once. Returns the key."""
    import hashlib

    from bananapics.images import prepare_reference

    image = prepare_reference(data)
    key = reference_key(user_id, hashlib.sha256(image.data).hexdigest()[:24], image.ext)
    storage.put(key, image.data, image.mime)
    return key
