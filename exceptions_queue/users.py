"""Review-app users: argon2id password hashes, a role and the clients a user may see.

Roles: ``reviewer`` (clears items), ``finance`` (reads; billing reports), ``admin`` (everything,
including the ``senior`` queue). A user sees only the clients listed for them; ``"*"`` means every
client. Passing no client to ``add_user`` for an admin gives ``["*"]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from core.db import UserRow
from core.errors import ConflictError, DocflowError

ROLES = ("reviewer", "finance", "admin")
ALL_CLIENTS = "*"
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("docflow-timing-equaliser")


class InvalidUserError(DocflowError, ValueError):
    """A user name, role or password that cannot be accepted (nothing was saved)."""

    exit_code = 2


@dataclass(frozen=True)
class User:
    username: str
    role: str
    clients: tuple[str, ...]

    @property
    def all_clients(self) -> bool:
        return ALL_CLIENTS in self.clients

    def visible_clients(self) -> list[str] | None:
        """The clients to filter by; None means every client."""
        return None if self.all_clients else list(self.clients)

    def sees(self, client: str) -> bool:
        return self.all_clients or client in self.clients

    @property
    def can_review(self) -> bool:
        return self.role in ("reviewer", "admin")

    @property
    def is_senior(self) -> bool:
        return self.role == "admin"


def _user(row: UserRow) -> User:
    return User(row.username, row.role, tuple(str(c) for c in row.clients or []))


def add_user(session: Session, name: str, role: str, clients: Iterable[str], password: str,
             *, replace: bool = False) -> User:
    """Create (or with ``replace`` update) a user; InvalidUserError on a bad name, role or
    password, ConflictError if the user exists and ``replace`` is false."""
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise InvalidUserError("user name must be 1-100 characters without spaces")
    if role not in ROLES:
        raise InvalidUserError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise InvalidUserError("password must have at least 8 characters")
    client_list = sorted({c.strip() for c in clients if c.strip()})
    if not client_list and role == "admin":
        client_list = [ALL_CLIENTS]
    row = session.get(UserRow, name)
    if row is not None and not replace:
        raise ConflictError(f"user {name} already exists")
    if row is None:
        row = UserRow(username=name)
        session.add(row)
    row.password_hash = _hasher.hash(password)
    row.role = role
    row.clients = client_list
    session.flush()
    return _user(row)


def get_user(session: Session, name: str) -> User | None:
    row = session.get(UserRow, name)
    return None if row is None else _user(row)


def verify(session: Session, name: str, password: str) -> User | None:
    """The user if ``password`` is theirs, else None (same work whether or not the user exists)."""
    row = session.get(UserRow, name) if name else None
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return _user(row)
