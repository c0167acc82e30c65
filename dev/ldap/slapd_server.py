"""Start and stop a throw-away Debian slapd on loopback ports, with its own CA, TLS and people.

Used by the pytest fixture (tests/fixtures/ldap.py) and by the demo:

    with SlapdServer(sample_people()) as server:
        print(server.ldaps_uri, server.bind_dn, server.bind_password, server.ca_cert_file)

`python -m dev.ldap` runs one in the foreground and prints an Airflow connection.
"""

from __future__ import annotations

import base64
import ctypes
import datetime
import hashlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import ldap
import ldap.dn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_BASE_DN = "o=princeton university,c=us"
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMA_DIR = Path("/etc/ldap/schema")
PURESOURCE_SCHEMA = Path(__file__).with_name("puresource.schema")
# Non-paged searches answer at most this many entries; paged ones are unlimited in total.
SERVER_SIZE_LIMIT = 100


class SlapdError(RuntimeError):
    """slapd could not be prepared or started; the message carries its log."""


@dataclass(frozen=True)
class DirectoryUser:
    """One person entry: uid, names, org units and puresource flags (empty = no puresource)."""

    uid: str
    cn: str
    sn: str = "Person"
    display_name: str | None = None
    ou: tuple[str, ...] = ()
    puresource: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)


def sample_people() -> list[DirectoryUser]:
    """People in every state the report must handle (see tests/integration/test_people_report.py)."""
    return [
        DirectoryUser(
            "alice",
            "Alice Anders",
            "Anders",
            "Alice A. Anders",
            ("Computer Science",),
            ("authentication=enabled", "mail=enabled"),
        ),
        DirectoryUser("bob", "Bob Brown", "Brown", "Bob Brown", ("Music",), ("authentication=goingaway",)),
        DirectoryUser(
            "carol",
            "Carol Chen",
            "Chen",
            "Carol Chen",
            ("Library",),
            ("authentication=disabled",),
        ),
        DirectoryUser("dave", "Dave Dunn", "Dunn", None, ("Physics",), ("authentication=enabled",)),
        DirectoryUser(
            "erin",
            "Erin Evans",
            "Evans",
            "Erin Evans",
            ("Chemistry", "Office of the Dean of the College"),
            ("authentication=enabled",),
        ),
        DirectoryUser("frank", "Frank Fox", "Fox", "Frank Fox", (), ()),
        DirectoryUser(
            "grace", "Grace Gill", "Gill", "Grace Gill", ("Economics",), ("AUTHENTICATION=Enabled",)
        ),
        DirectoryUser(
            "heidi",
            "Heidi Hahn",
            "Hahn",
            "Heidi (Hé) Hahn, Jr.",
            ("Art & Archaeology",),
            ("authentication=goingaway",),
        ),
        DirectoryUser("ivan", "Ivan Ito", "Ito", "Ivan Ito", ("History",), ("authentication=enabledsoon",)),
    ]


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent dies (Linux), so no slapd is orphaned."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        return


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ssha(password: str) -> str:
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 - slapd's {SSHA} scheme
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _ldif_value(attr: str, value: str) -> str:
    if value.isascii() and value.isprintable() and not value.startswith((" ", ":", "<")):
        return f"{attr}: {value}"
    return f"{attr}:: {base64.b64encode(value.encode()).decode()}"


def _ldif_entry(dn: str, attrs: Sequence[tuple[str, str]]) -> str:
    lines = [_ldif_value("dn", dn)] + [_ldif_value(a, v) for a, v in attrs]
    return "\n".join(lines) + "\n\n"


def _user_attrs(user: DirectoryUser) -> list[tuple[str, str]]:
    attrs = [("objectClass", "inetOrgPerson"), ("objectClass", "puPerson")]
    attrs += [("uid", user.uid), ("cn", user.cn), ("sn", user.sn)]
    if user.display_name is not None:
        attrs.append(("displayName", user.display_name))
    attrs += [("ou", ou) for ou in user.ou]
    attrs += [("puresource", flag) for flag in user.puresource]
    attrs += [(name, value) for name, values in user.extra.items() for value in values]
    return attrs


