"""Shared pytest configuration: fixtures for the local stack live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.s3",
    "tests.fixtures.ldap",
]
