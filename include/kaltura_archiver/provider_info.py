"""Provider metadata read by Airflow through the `apache_airflow_provider` entry point.

Airflow 3.3's connection form is built from the declarative `conn-fields` and
`ui-field-behaviour` given here; the hooks' Python form methods are not used by the UI.
"""

from __future__ import annotations

from typing import Any

from kaltura_archiver import __version__

KALTURA_SAAS_URL = "https://www.kaltura.com"


def _kaltura_connection_type() -> dict[str, Any]:
    return {
        "hook-class-name": "kaltura_archiver.airflow.hooks.kaltura.KalturaHook",
        "hook-name": "Kaltura",
        "connection-type": "kaltura",
        "conn-fields": {
            "partner_id": {
                "label": "Partner ID",
                "description": "Numeric Kaltura partner id of the account.",
                "schema": {"type": ["integer", "null"], "minimum": 1},
            },
            "session_expiry": {
                "label": "Session expiry (s)",
                "description": "Lifetime of the admin KS; it is renewed before it expires.",
                "schema": {"type": ["integer", "null"], "default": 86400, "minimum": 60},
            },
            "privileges": {
                "label": "Session privileges",
                "description": "Privileges of the admin KS.",
                "schema": {"type": ["string", "null"], "default": "disableentitlement"},
            },
        },
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port", "extra"],
            "relabeling": {"host": "Service URL", "login": "User ID", "password": "Admin secret"},
            "placeholders": {"host": KALTURA_SAAS_URL, "login": "archiver@example.edu"},
        },
    }


def _ldap_connection_type() -> dict[str, Any]:
    return {
        "hook-class-name": "kaltura_archiver.airflow.hooks.ldap_hook.LdapHook",
        "hook-name": "LDAP directory",
        "connection-type": "ldap",
        "conn-fields": {
            "base_dn": {
                "label": "Base DN",
                "schema": {"type": ["string", "null"], "default": "o=princeton university,c=us"},
            },
            "active_filter": {
                "label": "Active-user filter",
                "description": "LDAP filter of an active user: with {uid} it applies per user (the escaped "
                "uid replaces {uid}); without, it is ANDed with the batched uid filter.",
                "schema": {"type": ["string", "null"]},
            },
            "use_starttls": {
                "label": "Use StartTLS",
                "description": "Upgrade an ldap:// connection with StartTLS (ldaps:// needs no upgrade).",
                "schema": {"type": ["boolean", "null"], "default": True},
            },
            "ca_cert_file": {
                "label": "CA certificate file",
                "schema": {"type": ["string", "null"]},
            },
            "verify_cert": {
                "label": "Verify server certificate",
                "schema": {"type": ["boolean", "null"], "default": True},
            },
        },
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "extra"],
            "relabeling": {"host": "Server (ldaps://host or host)", "login": "Bind DN or user"},
            "placeholders": {"port": "636"},
        },
    }


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow's ProvidersManager expects."""
    return {
        "package-name": "kaltura-archiver",
        "name": "Kaltura archiver",
        "description": "Archive old Kaltura videos to S3/Glacier and restore them on demand.",
        "versions": [__version__],
        "connection-types": [_kaltura_connection_type(), _ldap_connection_type()],
    }