@dataclass(frozen=True)
class _Pki:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _make_pki(directory: Path, host: str) -> _Pki:
    """A CA and a server certificate for `host` (IP SAN and DNS SAN localhost)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kaltura-archiver test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = _Pki(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    pki.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    pki.server_key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pki.server_key.chmod(0o600)
    return pki


class SlapdServer:
    """A slapd on 127.0.0.1 serving ldap:// (StartTLS) and ldaps:// with a fresh CA and the given people."""

    def __init__(
        self,
        users: Iterable[DirectoryUser] = (),
        *,
        base_dn: str = DEFAULT_BASE_DN,
        bind_password: str | None = None,
        workdir: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        size_limit: int = SERVER_SIZE_LIMIT,
    ) -> None:
        self.users = list(users)
        self.base_dn = base_dn
        self.host = host
        self.size_limit = size_limit
        self.bind_dn = f"cn=kaltura-reader,ou=services,{base_dn}"
        self.bind_password = bind_password or secrets.token_urlsafe(18)
        self.root_dn = f"cn=admin,{base_dn}"
        self.root_password = secrets.token_urlsafe(18)
        self.people_dn = f"ou=people,{base_dn}"
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="slapd-"))
        self.port = 0
        self.ldaps_port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._pki: _Pki | None = None

    @property
    def ldap_uri(self) -> str:
        """Plain-text URI (use StartTLS on it)."""
        return f"ldap://{self.host}:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        """TLS-from-the-start URI."""
        return f"ldaps://{self.host}:{self.ldaps_port}"

    @property
    def ca_cert_file(self) -> str:
        """PEM file of the CA that signed the server certificate."""
        if self._pki is None:
            raise SlapdError("the server has not been started")
        return str(self._pki.ca_cert)

    @property
    def log_file(self) -> Path:
        """Where slapd's own output goes."""
        return self.workdir / "slapd.log"

    @property
    def running(self) -> bool:
        """True while the slapd process is alive."""
        return self._process is not None and self._process.poll() is None

    def _config(self) -> str:
        includes = [SCHEMA_DIR / n for n in ("core.schema", "cosine.schema", "inetorgperson.schema")]
        includes.append(PURESOURCE_SCHEMA)
        assert self._pki is not None
        lines = [f"include {p}" for p in includes]
        lines += [
            f"pidfile {self.workdir / 'slapd.pid'}",
            f"argsfile {self.workdir / 'slapd.args'}",
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            "loglevel none",
            f"TLSCACertificateFile {self._pki.ca_cert}",
            f"TLSCertificateFile {self._pki.server_cert}",
            f"TLSCertificateKeyFile {self._pki.server_key}",
            f"sizelimit size.soft={self.size_limit} size.hard={self.size_limit} size.prtotal=unlimited",
            "database mdb",
            "maxsize 67108864",
            f'suffix "{self.base_dn}"',
            f'rootdn "{self.root_dn}"',
            f"rootpw {_ssha(self.root_password)}",
            f"directory {self.workdir / 'db'}",
            "index objectClass eq",
            "index uid eq",
            "index puresource eq",
            "access to attrs=userPassword by anonymous auth by * none",
            f'access to * by dn.exact="{self.bind_dn}" read by * none',
        ]
        return "\n".join(lines) + "\n"

    def _base_ldif(self) -> str:
        org = self.base_dn.split(",", 1)[0].split("=", 1)[1]
        text = _ldif_entry(self.base_dn, [("objectClass", "organization"), ("o", org)])
        for ou in ("people", "services"):
            text += _ldif_entry(
                f"ou={ou},{self.base_dn}", [("objectClass", "organizationalUnit"), ("ou", ou)]
            )
        text += _ldif_entry(
            self.bind_dn,
            [
                ("objectClass", "organizationalRole"),
                ("objectClass", "simpleSecurityObject"),
                ("cn", "kaltura-reader"),
                ("userPassword", _ssha(self.bind_password)),
            ],
        )
        for user in self.users:
            text += _ldif_entry(self.user_dn(user.uid), _user_attrs(user))
        return text

    def user_dn(self, uid: str) -> str:
        """The DN a person with this uid gets."""
        return f"uid={ldap.dn.escape_dn_chars(uid)},{self.people_dn}"

    def _prepare(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        db = self.workdir / "db"
        if db.exists():
            shutil.rmtree(db)
        db.mkdir()
        self._pki = _make_pki(self.workdir, self.host)
        conf = self.workdir / "slapd.conf"
        conf.write_text(self._config())
        ldif = self.workdir / "data.ldif"
        ldif.write_text(self._base_ldif(), encoding="utf-8")
        done = subprocess.run(
            [SLAPADD, "-q", "-f", str(conf), "-l", str(ldif)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SlapdError(f"slapadd failed ({done.returncode}): {done.stderr.strip()}")

    def start(self, timeout: float = 15.0) -> SlapdServer:
        """Write config, certificates and data, start slapd and wait until it answers a bind."""
        if not Path(SLAPD).exists():
            raise SlapdError(f"{SLAPD} not found: install Debian's slapd package")
        self._prepare()
        last_error = ""
        for _attempt in range(3):
            self.port, self.ldaps_port = _free_port(self.host), _free_port(self.host)
            last_error = self._launch(timeout) or ""
            if not last_error:
                return self
            self.stop(remove_workdir=False)
        raise SlapdError(f"slapd did not start: {last_error}\n{self._log_tail()}")

    def restart(self, timeout: float = 15.0) -> None:
        """Stop slapd and start it again on the same ports with the same data (drops every client)."""
        self.stop(remove_workdir=False)
        error = self._launch(timeout)
        if error:
            raise SlapdError(f"slapd did not restart: {error}\n{self._log_tail()}")

    def _launch(self, timeout: float) -> str | None:
        urls = f"{self.ldap_uri}/ {self.ldaps_uri}/"
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [SLAPD, "-f", str(self.workdir / "slapd.conf"), "-h", urls, "-d", "0"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        return self._wait_ready(timeout)

    def _log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _wait_ready(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        error = "timed out"
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return "slapd exited"
            try:
                conn = self.admin_connection()
                conn.unbind_s()
                return None
            except ldap.LDAPError as exc:
                error = repr(exc)
                time.sleep(0.05)
        return error

    def admin_connection(self, *, as_reader: bool = False) -> ldap.ldapobject.LDAPObject:
        """A connection over ldaps (verified against the fixture's CA) bound as root or as the reader."""
        conn = ldap.initialize(self.ldaps_uri)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 2.0)
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, self.ca_cert_file)
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        if as_reader:
            conn.simple_bind_s(self.bind_dn, self.bind_password)
        else:
            conn.simple_bind_s(self.root_dn, self.root_password)
        return conn

    @contextmanager
    def connection(self, *, as_reader: bool = False) -> Iterator[ldap.ldapobject.LDAPObject]:
        """`admin_connection()` as a context manager that unbinds on exit."""
        conn = self.admin_connection(as_reader=as_reader)
        try:
            yield conn
        finally:
            conn.unbind_s()

    def add_users(self, users: Iterable[DirectoryUser]) -> None:
        """Add people to the running server."""
        conn = self.admin_connection()
        try:
            for user in users:
                grouped: dict[str, list[bytes]] = {}
                for attr, value in _user_attrs(user):
                    grouped.setdefault(attr, []).append(value.encode())
                conn.add_s(self.user_dn(user.uid), list(grouped.items()))
                self.users.append(user)
        finally:
            conn.unbind_s()

    def airflow_connection(self, *, scheme: str = "ldaps") -> dict[str, object]:
        """The `ldap_default` connection as Airflow's JSON form (AIRFLOW_CONN_LDAP_DEFAULT)."""
        port = self.ldaps_port if scheme == "ldaps" else self.port
        extra: dict[str, object] = {
            "base_dn": self.base_dn,
            "ca_cert_file": self.ca_cert_file,
            "scheme": scheme,
        }
        if scheme == "ldap":
            extra["use_starttls"] = True
        return {
            "conn_type": "ldap",
            "host": self.host,
            "port": port,
            "login": self.bind_dn,
            "password": self.bind_password,
            "extra": extra,
        }

    def airflow_connection_uri(self, *, scheme: str = "ldaps") -> str:
        """The `ldap_default` connection as an Airflow URI."""
        conn = self.airflow_connection(scheme=scheme)
        extra = conn["extra"]
        assert isinstance(extra, dict)
        query = "&".join(f"{quote(k, safe='')}={quote(str(v), safe='')}" for k, v in extra.items())
        return (
            f"ldap://{quote(self.bind_dn, safe='')}:{quote(self.bind_password, safe='')}"
            f"@{self.host}:{conn['port']}/?{query}"
        )

    def stop(self, *, remove_workdir: bool | None = None) -> None:
        """Stop slapd (SIGTERM, then SIGKILL) and, if the workdir was ours, delete it."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if remove_workdir if remove_workdir is not None else self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> SlapdServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> None:
    """Run a slapd with the sample people in the foreground until interrupted (SIGINT or SIGTERM)."""
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    with SlapdServer(sample_people()) as server:
        print(f"slapd at {server.ldaps_uri} and {server.ldap_uri} (StartTLS)", flush=True)
        print(f"CA certificate: {server.ca_cert_file}", flush=True)
        print(f"export AIRFLOW_CONN_LDAP_DEFAULT='{json.dumps(server.airflow_connection())}'", flush=True)
        try:
            while server.running:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
