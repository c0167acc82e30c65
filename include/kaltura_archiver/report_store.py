"""Where reports and stats are written: a local folder (default) or an S3 prefix (production).

`ReportLocation.parse("file:///srv/reports")`, `ReportLocation.parse("/srv/reports")` or
`ReportLocation.parse("s3://bucket/prefix")`; files are produced locally first and then published.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


class ReportLocationError(ValueError):
    """The reports location is not a usable folder or S3 prefix."""


@dataclass(frozen=True)
class ReportLocation:
    """A folder or S3 prefix; `uri(name)` is the address of one report in it."""

    scheme: str
    root: str
    bucket: str = ""

    @classmethod
    def parse(cls, value: str) -> ReportLocation:
        value = (value or "").strip()
        if not value:
            raise ReportLocationError("the reports location is empty")
        parsed = urlparse(value)
        if parsed.scheme == "s3":
            if not parsed.netloc:
                raise ReportLocationError(f"{value!r}: an s3:// location needs a bucket")
            return cls("s3", parsed.path.strip("/"), parsed.netloc)
        if parsed.scheme in ("", "file"):
            path = parsed.path if parsed.scheme == "file" else value
            if not path.startswith("/"):
                raise ReportLocationError(f"{value!r}: a local reports location must be an absolute path")
            return cls("file", path.rstrip("/") or "/")
        raise ReportLocationError(f"{value!r}: use an absolute path, file:// or s3://")

    def uri(self, name: str) -> str:
        if self.scheme == "s3":
            key = f"{self.root}/{name}" if self.root else name
            return f"s3://{self.bucket}/{key}"
        return f"file://{self.root}/{name}"

    def _key(self, name: str) -> str:
        return f"{self.root}/{name}" if self.root else name

    def publish(self, local_file: Path, name: str, s3_client: Any = None) -> str:
        """Copy a finished local file to `name` in this location; returns its URI."""
        if self.scheme == "s3":
            if s3_client is None:
                raise ReportLocationError("publishing to S3 needs an S3 client")
            s3_client.upload_file(str(local_file), self.bucket, self._key(name))
        else:
            target = Path(self.root) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if local_file.resolve() != target.resolve():
                shutil.copyfile(local_file, target)
        return self.uri(name)

    def fetch(self, name: str, local_file: Path, s3_client: Any = None) -> bool:
        """Copy `name` from this location to a local file; False when it does not exist yet."""
        local_file.parent.mkdir(parents=True, exist_ok=True)
        if self.scheme == "s3":
            if s3_client is None:
                raise ReportLocationError("reading from S3 needs an S3 client")
            try:
                s3_client.download_file(self.bucket, self._key(name), str(local_file))
            except Exception as exc:  # botocore ClientError 404
                if "404" in str(exc) or "Not Found" in str(exc):
                    return False
                raise
            return True
        source = Path(self.root) / name
        if not source.exists():
            return False
        if source.resolve() != local_file.resolve():
            shutil.copyfile(source, local_file)
        return True
