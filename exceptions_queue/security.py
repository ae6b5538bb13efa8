"""Signed session cookies and CSRF tokens for the review app.

The cookie holds ``{"u": username or None, "c": csrf token}`` signed and timestamped with
``settings.secret_key`` (itsdangerous); it expires after ``settings.session_hours``. A visitor who
has not signed in gets a cookie with only a CSRF token, so the login form is protected too. The
token is rotated at sign-in. The user's role and clients are read from the database on every
request, so a changed role or a deleted user takes effect at once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

COOKIE = "docflow_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class SessionData:
    username: str | None
    csrf: str
    expired: bool = False


class SessionCodec:
    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="docflow-review-session")
        self.max_age = max_age_seconds

    def dump(self, username: str | None, csrf: str | None = None) -> tuple[str, SessionData]:
        data = SessionData(username, csrf or secrets.token_urlsafe(32))
        return self._serializer.dumps({"u": data.username, "c": data.csrf}), data

    def load(self, cookie: str | None) -> SessionData | None:
        """The session, ``expired=True`` if it was genuine but too old, None if absent or forged."""
        if not cookie:
            return None
        try:
            raw = self._serializer.loads(cookie, max_age=self.max_age)
        except SignatureExpired:
            return SessionData(None, "", expired=True)
        except BadSignature:
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("c"), str):
            return None
        user = raw.get("u")
        return SessionData(user if isinstance(user, str) else None, raw["c"])


def csrf_ok(session: SessionData | None, token: str | None) -> bool:
    if session is None or not session.csrf or not token:
        return False
    return hmac.compare_digest(session.csrf.encode(), token.encode())
