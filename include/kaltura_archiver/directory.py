"""People directory look-ups over LDAP: is a uid active, what is its name and org unit.

Pure domain code (python-ldap, no Airflow). Look-ups are batched (many uids per OR filter),
paged (Simple Paged Results control) and cached for the life of an `LdapDirectory`, and every
value placed into a filter is escaped. TLS (ldaps:// or StartTLS) with certificate verification
is the default; a refused bind raises `DirectoryAuthError` whose message never holds the password.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import ldap
import ldap.dn
import ldap.filter
from ldap.controls import SimplePagedResultsControl

log = logging.getLogger(__name__)

DEFAULT_BASE_DN = "o=princeton university,c=us"
DEFAULT_ACTIVE_FILTER = "(|(puresource=authentication=enabled)(puresource=authentication=goingaway))"
DEFAULT_BATCH_SIZE = 150
DEFAULT_PAGE_SIZE = 100
MAX_BATCH_SIZE = 1000
PERSON_ATTRIBUTES = ("displayName", "cn", "ou")
SCHEMES = ("ldaps", "ldap")
UID_PLACEHOLDER = "{uid}"
DEFAULT_BIND_DN_TEMPLATE = "uid={user},{base_dn}"


class DirectoryError(Exception):
    """A directory operation failed; the message says what and where, never the password."""


class DirectoryConfigError(DirectoryError, ValueError):
    """The directory settings are invalid."""


class DirectoryAuthError(DirectoryError):
    """The directory refused the bind credentials."""


class DirectoryUnavailableError(DirectoryError):
    """The directory could not be reached or the TLS handshake failed."""


@dataclass(frozen=True)
class Person:
    """What the directory says about one uid (found=False: no entry with that uid)."""

    uid: str
    active: bool = False
    name: str = ""
    org_unit: str = ""
    found: bool = False

    @property
    def status(self) -> str:
        """'active' or 'inactive', the people report's status column."""
        return "active" if self.active else "inactive"


class PeopleDirectory(Protocol):
    """Anything that answers uid -> Person for many uids at once."""

    def lookup(self, uids: Iterable[str]) -> dict[str, Person]:
        """Person per distinct requested uid, keyed by `uid_key(uid)`."""
        ...


@dataclass
class DirectoryStats:
    """Counters of one directory's work: logical searches, page requests, cache hits."""

    searches: int = 0
    pages: int = 0
    cache_hits: int = 0
    entries: int = 0


@dataclass(frozen=True)
class DirectoryConfig:
    """Where and how to reach the directory; defaults are the original site's, TLS verified."""

    host: str
    port: int | None = None
    scheme: str = "ldaps"
    use_starttls: bool = True
    bind_dn: str | None = None
    password: str | None = field(default=None, repr=False)
    base_dn: str = DEFAULT_BASE_DN
    active_filter: str = DEFAULT_ACTIVE_FILTER
    ca_cert_file: str | None = None
    verify_cert: bool = True
    uid_attribute: str = "uid"
    batch_size: int = DEFAULT_BATCH_SIZE
    page_size: int = DEFAULT_PAGE_SIZE
    timeout: float = 30.0

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise DirectoryConfigError("; ".join(problems))

    def _problems(self) -> Iterator[str]:
        if not self.host or "/" in self.host or " " in self.host:
            yield f"host {self.host!r} must be a host name or address"
        if self.scheme not in SCHEMES:
            yield f"scheme must be 'ldaps' or 'ldap', got {self.scheme!r}"
        if self.port is not None and not 0 < self.port < 65536:
            yield f"port {self.port} is out of range"
        if self.bind_dn and not self.password:
            yield "a bind DN needs a password (an empty password would be an unauthenticated bind)"
        if not self.base_dn.strip():
            yield "base_dn must not be empty"
        elif not ldap.dn.is_dn(self.base_dn):
            yield f"base_dn {self.base_dn!r} is not a valid DN"
        if self.active_filter.strip() and not _balanced(self.active_filter):
            yield f"active_filter {self.active_filter!r} has unbalanced parentheses"
        if not self.uid_attribute.replace("-", "").isalnum():
            yield f"uid_attribute {self.uid_attribute!r} is not an attribute name"
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            yield f"batch_size must be in 1..{MAX_BATCH_SIZE}, got {self.batch_size}"
        if self.page_size < 1:
            yield f"page_size must be positive, got {self.page_size}"
        if self.timeout <= 0:
            yield f"timeout must be positive, got {self.timeout}"

    @property
    def uri(self) -> str:
        """The LDAP URI to connect to (default port 636 for ldaps, 389 for ldap)."""
        port = self.port or (636 if self.scheme == "ldaps" else 389)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{port}"

    @property
    def transport(self) -> str:
        """A human description of the transport security, for messages."""
        if self.scheme == "ldaps":
            tls = "ldaps"
        elif self.use_starttls:
            tls = "StartTLS"
        else:
            return "plain text (no TLS)"
        return f"{tls}, certificate {'verified' if self.verify_cert else 'NOT verified'}"


