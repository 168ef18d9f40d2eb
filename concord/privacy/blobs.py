"""The evidence store: the files given with reports, kept outside Kafka.

Each blob is sealed under its signal's data key before it is stored (`v2.<key id>.<...>`,
as every sealed value), so the store only ever holds ciphertext and deleting the key on
`concord.keys` makes every copy unreadable, backups included. Erasure and retention also
delete the blobs themselves (`delete`).

Two stores behind one small Protocol: a directory (`$CONCORD_DATA_DIR/evidence`, for
`concord up` and one machine), and any S3-compatible object store
(`CONCORD_EVIDENCE_STORE=s3://bucket/prefix`, `CONCORD_S3_ENDPOINT_URL`; credentials the
usual AWS way: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, a profile, an instance role).
Their calls block: async callers run them in a thread.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Protocol

from concord.config.errors import ConfigError
from concord.config.settings import Settings

_BLOB_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def folder(subject: str) -> str:
    """Where a subject's blobs go: a digest of its id (producers' ids may hold `/`)."""
    return hashlib.sha256(subject.encode()).hexdigest()[:32]


def _checked(blob_id: str) -> str:
    if not _BLOB_ID.fullmatch(blob_id):
        raise ValueError("not a blob id")
    return blob_id


class Blobs(Protocol):
    """Where sealed evidence is kept, by subject (a signal id) and blob id."""

    def put(self, subject: str, blob_id: str, data: bytes) -> None:
        """Keep one sealed blob (replacing one with the same ids: a retry)."""

    def get(self, subject: str, blob_id: str) -> bytes | None:
        """A sealed blob, or None when there is none (never kept, or deleted)."""

    def delete(self, subject: str) -> int:
        """Delete every blob of a subject; how many there were."""


class FileBlobs:
    """Blobs in a directory: `<root>/<folder(subject)>/<blob id>`, written whole."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, subject: str) -> Path:
        return self.root / folder(subject)

    def put(self, subject: str, blob_id: str, data: bytes) -> None:
        """Write to a temporary name, then rename: a reader never sees half a blob."""
        where = self._dir(subject)
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        final = where / _checked(blob_id)
        partial = final.with_suffix(".part")
        partial.write_bytes(data)
        os.chmod(partial, 0o600)
        partial.replace(final)

    def get(self, subject: str, blob_id: str) -> bytes | None:
        """The blob's bytes, or None."""
        try:
            return (self._dir(subject) / _checked(blob_id)).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, subject: str) -> int:
        """Remove the subject's folder and what it holds."""
        where = self._dir(subject)
        if not where.is_dir():
            return 0
        count = 0
        for path in where.iterdir():
            path.unlink(missing_ok=True)
            count += not path.name.endswith(".part")
        where.rmdir()
        return count


class S3Blobs:
    """Blobs in an S3-compatible bucket: `<prefix><folder(subject)>/<blob id>`."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, subject: str, blob_id: str) -> str:
        return f"{self.prefix}{folder(subject)}/{_checked(blob_id)}"

    def put(self, subject: str, blob_id: str, data: bytes) -> None:
        """PUT the object (server-side encryption too, where the store offers it)."""
        self.client.put_object(Bucket=self.bucket, Key=self._key(subject, blob_id), Body=data)

    def get(self, subject: str, blob_id: str) -> bytes | None:
        """GET the object, or None on NoSuchKey."""
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self._key(subject, blob_id))
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = found["Body"].read()
        return body

    def delete(self, subject: str) -> int:
        """List the subject's objects and delete them (a few per report)."""
        prefix = f"{self.prefix}{folder(subject)}/"
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        keys = [{"Key": o["Key"]} for o in listed.get("Contents", [])]
        if keys:
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
        return len(keys)


def blobs_for(settings: Settings) -> Blobs:
    """The evidence store the settings name; raises ConfigError for a malformed one."""
    where = settings.evidence_store.strip()
    if not where:
        return FileBlobs(settings.data_dir / "evidence")
    if not where.startswith("s3://") or not where[5:].split("/", 1)[0]:
        raise ConfigError(
            f"CONCORD_EVIDENCE_STORE={where!r}: write s3://bucket/prefix, or leave it unset "
            "to keep files in $CONCORD_DATA_DIR/evidence"
        )
    bucket, _, prefix = where[5:].partition("/")
    import boto3  # only where an object store is used: it is slow to import

    client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
    return S3Blobs(client, bucket, prefix)
