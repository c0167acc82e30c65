"""People report against a real slapd (tests/fixtures/ldap.py): states, TLS, injection, batching, errors."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path

import ldap
import pandas as pd
import pytest

from dev.ldap.slapd_server import DirectoryUser, SlapdServer
from kaltura_archiver.directory import (
    DirectoryAuthError,
    DirectoryConfig,
    DirectoryUnavailableError,
    LdapDirectory,
    uid_filter,
)
from kaltura_archiver.people_report import enrich_report, enrich_report_file, read_report

pytestmark = pytest.mark.integration

ACTIVE_FLAGS = {"authentication=enabled", "authentication=goingaway"}


def expected(user: DirectoryUser | None) -> tuple[str, str, str]:
    """The report's (status, name, org_unit) for a directory user, computed from the test data."""
    if user is None:
        return ("inactive", "", "")
    active = any(flag.lower() in ACTIVE_FLAGS for flag in user.puresource)
    return ("active" if active else "inactive", user.display_name or user.cn, "; ".join(user.ou))


def people_by_uid(people: list[DirectoryUser]) -> dict[str, DirectoryUser]:
    return {user.uid.lower(): user for user in people}


def report(creators: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entry_id": [f"0_{i:07d}" for i in range(len(creators))],
            "status": ["2"] * len(creators),
            "creator_id": creators,
        }
    )


def test_every_state(ldap_directory: LdapDirectory, slapd_people: list[DirectoryUser]) -> None:
    creators = [
        "alice@princeton.edu",
        "bob",
        "carol",
        "dave",
        "erin",
        "frank",
        "GRACE@Princeton.EDU",
        "heidi",
        "ivan",
        "nobody@princeton.edu",
        "",
        " alice ",
    ]
    frame = enrich_report(report(creators), ldap_directory)
    known = people_by_uid(slapd_people)
    got = list(zip(frame["owner_status"], frame["owner_name"], frame["owner_org_unit"], strict=True))
    want = [expected(known.get(c.strip().split("@")[0].lower())) for c in creators]
    assert got == want
    by_creator = dict(zip(creators, got, strict=True))
    assert by_creator["alice@princeton.edu"] == ("active", "Alice A. Anders", "Computer Science")
    assert by_creator["bob"][0] == "active"
    assert by_creator["carol"] == ("inactive", "Carol Chen", "Library")
    assert by_creator["dave"] == ("active", "Dave Dunn", "Physics")
    assert by_creator["erin"][2] == "Chemistry; Office of the Dean of the College"
    assert by_creator["ivan"][0] == "inactive"
    assert by_creator["nobody@princeton.edu"] == ("inactive", "", "")
    assert list(frame["status"]) == ["2"] * len(creators)


def test_starttls_gives_the_same_answers(ldap_config: DirectoryConfig, slapd: SlapdServer) -> None:
    config = dataclasses.replace(ldap_config, scheme="ldap", port=slapd.port, use_starttls=True)
    ldaps = LdapDirectory(ldap_config).lookup(["alice", "carol", "zed"])
    with LdapDirectory(config) as starttls:
        assert starttls.lookup(["alice", "carol", "zed"]) == ldaps


def test_certificate_is_verified_by_default(ldap_config: DirectoryConfig, slapd: SlapdServer) -> None:
    for config in (
        dataclasses.replace(ldap_config, ca_cert_file=None),
        dataclasses.replace(ldap_config, ca_cert_file=None, scheme="ldap", port=slapd.port),
    ):
        with pytest.raises(DirectoryUnavailableError, match="TLS handshake failed"):
            LdapDirectory(config).connect()
    unverified = dataclasses.replace(ldap_config, ca_cert_file=None, verify_cert=False)
    assert "NOT verified" in unverified.transport
    with LdapDirectory(unverified) as directory:
        assert directory.lookup(["alice"])["alice"].active