def _balanced(text: str) -> bool:
    depth = 0
    for char in text.replace("\\(", "").replace("\\)", ""):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def uid_key(uid: str) -> str:
    """The cache/result key of a uid: LDAP matches uid case-insensitively."""
    return uid.strip().lower()


def as_filter(expression: str) -> str:
    """A filter expression wrapped in parentheses if it has none (`a=b` -> `(a=b)`)."""
    expression = expression.strip()
    return expression if expression.startswith("(") else f"({expression})"


def uid_filter(uids: Sequence[str], attribute: str = "uid") -> str:
    """An OR filter matching any of `uids`, every value escaped."""
    terms = "".join(f"({attribute}={ldap.filter.escape_filter_chars(uid)})" for uid in uids)
    return f"(|{terms})"


def active_uid_filter(uids: Sequence[str], active_filter: str, attribute: str = "uid") -> str:
    """A filter matching entries with one of `uids` that also pass `active_filter`.

    `active_filter` is either uid-free (ANDed with the uid OR filter) or a per-user template
    containing `{uid}` (one escaped copy per uid, ORed together).
    """
    if not active_filter.strip():
        return uid_filter(uids, attribute)
    if UID_PLACEHOLDER in active_filter:
        template = as_filter(active_filter)
        terms = "".join(template.replace(UID_PLACEHOLDER, ldap.filter.escape_filter_chars(u)) for u in uids)
        return f"(|{terms})"
    return f"(&{uid_filter(uids, attribute)}{as_filter(active_filter)})"


def _text(values: Sequence[bytes] | None) -> list[str]:
    out: list[str] = []
    for raw in values or ():
        value = raw.decode("utf-8", errors="replace").strip()
        if value and value not in out:
            out.append(value)
    return out


def person_from_entry(uid: str, attrs: dict[str, list[bytes]], *, active: bool) -> Person:
    """A Person from a search result's attributes: name = displayName else cn, ou values joined by '; '."""
    lowered = {name.lower(): values for name, values in attrs.items()}
    names = _text(lowered.get("displayname")) or _text(lowered.get("cn"))
    return Person(
        uid=uid,
        active=active,
        name=names[0] if names else "",
        org_unit="; ".join(_text(lowered.get("ou"))),
        found=True,
    )


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ldap_detail(exc: ldap.LDAPError) -> str:
    args = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    parts = [str(args.get("desc", type(exc).__name__))]
    if args.get("info"):
        parts.append(str(args["info"]))
    return ": ".join(parts)


def _discard(conn: Any) -> None:
    try:
        conn.unbind_s()
    except ldap.LDAPError:
        log.debug("unbind after a failed connect failed", exc_info=True)


