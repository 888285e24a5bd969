"""The one rule of who may reach what, as the routes and the editors' console ask it."""

from __future__ import annotations

import pytest

from tts_service.registry.access import SITE, may_access
from tts_service.settings import ApiKey

CMS = ApiKey(name="cms", key="c" * 16)
OTHER = ApiKey(name="bao-lang-son", key="o" * 16, role="cms")
ADMIN = ApiKey(name="bientap", key="a" * 16, role="admin")


@pytest.mark.parametrize(
    ("key", "owner", "allowed"),
    [
        (CMS, "cms", True),
        (CMS, "bao-lang-son", False),
        (CMS, SITE, False),
        (CMS, "", False),
        (OTHER, "cms", False),
        (ADMIN, "cms", True),
        (ADMIN, "bao-lang-son", True),
        (ADMIN, SITE, True),
    ],
)
def test_a_cms_key_reaches_its_own_and_an_admin_everything(key, owner, allowed):
    assert may_access(key, owner) is allowed
