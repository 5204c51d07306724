"""Where uploaded files live: a local directory (default) or S3-compatible object storage.

Keys are ids we make; a client's file name never reaches a path or an object key.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from owui.core.config import Settings
from owui.core.errors import UnavailableError
from owui.core.extras import missing_extra

CHUNK = 256 * 1024


class StorageError(UnavailableError):
    """The file store failed (503); the message names it."""


class Storage(Protocol):
    name: str

    async def put(self, key: str, source: Path) -> None: ...
    async def fetch(self, key: str, target: Path) -> None: ...
    def iter_bytes(self, key: str) -> Iterator[bytes]: ...
    async def delete(self, key: str) -> None: ...
    async def check(self) -> None: ...


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / key

    async def put(self, key: str, source: Path) -> None:
        await asyncio.to_thread(shutil.move, source, self._path(key))

    async def fetch(self, key: str, target: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, self._path(key), target)

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def iter_bytes(self, key: str) -> Iterator[bytes]:
        with open(self._path(key), "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(_unlink, self._path(key))

    async def check(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"cannot write to {self.root}")


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


class S3Storage:
    name = "s3"

    def __init__(self, settings: Settings) -> None:
        if problem := missing_extra("boto3", "s3", "STORAGE_PROVIDER=s3"):
            raise StorageError(problem)
        import boto3
        from botocore.config import Config

        if not settings.s3_bucket_name:
            raise StorageError("STORAGE_PROVIDER=s3 needs S3_BUCKET_NAME")
        secret = settings.s3_secret_access_key
        self.bucket = settings.s3_bucket_name
        self.client: Any = boto3.client(
            "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region_name,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=60))

    @contextmanager
    def _failures(self, key: str | None) -> Iterator[None]:
        """The S3 client's errors as StorageError, naming the object (or the bucket)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            where = f"S3 object {key} in bucket {self.bucket}" if key else \
                f"S3 bucket {self.bucket}"
            raise StorageError(f"{where}: {exc}") from exc

    async def _call(self, key: str | None, fn: Any, *args: Any, **kwargs: Any) -> Any:
        with self._failures(key):
            return await asyncio.to_thread(fn, *args, **kwargs)

    async def put(self, key: str, source: Path) -> None:
        await self._call(key, self.client.upload_file, str(source), self.bucket, key)
        await asyncio.to_thread(_unlink, source)

    async def fetch(self, key: str, target: Path) -> None:
        await self._call(key, self.client.download_file, self.bucket, key, str(target))

    def iter_bytes(self, key: str) -> Iterator[bytes]:
        with self._failures(key):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await self._call(key, self.client.delete_object, Bucket=self.bucket, Key=key)

    async def check(self) -> None:
        await self._call(None, self.client.head_bucket, Bucket=self.bucket)


def create_storage(settings: Settings) -> Storage:
    if settings.storage_provider == "s3":
        return S3Storage(settings)
    return LocalStorage(settings.owui_data_dir / "files")