class LdapDirectory:
    """A PeopleDirectory over one LDAP connection, with a per-instance cache (one per report run)."""

    def __init__(self, config: DirectoryConfig) -> None:
        self.config = config
        self.stats = DirectoryStats()
        self._cache: dict[str, Person] = {}
        self._conn: Any = None

    def __repr__(self) -> str:
        return f"LdapDirectory({self.config.uri}, base_dn={self.config.base_dn!r})"

    def __enter__(self) -> LdapDirectory:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _where(self) -> str:
        who = f"as {self.config.bind_dn!r}" if self.config.bind_dn else "anonymously"
        return f"{self.config.uri} ({self.config.transport}) {who}"

    def _diagnose(self) -> str:
        """A hint telling a closed port from a failed TLS handshake."""
        cfg = self.config
        if cfg.scheme == "ldap" and not cfg.use_starttls:
            return ""
        port = cfg.port or (636 if cfg.scheme == "ldaps" else 389)
        try:
            socket.create_connection((cfg.host, port), timeout=min(cfg.timeout, 5.0)).close()
        except OSError as exc:
            return f" (TCP connect failed: {exc.strerror or exc})"
        hint = "set ca_cert_file to the CA that signed it" if not cfg.ca_cert_file else "check ca_cert_file"
        return (
            " (the TCP port is open, so the TLS handshake failed: the server certificate is not "
            f"trusted or does not name {cfg.host!r}; {hint})"
        )

    def connect(self) -> None:
        """Open the connection, secure it and bind; raises DirectoryAuthError/DirectoryUnavailableError."""
        self.close()
        cfg = self.config
        if cfg.scheme == "ldap" and not cfg.use_starttls:
            log.warning("LDAP connection to %s is not encrypted", cfg.uri)
        conn = ldap.initialize(cfg.uri)
        try:
            conn.set_option(ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3)
            conn.set_option(ldap.OPT_REFERRALS, 0)
            conn.set_option(ldap.OPT_NETWORK_TIMEOUT, cfg.timeout)
            conn.set_option(ldap.OPT_TIMEOUT, cfg.timeout)
            require = ldap.OPT_X_TLS_DEMAND if cfg.verify_cert else ldap.OPT_X_TLS_NEVER
            conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, require)
            if cfg.ca_cert_file:
                conn.set_option(ldap.OPT_X_TLS_CACERTFILE, cfg.ca_cert_file)
            conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
            if cfg.scheme == "ldap" and cfg.use_starttls:
                conn.start_tls_s()
            if cfg.bind_dn:
                conn.simple_bind_s(cfg.bind_dn, cfg.password or "")
            else:
                conn.simple_bind_s("", "")
        except ldap.INVALID_CREDENTIALS:
            _discard(conn)
            raise DirectoryAuthError(
                f"The directory refused the bind {self._where()}: invalid credentials. "
                "Check the LDAP connection's login and password."
            ) from None
        except (ldap.SERVER_DOWN, ldap.CONNECT_ERROR, ldap.TIMEOUT) as exc:
            _discard(conn)
            raise DirectoryUnavailableError(
                f"Cannot reach the directory {self._where()}: {_ldap_detail(exc)}{self._diagnose()}"
            ) from None
        except ldap.LDAPError as exc:
            _discard(conn)
            raise DirectoryError(
                f"Cannot bind to the directory {self._where()}: {_ldap_detail(exc)}"
            ) from None
        self._conn = conn

    def close(self) -> None:
        """Unbind and drop the connection (the cache is kept)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            _discard(conn)

    def whoami(self) -> str:
        """The identity the server sees (connection test)."""
        if self._conn is None:
            self.connect()
        return str(self._conn.whoami_s())

    def lookup(self, uids: Iterable[str]) -> dict[str, Person]:
        """Person per distinct non-empty uid (keyed by uid_key), searching only uids not yet cached."""
        wanted: dict[str, str] = {}
        for uid in uids:
            key = uid_key(uid)
            if key and key not in wanted:
                wanted[key] = uid.strip()
        pending = [uid for key, uid in wanted.items() if key not in self._cache]
        self.stats.cache_hits += len(wanted) - len(pending)
        for batch in _chunks(pending, self.config.batch_size):
            self._cache.update(self._lookup_batch(batch))
        return {key: self._cache[key] for key in wanted}

    def _lookup_batch(self, batch: Sequence[str]) -> dict[str, Person]:
        cfg = self.config
        keys = {uid_key(uid): uid for uid in batch}
        found: dict[str, Person] = {}
        active_filter = active_uid_filter(batch, cfg.active_filter, cfg.uid_attribute)
        self._collect(active_filter, keys, found, active=True)
        remaining = [uid for key, uid in keys.items() if key not in found]
        if remaining and cfg.active_filter.strip():
            self._collect(uid_filter(remaining, cfg.uid_attribute), keys, found, active=False)
        for key, uid in keys.items():
            found.setdefault(key, Person(uid=uid))
        return found

    def _collect(
        self, filterstr: str, keys: dict[str, str], found: dict[str, Person], *, active: bool
    ) -> None:
        for _dn, attrs in self.search(filterstr, (self.config.uid_attribute, *PERSON_ATTRIBUTES)):
            lowered = {name.lower(): values for name, values in attrs.items()}
            for value in _text(lowered.get(self.config.uid_attribute.lower())):
                key = uid_key(value)
                if key in keys and key not in found:
                    found[key] = person_from_entry(keys[key], attrs, active=active)

    def search(self, filterstr: str, attributes: Sequence[str]) -> list[tuple[str, dict[str, list[bytes]]]]:
        """Entries under base_dn matching `filterstr` (paged); reconnects once if the server dropped us."""
        self.stats.searches += 1
        for attempt in (1, 2):
            if self._conn is None:
                self.connect()
            try:
                return self._paged_search(filterstr, attributes)
            except (ldap.SERVER_DOWN, ldap.CONNECT_ERROR) as exc:
                self.close()
                if attempt == 2:
                    raise DirectoryUnavailableError(
                        f"The directory {self._where()} went away during a search: {_ldap_detail(exc)}"
                    ) from None
                log.warning("LDAP connection lost (%s); reconnecting once", _ldap_detail(exc))
            except ldap.FILTER_ERROR:
                raise DirectoryConfigError(
                    "The directory rejected the search filter; "
                    f"check active_filter {self.config.active_filter!r}"
                ) from None
            except ldap.NO_SUCH_OBJECT:
                raise DirectoryConfigError(
                    f"base_dn {self.config.base_dn!r} does not exist in the directory {self.config.uri}"
                ) from None
            except ldap.SIZELIMIT_EXCEEDED:
                raise DirectoryError(
                    f"The directory's size limit was exceeded; lower batch_size ({self.config.batch_size}) "
                    f"or page_size ({self.config.page_size})"
                ) from None
            except ldap.LDAPError as exc:
                raise DirectoryError(
                    f"Directory search failed on {self.config.uri}: {_ldap_detail(exc)}"
                ) from None
        raise AssertionError("unreachable")

    def _paged_search(
        self, filterstr: str, attributes: Sequence[str]
    ) -> list[tuple[str, dict[str, list[bytes]]]]:
        control = SimplePagedResultsControl(True, size=self.config.page_size, cookie=b"")
        entries: list[tuple[str, dict[str, list[bytes]]]] = []
        while True:
            msgid = self._conn.search_ext(
                self.config.base_dn,
                ldap.SCOPE_SUBTREE,
                filterstr,
                attrlist=list(attributes),
                serverctrls=[control],
                timeout=self.config.timeout,
            )
            self.stats.pages += 1
            _rtype, rdata, _rmsgid, rctrls = self._conn.result3(msgid, timeout=self.config.timeout)
            entries.extend((dn, attrs) for dn, attrs in rdata if dn and isinstance(attrs, dict))
            cookie = next(
                (c.cookie for c in rctrls if c.controlType == SimplePagedResultsControl.controlType),
                b"",
            )
            if not cookie:
                break
            control.cookie = cookie
        self.stats.entries += len(entries)
        return entries


def bind_dn_for(login: str | None, base_dn: str, template: str = DEFAULT_BIND_DN_TEMPLATE) -> str | None:
    """The bind DN for a connection login: a DN or `user@domain` as given, a bare user through `template`."""
    login = (login or "").strip()
    if not login:
        return None
    if "=" in login or "@" in login:
        return login
    return template.replace("{user}", ldap.dn.escape_dn_chars(login)).replace("{base_dn}", base_dn)


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise DirectoryConfigError(f"{name} must be true or false, got {value!r}")


def _as_number(value: Any, name: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise DirectoryConfigError(f"{name} must be a number, got {value!r}") from None


def _extra_value(extra: dict[str, Any], name: str) -> Any:
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__ldap__{name}")
    return None if value == "" else value


def config_from_fields(
    host: str | None,
    port: int | str | None = None,
    login: str | None = None,
    password: str | None = None,
    extra: dict[str, Any] | None = None,
    schema: str | None = None,
) -> DirectoryConfig:
    """A DirectoryConfig from connection fields (host may be `ldaps://host:port`); TLS on unless told.

    extra: base_dn, active_filter, scheme ('ldaps'/'ldap') or ldaps (bool), use_starttls,
    ca_cert_file, verify_cert, bind_dn_template, uid_attribute, batch_size, page_size, timeout.
    The scheme is taken from extra, else the host's URI prefix, else the connection schema field,
    else ldap (with StartTLS) for port 389 and ldaps otherwise.
    """
    extra = extra or {}
    raw_host = (host or "").strip()
    host_scheme: str | None = None
    if "://" in raw_host:
        host_scheme, raw_host = raw_host.split("://", 1)
        raw_host = raw_host.rstrip("/")
        if raw_host.count(":") == 1 and not port:
            raw_host, port = raw_host.split(":", 1)
    port_number = _as_number(port, "port", int) if port not in (None, "") else None
    scheme = _extra_value(extra, "scheme")
    if scheme is None and _extra_value(extra, "ldaps") is not None:
        scheme = "ldaps" if _as_bool(_extra_value(extra, "ldaps"), "ldaps") else "ldap"
    if scheme is None:
        scheme = host_scheme or (schema if schema in SCHEMES else None)
    if scheme is None:
        scheme = "ldap" if port_number == 389 else "ldaps"
    base_dn = str(_extra_value(extra, "base_dn") or DEFAULT_BASE_DN)
    template = str(_extra_value(extra, "bind_dn_template") or DEFAULT_BIND_DN_TEMPLATE)
    options: dict[str, Any] = {}
    for name in ("use_starttls", "verify_cert"):
        if _extra_value(extra, name) is not None:
            options[name] = _as_bool(_extra_value(extra, name), name)
    for name, kind in (("batch_size", int), ("page_size", int), ("timeout", float)):
        if _extra_value(extra, name) is not None:
            options[name] = _as_number(_extra_value(extra, name), name, kind)
    for name in ("active_filter", "ca_cert_file", "uid_attribute"):
        if _extra_value(extra, name) is not None:
            options[name] = str(_extra_value(extra, name))
    return DirectoryConfig(
        host=raw_host,
        port=port_number,
        scheme=str(scheme).lower(),
        bind_dn=bind_dn_for(login, base_dn, template),
        password=password or None,
        base_dn=base_dn,
        **options,
    )
