"""The stand-in itself: it must refuse what GitHub would not do, or the App's tests prove nothing."""

from __future__ import annotations

import json

import pytest

from tests.standin import spec


async def test_unknown_endpoint_is_recorded_as_an_error(standin, aiohttp_client):
    client = await aiohttp_client(standin.app())
    response = await client.get("/repos/o/r/no-such-endpoint")
    assert response.status == 404
    assert standin.errors and "no-such-endpoint" in standin.errors[0]
    standin.errors.clear()


async def test_request_body_against_the_schema(standin, aiohttp_client):
    client = await aiohttp_client(standin.app())
    response = await client.post("/repos/o/r/git/commits", json={"tree": 42})  # message missing, tree not a string
    assert response.status == 404
    assert standin.errors and "git/commits" in standin.errors[0]
    standin.errors.clear()


def test_response_check_rejects_what_github_would_not_send():
    request = spec.Request("GET", "/repos/o/r/git/trees/abc", {}, {}, b"", "")
    good = {"sha": "a" * 40, "url": "u", "tree": [], "truncated": False}
    assert spec.check_response(request, spec.Response(200, json.dumps(good).encode(), "application/json", {})) == ""
    bad = {"sha": "a" * 40, "tree": "not a list"}
    assert spec.check_response(request, spec.Response(200, json.dumps(bad).encode(), "application/json", {})) != ""


@pytest.mark.parametrize("path", ["/repos/o/r/git/ref/heads/main", "/repos/o/r/git/ref/heads/repodoc/feature/x"])
def test_refs_with_slashes_are_matched(path):
    assert spec.check_request(spec.Request("GET", path, {}, {}, b"", "")) == ""


async def test_tokens_need_a_jwt_signed_by_the_app(standin, aiohttp_client):
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    forged = jwt.encode({"iat": 0, "exp": 500, "iss": standin.app_id}, other, algorithm="RS256")
    client = await aiohttp_client(standin.app())
    response = await client.post("/app/installations/1/access_tokens", headers={"Authorization": f"Bearer {forged}"})
    assert response.status == 401 and standin.tokens == {}
