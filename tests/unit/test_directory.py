"""Unit tests of the directory's pure parts and of the people report with a fake directory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import pytest

from kaltura_archiver.directory import (
    DEFAULT_ACTIVE_FILTER,
    DEFAULT_BASE_DN,
    DirectoryConfig,
    DirectoryConfigError,
    LdapDirectory,
    Person,
    active_uid_filter,
    as_filter,
    bind_dn_for,
    config_from_fields,
    person_from_entry,
    uid_filter,
    uid_key,
)
from kaltura_archiver.people_report import (
    ReportError,
    enrich_report,
    enrich_report_file,
    people_column_names,
    uid_from_creator_id,
)


def test_uid_filter_escapes_every_value() -> None:
    assert uid_filter(["alice", "*)(uid=*"]) == "(|(uid=alice)(uid=\\2a\\29\\28uid=\\2a))"
    assert uid_filter(["a\\b", "nul\x00"], "mail") == "(|(mail=a\\5cb)(mail=nul\\00))"


def test_active_uid_filter_forms() -> None:
    assert active_uid_filter(["a", "b*"], DEFAULT_ACTIVE_FILTER) == (
        f"(&(|(uid=a)(uid=b\\2a)){DEFAULT_ACTIVE_FILTER})"
    )
    assert active_uid_filter(["a"], "puresource=authentication=enabled") == (
        "(&(|(uid=a))(puresource=authentication=enabled))"
    )
    assert active_uid_filter(["a"], "") == "(|(uid=a))"
    template = "(&(uid={uid})(puresource=authentication=enabled))"
    assert active_uid_filter(["a", "x)(uid=*"], template) == (
        "(|(&(uid=a)(puresource=authentication=enabled))"
        "(&(uid=x\\29\\28uid=\\2a)(puresource=authentication=enabled)))"
    )
    assert as_filter(" (a=b) ") == "(a=b)"


def test_config_defaults_are_safe() -> None:
    config = DirectoryConfig(host="ldap.example.edu")
    assert config.uri == "ldaps://ldap.example.edu:636"
    assert config.verify_cert and config.base_dn == DEFAULT_BASE_DN
    assert config.active_filter == DEFAULT_ACTIVE_FILTER
    assert DirectoryConfig(host="h", scheme="ldap").uri == "ldap://h:389"
    assert DirectoryConfig(host="h", scheme="ldap").transport == "StartTLS, certificate verified"
    assert "password" not in repr(DirectoryConfig(host="h", bind_dn="cn=x", password="s3cret-pw"))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"bind_dn": "cn=reader,o=x", "password": ""}, "unauthenticated bind"),
        ({"scheme": "http"}, "scheme"),
        ({"port": 70000}, "port"),
        ({"base_dn": "not a dn"}, "base_dn"),
        ({"active_filter": "(|(a=b)"}, "unbalanced"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 5000}, "batch_size"),
        ({"page_size": 0}, "page_size"),
        ({"host": "ldaps://h"}, "host"),
        ({"uid_attribute": "uid)(x"}, "uid_attribute"),
    ],
)
def test_config_rejects_bad_values(changes: dict[str, object], problem: str) -> None:
    fields: dict[str, object] = {"host": "h", **changes}
    with pytest.raises(DirectoryConfigError, match=problem):
        DirectoryConfig(**fields)  # type: ignore[arg-type]


def test_bind_dn_for_logins() -> None:
    assert bind_dn_for(None, DEFAULT_BASE_DN) is None
    assert bind_dn_for("cn=reader,o=x", DEFAULT_BASE_DN) == "cn=reader,o=x"
    assert bind_dn_for("svc@example.edu", DEFAULT_BASE_DN) == "svc@example.edu"
    assert bind_dn_for("svc", "o=x") == "uid=svc,o=x"
    assert bind_dn_for("a,b+c", "o=x") == "uid=a\\,b\\+c,o=x"
    assert bind_dn_for("svc", "o=x", "cn={user},ou=services,{base_dn}") == "cn=svc,ou=services,o=x"


def test_config_from_connection_fields() -> None:
    config = config_from_fields(
        "ldaps://ldap.example.edu:1636/",
        None,
        "cn=reader,o=x",
        "pw",
        {"base_dn": "o=x", "verify_cert": "true", "batch_size": "120", "page_size": 50},
    )
    assert (config.scheme, config.host, config.port) == ("ldaps", "ldap.example.edu", 1636)
    assert (config.batch_size, config.page_size, config.base_dn) == (120, 50, "o=x")
    plain = config_from_fields("h", 389, "svc", "pw", {"extra__ldap__base_dn": "o=y"})
    assert (plain.scheme, plain.use_starttls, plain.bind_dn) == ("ldap", True, "uid=svc,o=y")
    assert config_from_fields("h", 636).scheme == "ldaps"
    assert config_from_fields("h", 1389, extra={"ldaps": "false"}).scheme == "ldap"
    assert config_from_fields("h", 1389, schema="ldap").scheme == "ldap"
    relaxed = config_from_fields("h", extra={"verify_cert": False, "use_starttls": "no"})
    assert not relaxed.verify_cert and not relaxed.use_starttls
    with pytest.raises(DirectoryConfigError, match="verify_cert"):
        config_from_fields("h", extra={"verify_cert": "maybe"})
    with pytest.raises(DirectoryConfigError, match="unauthenticated"):
        config_from_fields("h", login="cn=reader,o=x", password="")


def test_person_from_entry() -> None:
    full = {"displayName": [b"D\xc3\xa9 Name"], "cn": [b"Common"], "ou": [b"A", b"B", b"A"]}
    assert person_from_entry("u", full, active=True) == Person("u", True, "Dé Name", "A; B", True)
    no_display = {"cn": [b"Common", b"Other"], "OU": [b" Single "]}
    assert person_from_entry("u", no_display, active=False) == Person("u", False, "Common", "Single", True)
    assert person_from_entry("u", {}, active=False).name == ""


def test_uid_from_creator_id() -> None:
    assert uid_from_creator_id("alice@princeton.edu") == "alice"
    assert uid_from_creator_id(" Bob ") == "Bob"
    assert uid_from_creator_id("*)(uid=*") == "*)(uid=*"
    assert uid_from_creator_id(None) == ""
    assert uid_from_creator_id(float("nan")) == ""
    assert uid_from_creator_id(pd.NA) == ""
    assert uid_from_creator_id(42) == "42"
    assert uid_key(" ALICE ") == "alice"


def test_people_column_names() -> None:
    assert people_column_names(["creator_id"]) == ("status", "name", "org_unit")
    assert people_column_names(["status", "creator_id"]) == ("owner_status", "owner_name", "owner_org_unit")
    with pytest.raises(ReportError, match="enriched already"):
        people_column_names(["status", "owner_status"])


class FakeDirectory:
    """A PeopleDirectory over a dict, recording every lookup call."""

    def __init__(self, people: dict[str, Person]) -> None:
        self.people = people
        self.calls: list[list[str]] = []

    def lookup(self, uids: Iterable[str]) -> dict[str, Person]:
        asked = list(uids)
        self.calls.append(asked)
        return {uid_key(u): self.people.get(uid_key(u), Person(u)) for u in asked}


def test_enrich_report_with_a_fake_directory(tmp_path: Path) -> None:
    directory = FakeDirectory({"alice": Person("alice", True, "Alice", "CS", True)})
    frame = pd.DataFrame({"creator_id": ["alice@x.edu", "ALICE", "", "bob", None], "n": range(5)})
    out = enrich_report(frame, directory)
    assert directory.calls == [["alice", "ALICE", "bob"]]
    assert list(out["status"]) == ["active", "active", "inactive", "inactive", "inactive"]
    assert list(out["name"]) == ["Alice", "Alice", "", "", ""]
    assert "status" not in frame.columns
    with pytest.raises(ReportError, match="creator_id"):
        enrich_report(pd.DataFrame({"owner": ["a"]}), directory)
    with pytest.raises(ReportError, match="cannot read"):
        enrich_report(tmp_path / "missing.tsv", directory)


def test_failed_lookup_leaves_an_existing_report_untouched(tmp_path: Path) -> None:
    class Broken(FakeDirectory):
        def lookup(self, uids: Iterable[str]) -> dict[str, Person]:
            raise RuntimeError("directory down")

    target = tmp_path / "people.tsv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        enrich_report_file(pd.DataFrame({"creator_id": ["a"]}), target, Broken({}))
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["people.tsv"]


class CountingDirectory(LdapDirectory):
    """LdapDirectory whose search answers from memory: every uid exists, those ending in 0 are active."""

    def __init__(self, config: DirectoryConfig) -> None:
        super().__init__(config)
        self.filters: list[str] = []

    def search(self, filterstr: str, attributes: Sequence[str]) -> list[tuple[str, dict[str, list[bytes]]]]:
        self.stats.searches += 1
        self.filters.append(filterstr)
        uids = [term.split("=", 1)[1] for term in filterstr.split("(uid")[1:]]
        uids = [u.split(")", 1)[0] for u in uids]
        active = filterstr.startswith("(&")
        return [
            (f"uid={u},o=x", {"uid": [u.encode()], "cn": [u.upper().encode()]})
            for u in uids
            if u.endswith("0") == active
        ]


def test_lookup_batches_and_caches() -> None:
    directory = CountingDirectory(DirectoryConfig(host="h", batch_size=100))
    uids = [f"u{i}" for i in range(1000)] * 3
    people = directory.lookup(uids)
    assert len(people) == 1000
    assert directory.stats.searches == 20
    assert max(f.count("(uid=") for f in directory.filters) == 100
    assert people["u10"].active and not people["u11"].active and people["u11"].found
    assert people["u11"].name == "U11"
    directory.lookup(["U10", "u999", "new"])
    assert directory.stats.searches == 22
    assert directory.stats.cache_hits == 2
