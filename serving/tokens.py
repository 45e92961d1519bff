"""API tokens: each acts as one governance role, is stored only as a hash, expires, and can be revoked.

A token reads `c360_<id>_<secret>`: the id finds its row in audit.api_tokens, the secret is checked against
the row's SHA-256 (the secret is 256 random bits, so a plain hash is enough; no password stretching). The
same id and secret are the client credentials of the OAuth 2.0 token endpoint, which hands out short-lived
tokens of the same role.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from c360_core.warehouse import Warehouse, arrow_table, create_table

TABLE = "audit.api_tokens"
COLUMNS = {
    "token_id": "varchar", "secret_sha256": "varchar", "role_name": "varchar", "kind": "varchar",
    "issued_by": "varchar", "created_at": "timestamp", "expires_at": "timestamp", "revoked_at": "timestamp",
}  # fmt: skip
PREFIX = "c360_"


@dataclass(frozen=True)
class Token:
    token_id: str
    role: str
    kind: str  # "api" (c360 tokens create) or "oauth" (the token endpoint's)
    expires_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed token, else None."""
    if not token.startswith(PREFIX):
        return None
    token_id, _, secret = token[len(PREFIX) :].partition("_")
    return (token_id, secret) if token_id and secret else None


def create(wh: Warehouse, role: str, lifetime: dt.timedelta, issued_by: str, kind: str = "api") -> tuple[str, Token]:
    """A new token of `role`; returns the token as the caller must keep it (it is never shown again)."""
    create_table(wh, TABLE, COLUMNS)
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32).replace("_", "-")
    now = _now()
    row = (token_id, _digest(secret), role, kind, issued_by, now, now + lifetime, None)
    wh.insert_arrow(TABLE, arrow_table(COLUMNS, [row]))
    return f"{PREFIX}{token_id}_{secret}", Token(token_id, role, kind, now + lifetime)


def ensure(wh: Warehouse) -> None:
    create_table(wh, TABLE, COLUMNS)


def verify(wh: Warehouse, token: str) -> Token | None:
    """The token's identity if it is known, unexpired and not revoked; else None (the caller answers 401).
    On every request: the table is made once, when the API starts (`ensure`)."""
    parts = split(token)
    if parts is None:
        return None
    _, rows = wh.query(
        f"select secret_sha256, role_name, kind, expires_at, revoked_at from {TABLE} where token_id = ?", [parts[0]]
    )
    if not rows:
        return None
    digest, role, kind, expires_at, revoked_at = rows[0]
    if not hmac.compare_digest(digest, _digest(parts[1])) or revoked_at is not None or expires_at <= _now():
        return None
    return Token(parts[0], role, kind, expires_at)


def revoke(wh: Warehouse, token_id: str) -> bool:
    """Revoke a token by its id (the part after `c360_`); True if it was active."""
    create_table(wh, TABLE, COLUMNS)
    _, rows = wh.query(f"select count(*) from {TABLE} where token_id = ? and revoked_at is null", [token_id])
    wh.execute(f"update {TABLE} set revoked_at = ? where token_id = ? and revoked_at is null", [_now(), token_id])
    return rows[0][0] > 0


def listing(wh: Warehouse) -> list[tuple]:
    """(id, role, kind, issued by, created, expires, revoked) of every token, newest first; never a secret."""
    create_table(wh, TABLE, COLUMNS)
    return wh.query(
        f"select token_id, role_name, kind, issued_by, created_at, expires_at, revoked_at from {TABLE} "
        "order by created_at desc, token_id"
    )[1]
