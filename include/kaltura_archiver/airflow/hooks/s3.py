"""ArchiveS3Hook: the Amazon provider's S3Hook, minus its costly caller look-up and timestamp parsing.

Building a client, `AwsBaseHook` names the operator that asked in the user agent (`Caller/...`) by
calling `inspect.stack()`, which reads the source file of every frame on the stack: about a quarter
of a second per client here, paid by every entry task. This hook finds the same frames by walking
them directly. Its sessions are tuned by `archive_store.configure_s3_session`: S3 timestamps read
fast (a bucket listing of 100,000 keys parses 100,000 of them) and botocore's service models loaded
once per process. Connection handling, sessions and clients are the provider's own.
"""

from __future__ import annotations

import sys
from typing import Any

from airflow.providers.amazon.aws.hooks.s3 import S3Hook


class ArchiveS3Hook(S3Hook):
    """S3Hook whose user-agent caller is found without reading source files, its sessions tuned."""

    def get_session(self, region_name: str | None = None, deferrable: bool = False) -> Any:
        """The provider's session, tuned by `configure_s3_session`."""
        from kaltura_archiver.archive_store import configure_s3_session

        return configure_s3_session(super().get_session(region_name=region_name, deferrable=deferrable))

    @staticmethod
    def _find_operator_class_name(target_function_name: str) -> str | None:
        """The class of the innermost frame running `target_function_name` (its `self`), as the provider's."""
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_name == target_function_name:
                owner = frame.f_locals.get("self")
                return None if owner is None else type(owner).__name__
            frame = frame.f_back  # type: ignore[assignment]
        return None

    @staticmethod
    def _find_executor_class_name() -> str | None:
        """The last class named in the innermost frame whose globals hold BaseExecutor, as the provider's."""
        frame = sys._getframe(1)
        while frame is not None:
            names = [name for name, value in frame.f_globals.items() if isinstance(value, type)]
            if "BaseExecutor" in names:
                return names[-1]
            frame = frame.f_back  # type: ignore[assignment]
        return None
