"""LdapHook: owns the `ldap` connection and hands out an `LdapDirectory` for the people report."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from kaltura_archiver.directory import DirectoryConfig, DirectoryError, LdapDirectory, config_from_fields
from kaltura_archiver.people_report import ReportSource, enrich_report, write_report


class LdapHook(BaseHook):
    """Look people up in an LDAP directory (python-ldap; ldaps or StartTLS, certificate verified).

    Connection: host (`host` or `ldaps://host`), port, login (bind DN, `user@domain`, or a bare user
    bound as `uid=<user>,<base_dn>`), password; extra: base_dn, active_filter, scheme or ldaps,
    use_starttls, ca_cert_file, verify_cert, bind_dn_template, batch_size, page_size, timeout.
    """

    conn_name_attr = "ldap_conn_id"
    default_conn_name = "ldap_default"
    conn_type = "ldap"
    hook_name = "LDAP directory"

    def __init__(self, ldap_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ldap_conn_id = ldap_conn_id
        self._directory: LdapDirectory | None = None

    def get_config(self) -> DirectoryConfig:
        """Read and validate the connection; the password is registered with the secrets masker."""
        conn = self.get_connection(self.ldap_conn_id)
        if conn.password:
            mask_secret(conn.password)
        try:
            return config_from_fields(
                host=conn.host,
                port=conn.port,
                login=conn.login,
                password=conn.password,
                extra=conn.extra_dejson or {},
                schema=conn.schema,
            )
        except DirectoryError as exc:
            raise type(exc)(f"Connection {self.ldap_conn_id!r}: {exc}") from None

    def get_directory(self) -> LdapDirectory:
        """The hook's `LdapDirectory` (connected lazily; its cache lives as long as the hook)."""
        if self._directory is None:
            self._directory = LdapDirectory(self.get_config())
        return self._directory

    def get_conn(self) -> LdapDirectory:
        """A connected `LdapDirectory` (binds now, so bad credentials fail here)."""
        directory = self.get_directory()
        directory.whoami()
        return directory

    def close(self) -> None:
        """Unbind the directory connection, if any."""
        if self._directory is not None:
            self._directory.close()

    def enrich_report(
        self, report: ReportSource, target: str | os.PathLike[str] | None = None
    ) -> pd.DataFrame:
        """Add status/name/org_unit to `report`; write TSV to `target` if given (nothing on failure)."""
        try:
            frame = enrich_report(report, self.get_directory())
        finally:
            self.close()
        stats = self.get_directory().stats
        self.log.info(
            "People report: %d rows, %d directory searches (%d pages, %d entries)",
            len(frame),
            stats.searches,
            stats.pages,
            stats.entries,
        )
        if len(frame) and stats.searches and not stats.entries:
            self.log.warning(
                "No creator was found in the directory: check base_dn and that the bind user may read people"
            )
        if target is not None:
            write_report(frame, target)
        return frame

    def test_connection(self) -> tuple[bool, str]:
        """Bind and report the identity the server sees (the UI's Test button)."""
        try:
            directory = LdapDirectory(self.get_config())
            with directory:
                identity = directory.whoami()
        except DirectoryError as exc:
            return False, str(exc)
        return (
            True,
            f"Bound to {directory.config.uri} ({directory.config.transport}) as {identity or 'anonymous'}",
        )
