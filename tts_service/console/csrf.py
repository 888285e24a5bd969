"""CSRF tokens for the console's forms.

A signed-in editor's forms carry the session's token (:class:`~.sessions.Session`); the
sign-in form, which has no session yet, carries a token that must equal the one in a
short-lived cookie set with the form (a "double submit"), so another site cannot sign a
browser in with the attacker's key. Both are compared in constant time.
"""

from __future__ import annotations

import secrets

__all__ = ["FIELD", "new_token", "valid"]

#: The hidden field every console form sends its token in.
FIELD = "csrf"


def new_token() -> str:
    """A fresh random token."""
    return secrets.token_urlsafe(32)


def valid(expected: str | None, sent: str | None) -> bool:
    """Whether the form's token ``sent`` is the ``expected`` one (both present)."""
    if not expected or not sent:
        return False
    return secrets.compare_digest(expected.encode("utf-8"), sent.encode("utf-8"))
