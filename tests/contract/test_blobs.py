"""One contract, both evidence stores: a directory, and an S3-compatible object store
(moto's server, a real HTTP server speaking the S3 API, driven by boto3 as in
production). Blobs go in and come out by subject and id, a subject's blobs are deleted
together and no other's, and a name from outside never escapes the store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from concord.config.errors import ConfigError
from concord.config.settings import Settings
from concord.embedded.net import free_port
from concord.privacy.blobs import Blobs, FileBlobs, S3Blobs, blobs_for, folder

BUCKET = "city-evidence"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3_client(s3_endpoint: str) -> Any:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="eu-west-1",
    )
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return client


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Blobs:
    if request.param == "file":
        return FileBlobs(tmp_path / "evidence")
    client = request.getfixturevalue("s3_client")
    return S3Blobs(client, BUCKET, f"run-{tmp_path.name}/")


def test_a_blob_comes_back_as_it_went_in(store: Blobs) -> None:
    data = bytes(range(256)) * 4000  # a megabyte, every byte value
    store.put("report-abc", "blob-0001", data)
    assert store.get("report-abc", "blob-0001") == data
    assert store.get("report-abc", "blob-0002") is None
    assert store.get("report-xyz", "blob-0001") is None  # another subject's


def test_a_retry_replaces_the_blob(store: Blobs) -> None:
    store.put("s1", "blob-0001", b"first")
    store.put("s1", "blob-0001", b"again")
    assert store.get("s1", "blob-0001") == b"again"


def test_erasing_a_subject_deletes_its_blobs_and_no_others(store: Blobs) -> None:
    store.put("s1", "blob-0001", b"one")
    store.put("s1", "blob-0002", b"two")
    store.put("s2", "blob-0001", b"other")
    assert store.delete("s1") == 2
    assert store.get("s1", "blob-0001") is None
    assert store.get("s1", "blob-0002") is None
    assert store.get("s2", "blob-0001") == b"other"
    assert store.delete("s1") == 0  # twice is fine (a retried erasure)


def test_a_producer_id_never_becomes_a_path(store: Blobs) -> None:
    store.put("../../etc/passwd", "blob-0001", b"x")
    assert store.get("../../etc/passwd", "blob-0001") == b"x"
    assert len(folder("../../etc/passwd")) == 32
    with pytest.raises(ValueError, match="not a blob id"):
        store.put("s1", "../escape", b"x")


def test_the_file_store_writes_whole_private_files(tmp_path: Path) -> None:
    store = FileBlobs(tmp_path)
    store.put("s1", "blob-0001", b"sealed")
    (where,) = (tmp_path / folder("s1")).iterdir()
    assert where.name == "blob-0001"
    assert where.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / folder("s1")).stat().st_mode & 0o777 == 0o700


def test_the_settings_name_the_store(tmp_path: Path, s3_endpoint: str) -> None:
    assert isinstance(blobs_for(Settings(data_dir=tmp_path)), FileBlobs)
    made = blobs_for(
        Settings(evidence_store="s3://city-evidence/concord", s3_endpoint_url=s3_endpoint)
    )
    assert isinstance(made, S3Blobs)
    assert (made.bucket, made.prefix) == (BUCKET, "concord/")
    for bad in ("/var/evidence", "s3://", "https://bucket"):
        with pytest.raises(ConfigError, match="CONCORD_EVIDENCE_STORE"):
            blobs_for(Settings(evidence_store=bad))
