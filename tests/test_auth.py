"""The App's JWT."""

from __future__ import annotations

import jwt

from bot.github.auth import AppCredentials, app_jwt
from tests.conftest import APP_ID, app_keys


def test_jwt_is_backdated_and_short_lived():
    token = app_jwt(AppCredentials(APP_ID, app_keys()[0]), now=1_000_000)
    claims = jwt.decode(token, app_keys()[1], algorithms=["RS256"], options={"verify_exp": False})
    assert claims == {"iat": 1_000_000 - 60, "exp": 1_000_000 - 60 + 540, "iss": APP_ID}


def test_credentials_repr_hides_the_key():
    assert "PRIVATE" not in repr(AppCredentials(APP_ID, app_keys()[0]))
