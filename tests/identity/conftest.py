"""Fixtures of the identity tests: the real OpenID provider."""

from tests.oidc_provider import oidc_issuer  # noqa: F401 - a fixture
