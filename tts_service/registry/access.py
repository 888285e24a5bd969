"""Who may see and change what: an article belongs to the API key that registered it.

A key's ``role`` (``TTS_API_KEYS``) is ``cms`` — a portal's CMS: its own articles only —
or ``admin``: every article, and what changes the whole site (the lexicon). Ownership is
by the key's ``name``, set when the article is first registered and never changed by
later edits, so the owner's webhook keeps hearing about it whoever edits it.

Some things belong to no key, the *site*: the lexicon, articles registered by the
command line (``tts-service pregenerate``), and articles registered before articles had
owners and never claimed (migration ``0003``). Only admin keys reach those.

This is the one rule; the registry applies it to every operation a key asks for, and the
editors' console asks it what to show.
"""

from __future__ import annotations

from typing import Final

from tts_service.settings import ApiKey

__all__ = ["SITE", "may_access"]

#: The owner of site-wide things: the lexicon, and articles no key registered.
SITE: Final = None


def may_access(key: ApiKey, owner: str | None) -> bool:
    """Whether ``key`` may see and change what ``owner`` (a key's name, or :data:`SITE`) owns.

    E.g. the key named ``cms`` of role ``cms`` may reach ``may_access(key, "cms")`` but not
    another portal's ``"bao-lang-son"`` articles nor the lexicon (``SITE``); an admin key
    may reach all three.
    """
    return key.role == "admin" or (owner is not SITE and owner == key.name)
