"""The local stack: Kaltura emulator, S3 (moto) with a Glacier delay, and slapd, on loopback ports.

Used by `make demo`, `make standalone` and the DAG tests. The servers run in threads of the calling
process (slapd as its child); `LocalStack.settings_env()` fills the placeholders of
airflow_settings.yaml, so DAG runs in child processes reach them through AIRFLOW_CONN_* variables.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dev.airflow_settings import settings_environment
from dev.kaltura_emulator.control import EmulatorControl
from dev.kaltura_emulator.server import EmulatorApp, EmulatorServer
from dev.local_airflow import PROJECT_ROOT, airflow_environment
from dev.s3_server import S3DevControl, S3DevServer

PARTNER_ID = 1234
ADMIN_SECRET = "local-stack-admin-secret-0123456789"
AWS_KEY_ID = "testing-access-key"
AWS_SECRET = "testing-secret-key-0123456789"
BUCKET = "kaltura-archive"
PLACEHOLDER_BYTES = 256 * 1024


def write_placeholder_video(path: Path) -> Path:
    """A deterministic 256 KiB stand-in for the placeholder MP4, for tests whose entry sizes are tuned to
    it (the emulator does not decode video); the local stack uses the packaged placeholder."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        block = hashlib.sha256(b"kaltura-archiver placeholder").digest() * 32
        path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + block * (PLACEHOLDER_BYTES // len(block)))
    return path


@dataclass
class LocalStack:
    """Start and stop the local servers; `settings_env()` and `airflow_env()` describe them."""

    root: Path = PROJECT_ROOT / ".stack"
    glacier_restore_seconds: float = 5.0
    placeholder_video: str = ""
    """The placeholder the stack's Airflow uses (kaltura_archiver_placeholder_video); default: the
    packaged one (imported when a stack is made, so benchmarks can load this module beside an older
    checkout of the package)."""
    conversion_seconds: float = 1.0
    with_ldap: bool = True
    kaltura: EmulatorServer | None = None
    s3: S3DevServer | None = None
    slapd: Any = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.placeholder_video:
            from kaltura_archiver.config import DEFAULT_PLACEHOLDER_VIDEO

            self.placeholder_video = DEFAULT_PLACEHOLDER_VIDEO

    def start(self) -> LocalStack:
        self.root.mkdir(parents=True, exist_ok=True)
        app = EmulatorApp(
            str(self.root / "kaltura"),
            PARTNER_ID,
            ADMIN_SECRET,
            defaults={"conversion_seconds": self.conversion_seconds},
        )
        self.kaltura = EmulatorServer(app, "127.0.0.1", 0)
        self.kaltura.start()
        self.s3 = S3DevServer(glacier_restore_seconds=self.glacier_restore_seconds).start()
        os.environ.update({"AWS_ACCESS_KEY_ID": AWS_KEY_ID, "AWS_SECRET_ACCESS_KEY": AWS_SECRET})
        self.s3_client().create_bucket(Bucket=BUCKET)
        if self.with_ldap:
            from dev.ldap.slapd_server import SlapdServer, sample_people

            self.slapd = SlapdServer(sample_people(), workdir=self.root / "slapd").start()
        return self

    def stop(self) -> None:
        for server in (self.kaltura, self.s3, self.slapd):
            if server is not None:
                server.stop()

    @property
    def kaltura_control(self) -> EmulatorControl:
        assert self.kaltura is not None
        return EmulatorControl(self.kaltura.url)

    @property
    def s3_control(self) -> S3DevControl:
        assert self.s3 is not None
        return S3DevControl(self.s3.endpoint_url)

    def s3_client(self) -> Any:
        import boto3

        assert self.s3 is not None
        return boto3.client(
            "s3",
            endpoint_url=self.s3.endpoint_url,
            aws_access_key_id=AWS_KEY_ID,
            aws_secret_access_key=AWS_SECRET,
            region_name="us-east-1",
        )

    def settings_env(self) -> dict[str, str]:
        """Values of the ${...} placeholders of airflow_settings.yaml."""
        assert self.kaltura is not None and self.s3 is not None
        env = {
            "KALTURA_EMULATOR_PORT": str(self.kaltura.port),
            "KALTURA_ADMIN_SECRET": ADMIN_SECRET,
            "KALTURA_PARTNER_ID": str(PARTNER_ID),
            "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
            "S3_SERVER_PORT": self.s3.endpoint_url.rsplit(":", 1)[1].rstrip("/"),
            "PLACEHOLDER_VIDEO": self.placeholder_video,
            "REPORTS_LOCATION": f"file://{self.root / 'reports'}",
            "LDAP_TLS_PORT": "636",
            "LDAP_BIND_DN": "cn=nobody",
            "LDAP_BIND_PASSWORD": "unset-no-directory",
            "LDAP_CA_CERT_FILE": "",
        }
        if self.slapd is not None:
            env.update(
                {
                    "LDAP_TLS_PORT": str(self.slapd.ldaps_port),
                    "LDAP_BIND_DN": self.slapd.bind_dn,
                    "LDAP_BIND_PASSWORD": self.slapd.bind_password,
                    "LDAP_CA_CERT_FILE": self.slapd.ca_cert_file,
                }
            )
        env.update(self.extra_env)
        return env

    def airflow_env(self, home: Path | None = None) -> dict[str, str]:
        """Full environment for Airflow processes using this stack (connections as env variables)."""
        env = dict(os.environ)
        env.update(airflow_environment(home or self.root / "airflow_home"))
        settings = self.settings_env()
        env.update(settings)
        env.update(settings_environment({**env, **settings}))
        return env


def demo_account(n: int, seed: int, now: float) -> list[dict[str, Any]]:
    """A realistic account shape with small originals (KB to a few MB) so the demo runs in minutes."""
    from dev.kaltura_emulator.seed import generate_account

    rng = random.Random(seed)
    entries = generate_account(n, seed, now)
    for entry in entries:
        entry["original_size"] = rng.randint(20_000, 3_000_000)
    return entries
