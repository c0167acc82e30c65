"""S3 sessions tuned by `configure_s3_session`: timestamps read fast give the values botocore's own parser
gives, for every form S3 sends; the sessions of a process share one service-model loader."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.utils import parse_timestamp

from kaltura_archiver.archive_store import configure_s3_session, s3_timestamp


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-29T14:40:29.000Z",  # ListObjectsV2 LastModified
        "2026-11-29T14:40:29Z",
        "2026-11-29T14:40:29.123456+00:00",
        "Sun, 29 Nov 2026 14:40:29 GMT",  # Last-Modified header of HEAD / GET
        1796049629,  # epoch seconds
        "1796049629",
    ],
)
def test_the_fast_reader_agrees_with_botocore(value: object) -> None:
    fast, slow = s3_timestamp(value), parse_timestamp(value)
    assert fast == slow and fast.utcoffset() == slow.utcoffset()
    assert fast.astimezone(UTC) == slow.astimezone(UTC)


def test_clients_of_a_configured_session_use_it() -> None:
    session = configure_s3_session(boto3.session.Session())
    client = session.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    parser = client._endpoint._response_parser_factory.create_parser("rest-xml")  # what parses answers
    assert parser._timestamp_parser is s3_timestamp
    assert datetime(2026, 11, 29, 14, 40, 29, tzinfo=UTC) == s3_timestamp("2026-11-29T14:40:29.000Z")
    plain = boto3.session.Session().client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    assert (
        plain._endpoint._response_parser_factory.create_parser("rest-xml")._timestamp_parser
        is not s3_timestamp
    )


def test_configured_sessions_share_one_model_loader() -> None:
    one = configure_s3_session(boto3.session.Session())
    two = configure_s3_session(boto3.session.Session())
    loader = one._session.get_component("data_loader")
    assert loader is two._session.get_component("data_loader")
    assert loader is not boto3.session.Session()._session.get_component("data_loader")
    for session in (one, two):
        session.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