def test_filter_injection_does_not_widen_the_search(
    ldap_directory: LdapDirectory, slapd: SlapdServer
) -> None:
    hostile = ["*)(uid=*", "*", "alice)(|(uid=*", "bob*", "carol\\", "(uid=dave)"]
    people = ldap_directory.lookup(hostile)
    assert {p.status for p in people.values()} == {"inactive"}
    assert not any(p.found for p in people.values())
    assert ldap_directory.stats.entries == 0
    # Control: the same value unescaped would have matched everybody in the directory.
    with slapd.connection() as admin:
        widened = admin.search_s(slapd.base_dn, ldap.SCOPE_SUBTREE, "(|(uid=*)(uid=*))", ["uid"])
    assert len(widened) > 100
    assert uid_filter(["*)(uid=*"]) == "(|(uid=\\2a\\29\\28uid=\\2a))"


def test_ten_thousand_rows_cost_few_searches(
    ldap_directory: LdapDirectory, slapd_people: list[DirectoryUser]
) -> None:
    rng = random.Random(7)
    population = [u.uid for u in slapd_people] + [f"gone{i:04d}" for i in range(1200)]
    creators = [f"{rng.choice(population)}@princeton.edu" for _ in range(10_000)]
    frame = enrich_report(report(creators), ldap_directory)
    distinct = {c.split("@")[0] for c in creators}
    batches = math.ceil(len(distinct) / ldap_directory.config.batch_size)
    assert ldap_directory.stats.searches <= 2 * batches <= 300
    known = people_by_uid(slapd_people)
    want = [expected(known.get(c.split("@")[0])) for c in creators]
    got = list(zip(frame["owner_status"], frame["owner_name"], frame["owner_org_unit"], strict=True))
    assert got == want
    before = ldap_directory.stats.searches
    enrich_report(report(creators[:500]), ldap_directory)
    assert ldap_directory.stats.searches == before


def test_large_answers_are_paged(ldap_config: DirectoryConfig, slapd: SlapdServer) -> None:
    uids = [f"bulk{i:04d}" for i in range(0, 300)]
    config = dataclasses.replace(ldap_config, batch_size=300, page_size=40, active_filter="")
    with LdapDirectory(config) as directory:
        people = directory.lookup(uids)
        assert all(p.found for p in people.values())
        assert directory.stats.searches == 1
        assert directory.stats.pages >= math.ceil(300 / 40)
    with slapd.connection(as_reader=True) as reader, pytest.raises(ldap.SIZELIMIT_EXCEEDED):
        reader.search_s(slapd.base_dn, ldap.SCOPE_SUBTREE, uid_filter(uids), ["uid"])


def test_bad_password_is_a_clear_error_and_writes_nothing(
    ldap_config: DirectoryConfig, tmp_path: Path
) -> None:
    wrong = "not-the-password-" + "x" * 8
    directory = LdapDirectory(dataclasses.replace(ldap_config, password=wrong))
    target = tmp_path / "people.tsv"
    with pytest.raises(DirectoryAuthError) as caught:
        enrich_report_file(report(["alice", "bob"]), target, directory)
    message = str(caught.value)
    assert "invalid credentials" in message
    assert ldap_config.bind_dn and ldap_config.password
    assert ldap_config.bind_dn in message
    assert wrong not in message and wrong not in repr(caught.value)
    assert ldap_config.password not in message
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_report_file_round_trip(ldap_directory: LdapDirectory, tmp_path: Path) -> None:
    source = tmp_path / "list.tsv"
    report(["alice", "007", "carol@princeton.edu"]).to_csv(source, sep="\t", index=False)
    target = tmp_path / "out" / "people.tsv"
    enrich_report_file(source, target, ldap_directory)
    written = read_report(target)
    assert list(written.columns) == [
        "entry_id",
        "status",
        "creator_id",
        "owner_status",
        "owner_name",
        "owner_org_unit",
    ]
    assert list(written["creator_id"]) == ["alice", "007", "carol@princeton.edu"]
    assert list(written["owner_status"]) == ["active", "inactive", "inactive"]
    assert list(written["owner_name"]) == ["Alice A. Anders", "", "Carol Chen"]


