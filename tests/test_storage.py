"""Storage backends: the same contract on a local directory and on a real S3 server (moto, loopback)."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from bananapics.config import SecretStr

from bananapics.config import StorageConfig
from bananapics.errors import BananaError, ConfigError
from bananapics.storage import (
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    job_output_key,
    make_storage,
    reference_key,
    user_references_prefix,
)
from tests.fakes.s3 import ACCESS_KEY, SECRET_KEY, MotoS3

DAY = 86400


@pytest.fixture(scope="module")
def moto_s3():
    with MotoS3() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path: Path) -> Storage:
    if request.param == "local":
        return make_storage(StorageConfig(backend="local", path=str(tmp_path / "media")))
    server: MotoS3 = request.getfixturevalue("moto_s3")
    return make_storage(server.config(server.new_bucket()))


# ---------------------------------------------------------------- the shared contract


def test_make_storage_picks_the_backend(storage: Storage) -> None:
    assert isinstance(storage, Storage)
    assert isinstance(storage, (LocalStorage, S3Storage))
    assert storage.check() is None


def test_round_trip(storage: Storage) -> None:
    key = job_output_key("a1b2c3", 0, "png")
    assert not storage.exists(key)
    storage.put(key, b"\x89PNG fake bytes", "image/png")
    assert storage.exists(key)
    assert storage.get(key) == b"\x89PNG fake bytes"
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # deleting what is gone is fine


def test_empty_and_binary_objects(storage: Storage) -> None:
    blob = bytes(range(256)) * 1000
    storage.put("jobs/x/0.jpg", blob, "image/jpeg")
    storage.put("jobs/x/1.jpg", b"", "image/jpeg")
    assert storage.get("jobs/x/0.jpg") == blob
    assert storage.get("jobs/x/1.jpg") == b""


def test_missing_object_is_a_typed_error(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound) as info:
        storage.get("refs/1/deadbeef.jpg")
    assert isinstance(info.value, StorageError) and isinstance(info.value, BananaError)
    assert "refs/1/deadbeef.jpg" in str(info.value)


def test_overwrite_replaces_the_content(storage: Storage) -> None:
    storage.put("jobs/j/0.png", b"first version", "image/png")
    storage.put("jobs/j/0.png", b"second", "image/png")
    assert storage.get("jobs/j/0.png") == b"second"
    assert storage.list("jobs/j/") == ["jobs/j/0.png"]


def test_list_and_delete_prefix(storage: Storage) -> None:
    keys = [reference_key(1, "aa" * 12, "jpg"), reference_key(1, "bb" * 12, "png"),
            reference_key(12, "cc" * 12, "jpg"), job_output_key("job1", 0, "png"), job_output_key("job1", 1, "png")]
    for key in keys:
        storage.put(key, key.encode(), "image/jpeg")
    assert storage.list() == sorted(keys)
    assert storage.list("refs/") == sorted(keys[:3])
    assert storage.list(user_references_prefix(1)) == sorted(keys[:2])  # not user 12
    assert storage.list("refs/1") == sorted(keys[:3])  # a plain string prefix, as in S3
    assert storage.list("nothing/") == []

    assert storage.delete_prefix(user_references_prefix(1)) == 2
    assert storage.list() == sorted(keys[2:])
    assert storage.delete_prefix(user_references_prefix(1)) == 0
    with pytest.raises(StorageError):
        storage.delete_prefix("")  # never "delete everything" by accident
    assert storage.list() == sorted(keys[2:])


def test_purge_older_than(storage: Storage) -> None:
    storage.put("refs/5/" + "ab" * 12 + ".jpg", b"x", "image/jpeg")
    storage.put("jobs/old/0.png", b"y", "image/png")
    now = time.time()
    assert storage.purge_older_than(30, now=now) == 0
    assert storage.purge_older_than(30, prefix="refs/", now=now + 31 * DAY) == 1
    assert storage.list() == ["jobs/old/0.png"]
    assert storage.purge_older_than(30, now=now + 31 * DAY) == 1
    assert storage.list() == []
    with pytest.raises(StorageError):
        storage.purge_older_than(-1)


BAD_KEYS = ["", "../etc/passwd", "/etc/passwd", "a/../b", "a/./b", "a//b", "a/", "/", "a\\b", "a b",
            "refs/1/x.jpg\n", ".hidden", "a/.tmp-123", "C:/x", "ü.png", "a" * 600, "..", "a/..", "a..b"]


def test_bad_keys_are_refused(storage: Storage) -> None:
    for key in BAD_KEYS:
        for op in (lambda: storage.put(key, b"x", "image/png"), lambda: storage.get(key),
                   lambda: storage.exists(key), lambda: storage.delete(key)):
            with pytest.raises(StorageError) as info:
                op()
            assert info.value.title == "bad_key", key
    for prefix in ("../", "/abs/", "a/../", "a//", "a b/"):
        for op in (storage.list, storage.delete_prefix, lambda p: storage.purge_older_than(0, prefix=p)):
            with pytest.raises(StorageError):
                op(prefix)
    assert storage.list() == []


def test_concurrent_writers_and_readers(storage: Storage) -> None:
    key = "jobs/race/0.png"
    versions = [bytes([n]) * 200_000 for n in range(1, 5)]
    storage.put(key, versions[0], "image/png")
    seen, errors = set(), []

    def write(n: int) -> None:
        try:
            for _ in range(5):
                storage.put(key, versions[n], "image/png")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(10):
                seen.add(storage.get(key))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)] + [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert seen <= set(versions)  # never a torn or partial file
    assert storage.get(key) in versions


# ---------------------------------------------------------------- key helpers


def test_key_helpers() -> None:
    assert job_output_key("0123abcd", 2, "PNG") == "jobs/0123abcd/2.png"
    assert job_output_key("j", 0, ".jpg") == "jobs/j/0.jpg"
    assert reference_key(42, "0f" * 12, "jpg") == "refs/42/" + "0f" * 12 + ".jpg"
    assert user_references_prefix(42) == "refs/42/"
    for bad in [lambda: job_output_key("../x", 0, "png"), lambda: job_output_key("a/b", 0, "png"),
                lambda: job_output_key("j", -1, "png"), lambda: job_output_key("j", 0, "p/ng"),
                lambda: reference_key(1, "not-hex", "jpg"), lambda: reference_key("1", "ab" * 8, "jpg"),
                lambda: reference_key(1, "ab" * 8, "../x")]:
        with pytest.raises(StorageError):
            bad()


# ---------------------------------------------------------------- local specifics


def test_local_files_are_private_and_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put("refs/1/" + "ab" * 12 + ".jpg", b"original", "image/jpeg")
    path = tmp_path / "media" / "refs" / "1" / ("ab" * 12 + ".jpg")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StorageError) as info:
        store.put("refs/1/" + "ab" * 12 + ".jpg", b"new content", "image/jpeg")
    assert "No space left on device" in str(info.value)
    monkeypatch.undo()
    assert path.read_bytes() == b"original"  # the old version survives a failed write
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left


def test_local_ignores_and_purges_stale_temp_files(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put("jobs/a/0.png", b"x", "image/png")
    stale = tmp_path / "jobs" / "a" / ".tmp-deadbeef"
    fresh = tmp_path / "jobs" / "a" / ".tmp-cafe"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"in progress")
    old = time.time() - 2 * DAY
    os.utime(stale, (old, old))
    assert store.list() == ["jobs/a/0.png"]
    assert store.purge_older_than(30) == 0
    assert not stale.exists() and fresh.exists()


def test_local_retention_by_mtime_prunes_empty_dirs(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    old_keys = ["refs/1/" + "aa" * 12 + ".jpg", "jobs/old/0.png", "jobs/old/1.png"]
    new_keys = ["refs/1/" + "bb" * 12 + ".jpg", "jobs/new/0.png"]
    for key in old_keys + new_keys:
        store.put(key, b"data", "image/png")
    past = time.time() - 40 * DAY
    for key in old_keys:
        os.utime(tmp_path / key, (past, past))
    assert store.purge_older_than(30) == 3
    assert store.list() == sorted(new_keys)
    assert not (tmp_path / "jobs" / "old").exists()
    assert (tmp_path / "refs" / "1").is_dir()


def test_local_refuses_symlink_escape(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"not yours")
    root = tmp_path / "media"
    root.mkdir()
    (root / "jobs").symlink_to(outside)
    store = LocalStorage(root)
    with pytest.raises(StorageError):
        store.get("jobs/secret.png")
    with pytest.raises(StorageError):
        store.put("jobs/new.png", b"x", "image/png")
    assert not (outside / "new.png").exists()


def test_local_check_reports_an_unusable_root(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    assert LocalStorage(blocker / "media").check() is not None


# ---------------------------------------------------------------- S3 specifics


def test_s3_stores_the_content_type(moto_s3: MotoS3) -> None:
    bucket = moto_s3.new_bucket()
    store = make_storage(moto_s3.config(bucket))
    store.put("jobs/ct/0.webp", b"RIFF....WEBP", "image/webp")
    head = moto_s3.client().head_object(Bucket=bucket, Key="jobs/ct/0.webp")
    assert head["ContentType"] == "image/webp"


def test_s3_list_pages_and_delete_batches(moto_s3: MotoS3) -> None:
    store = make_storage(moto_s3.config(moto_s3.new_bucket()))
    store.page_size, store.delete_batch = 5, 7  # S3 caps both at 1000; small here to exercise the loops
    keys = sorted(f"jobs/many/{n}.png" for n in range(23))
    for key in keys:
        store.put(key, b"", "image/png")
    assert store.list("jobs/many/") == keys
    assert store.purge_older_than(1, now=time.time() + 2 * DAY) == 23
    assert store.list() == []


def test_s3_errors_name_no_secret(moto_s3: MotoS3) -> None:
    store = make_storage(moto_s3.config("bucket-that-does-not-exist"))
    with pytest.raises(StorageError) as info:
        store.put("jobs/x/0.png", b"x", "image/png")
    assert "NoSuchBucket" in str(info.value)
    assert store.check() is not None
    for text in (str(info.value), repr(store), store.check()):
        assert SECRET_KEY not in text and ACCESS_KEY not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_s3_unreachable_endpoint_is_a_storage_error() -> None:
    store = S3Storage("bucket", endpoint_url="http://127.0.0.1:9", region="us-east-1",
                      access_key=ACCESS_KEY, secret_key=SECRET_KEY, connect_timeout=0.5, max_attempts=1)
    started = time.monotonic()
    with pytest.raises(StorageError) as info:
        store.get("jobs/x/0.png")
    assert time.monotonic() - started < 5
    assert "EndpointConnectionError" in str(info.value)
    assert SECRET_KEY not in str(info.value)


def test_make_storage_s3_needs_bucket_and_keys() -> None:
    with pytest.raises(ConfigError, match="s3_bucket"):
        make_storage(StorageConfig(backend="s3", s3_access_key=SecretStr("a"), s3_secret_key=SecretStr("b")))
    with pytest.raises(ConfigError, match="s3_secret_key") as info:
        make_storage(StorageConfig(backend="s3", s3_bucket="b", s3_access_key=SecretStr("visible-access-key")))
    assert "visible-access-key" not in str(info.value)
    with pytest.raises(ConfigError, match="s3_access_key"):
        make_storage(StorageConfig(backend="s3", s3_bucket="b", s3_secret_key=SecretStr("")))
