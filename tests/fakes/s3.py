"""A real S3-speaking server on loopback for tests: moto's server mode in a thread.

    with MotoS3() as s3:
        cfg = s3.config(s3.new_bucket())   # a StorageConfig(backend="s3", ...) for make_storage

Every bucket name is fresh, so tests sharing one server stay isolated. The credentials are dummies:
moto accepts any, but the client still signs every request like against AWS.
"""

from __future__ import annotations

import uuid

from bananapics.config import SecretStr

from bananapics.config import StorageConfig

ACCESS_KEY = "AKIATESTACCESSKEY0001"
SECRET_KEY = "test-secret-key-never-printed-0123456789"
REGION = "us-east-1"


class MotoS3:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""
        self._client = None

    def start(self) -> MotoS3:
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> MotoS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self):
        if self._client is None:
            import boto3

            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint, region_name=REGION,
                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        return self._client

    def new_bucket(self) -> str:
        name = f"test-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name

    def config(self, bucket: str) -> StorageConfig:
        return StorageConfig(backend="s3", s3_endpoint=self.endpoint, s3_bucket=bucket, s3_region=REGION,
                             s3_access_key=SecretStr(ACCESS_KEY), s3_secret_key=SecretStr(SECRET_KEY))