def test_hook_reads_the_connection_and_masks_the_password(
    ldap_airflow_conn: str, slapd: SlapdServer, tmp_path: Path
) -> None:
    from airflow.sdk._shared.secrets_masker import redact

    from kaltura_archiver.airflow.hooks.ldap_hook import LdapHook

    hook = LdapHook(ldap_conn_id=ldap_airflow_conn)
    config = hook.get_config()
    assert (config.scheme, config.port, config.verify_cert) == ("ldaps", slapd.ldaps_port, True)
    assert redact(f"password is {slapd.bind_password}") == "password is ***"
    ok, message = hook.test_connection()
    assert ok, message
    assert slapd.bind_dn in message
    source = tmp_path / "list.tsv"
    report(["alice@princeton.edu", "carol"]).to_csv(source, sep="\t", index=False)
    frame = hook.enrich_report(source, tmp_path / "people.tsv")
    assert list(frame["owner_status"]) == ["active", "inactive"]
    assert read_report(tmp_path / "people.tsv").equals(frame)


def test_hook_over_starttls_and_bad_password(
    slapd: SlapdServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kaltura_archiver.airflow.hooks.ldap_hook import LdapHook

    conn = slapd.airflow_connection(scheme="ldap")
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_STARTTLS", json.dumps(conn))
    ok, message = LdapHook("ldap_starttls").test_connection()
    assert ok and "StartTLS" in message, message
    monkeypatch.setenv("AIRFLOW_CONN_LDAP_WRONG", json.dumps({**conn, "password": "Wr0ng-Secret"}))
    ok, message = LdapHook("ldap_wrong").test_connection()
    assert not ok and "invalid credentials" in message and "Wr0ng-Secret" not in message
    with pytest.raises(DirectoryAuthError):
        LdapHook("ldap_wrong").enrich_report(report(["alice"]), tmp_path / "people.tsv")
    assert not (tmp_path / "people.tsv").exists()


def test_reconnects_once_after_the_server_restarts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    people = [DirectoryUser("amy", "Amy A", puresource=("authentication=enabled",))]
    people.append(DirectoryUser("ben", "Ben B", ou=("Math",)))
    with SlapdServer(people, workdir=tmp_path / "own-slapd") as server:
        config = DirectoryConfig(
            host=server.host,
            port=server.ldaps_port,
            bind_dn=server.bind_dn,
            password=server.bind_password,
            ca_cert_file=server.ca_cert_file,
            timeout=5.0,
        )
        with LdapDirectory(config) as directory:
            assert directory.lookup(["amy"])["amy"].active
            server.restart()
            ben = directory.lookup(["ben"])["ben"]
            assert (ben.found, ben.active, ben.org_unit) == (True, False, "Math")
            assert "reconnecting once" in caplog.text
            server.stop(remove_workdir=False)
            with pytest.raises(DirectoryUnavailableError, match="TCP connect failed"):
                directory.lookup(["nobody"])


def test_per_user_template_filter_matches_the_default(ldap_config: DirectoryConfig) -> None:
    template = "(&(uid={uid})(|(puresource=authentication=enabled)(puresource=authentication=goingaway)))"
    uids = ["alice", "bob", "carol", "dave", "frank", "grace", "ivan", "nobody", "*)(uid=*"]
    with LdapDirectory(ldap_config) as default:
        want = default.lookup(uids)
    with LdapDirectory(dataclasses.replace(ldap_config, active_filter=template)) as templated:
        assert templated.lookup(uids) == want
        assert templated.stats.entries == default.stats.entries
    assert [p.status for p in want.values()].count("active") == 4
