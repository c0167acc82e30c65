"""A throw-away OpenLDAP server (Debian's slapd) for tests and the demo."""

from dev.ldap.slapd_server import DirectoryUser, SlapdError, SlapdServer, sample_people

__all__ = ["DirectoryUser", "SlapdError", "SlapdServer", "sample_people"]
