"""Bearer-token check of write requests, and the loopback rule for servers without a token."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import threading
import time
from collections import defaultdict, deque

from fastapi import HTTPException, Request, status

logger = logging.getLogger(__name__)

LOOPBACK_NAMES = ("localhost",)
# A client that sends this many wrong or missing tokens within the window
# gets 429 until the window has passed, which slows down token guessing.
MAX_FAILED_ATTEMPTS = 10
FAILED_ATTEMPT_WINDOW_S = 60.0


class FailedAttempts:
    """Failed token attempts per client address in a sliding window. Thread-safe."""

    def __init__(self, *, limit: int = MAX_FAILED_ATTEMPTS, window_s: float = FAILED_ATTEMPT_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._times: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def is_blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client)) >= self.limit

    def record(self, client: str) -> None:
        with self._lock:
            recent = self._recent(client)
            recent.append(time.monotonic())
            if len(recent) == self.limit:
                logger.warning("Client %s sent %d invalid tokens in %.0f s; blocked for now", client, self.limit,
                               self.window_s)

    def _recent(self, client: str) -> deque[float]:
        times = self._times[client]
        cutoff = time.monotonic() - self.window_s
        while times and times[0] < cutoff:
            times.popleft()
        return times


def is_loopback_host(host: str) -> bool:
    """Return True when ``host`` is a loopback address or ``localhost``.

    ``0.0.0.0``, ``::`` and every other name or address count as reachable
    from other machines.
    """
    candidate = host.strip().strip("[]")
    if candidate.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(candidate).is_loopback
    except ValueError:
        return False


def check_serve_security(host: str, api_token: str | None) -> str | None:
    """Return why a server on ``host`` must not start, or None when it may.

    A server without a token accepts writes from anyone who can reach it,
    so it may only listen on a loopback address.
    """
    if api_token or is_loopback_host(host):
        return None
    return (
        f"Cannot listen on {host} without an API token, because anyone who can reach it could upload plans. "
        "Set CROPFLOW_API_TOKEN, or use --host 127.0.0.1."
    )


def require_write_access(request: Request) -> None:
    """Reject a write request unless it carries the configured bearer token.

    Without a configured token, writes are allowed only when the app was
    created for a loopback bind address.
    """
    expected: str | None = request.app.state.api_token
    if not expected:
        if request.app.state.writes_allowed_without_token:
            return
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Writes are disabled: the server listens on a non-loopback address without CROPFLOW_API_TOKEN.",
        )

    failures: FailedAttempts = request.app.state.failed_token_attempts
    client = request.client.host if request.client else "unknown"
    if failures.is_blocked(client):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Too many invalid tokens from {client}; try again in {failures.window_s:.0f} s.",
            headers={"Retry-After": str(int(failures.window_s))},
        )

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        failures.record(client)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Missing bearer token: send the header Authorization: Bearer TOKEN.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not secrets.compare_digest(token.strip().encode(), expected.encode()):
        failures.record(client)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Invalid bearer token.")
