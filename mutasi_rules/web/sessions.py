"""Browser sessions of the web application: an API key logs in, a random token is all the cookie holds.

The key itself never goes back to the browser: the session cookie carries a random token
(HttpOnly, SameSite=Strict), and the server keeps token -> (key, CSRF token, language). The
key is re-checked against the key store on every request, so a revoked key ends its sessions
at once. Sessions expire after ``idle_seconds`` without a request; the store is bounded.
Session time is the server's monotonic clock: it decides nothing but when to ask for the key
again.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

COOKIE = "mutasi_session"
LOGIN_COOKIE = "mutasi_login"  # double-submit token of the login form (there is no session yet)


@dataclass
class Session:
    key: str
    lang: str = "id"
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    seen: float = field(default_factory=time.monotonic)

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class SessionStore:
    """Sessions by token, least recently used dropped beyond ``capacity``."""

    def __init__(self, *, idle_seconds: float = 8 * 3600, capacity: int = 10_000) -> None:
        self.idle_seconds = idle_seconds
        self.capacity = capacity
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, key: str, lang: str = "id") -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(key=key, lang=lang)
        with self._lock:
            self._sessions[token] = session
            while len(self._sessions) > self.capacity:
                self._sessions.popitem(last=False)
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.seen > self.idle_seconds:
                del self._sessions[token]
                return None
            session.seen = now
            self._sessions.move_to_end(token)
            return session

    def close(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(token, None)


__all__ = ["COOKIE", "LOGIN_COOKIE", "Session", "SessionStore"]
