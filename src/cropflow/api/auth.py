"""Bearer-token check of write requests, and the loopback rule for servers without a token."""

from __future__ import annotations

import ipaddress
import secrets

from fastapi import HTTPException, Request, status

LOOPBACK_NAMES = ("localhost",)


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

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Missing bearer token: send the header Authorization: Bearer TOKEN.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not secrets.compare_digest(token.strip().encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Invalid bearer token.")
