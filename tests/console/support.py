"""Helpers for the console tests: a browser-like client that signs in and posts forms."""

from __future__ import annotations

import httpx
import lxml.html

from tests.registry.cms import ADMIN, KEY, OTHER

__all__ = ["ADMIN", "KEY", "OTHER", "Editor", "page_tree"]


def page_tree(answer: httpx.Response):
    """The page as an lxml tree (asserting it is HTML)."""
    assert answer.headers["content-type"].startswith("text/html"), answer.headers
    return lxml.html.fromstring(answer.text)


class Editor:
    """An editor's browser: its own cookie jar on the console of ``base``."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def sign_in(self, key: str, *, next_path: str | None = None) -> httpx.Response:
        """Open the sign-in page and send ``key`` with its form's token."""
        page = self.get("/console/sign-in", params={"next": next_path} if next_path else None)
        assert page.status_code == 200, page.text
        token = page_tree(page).xpath("//form[@action='/console/sign-in']//input[@name='csrf']")
        fields = {"csrf": token[0].get("value"), "key": key}
        if next_path:
            fields["next"] = next_path
        return self.client.post("/console/sign-in", data=fields)

    def csrf(self, path: str = "/console/articles") -> str:
        """The session's CSRF token, read from a page's form as a browser has it."""
        tree = page_tree(self.get(path))
        return tree.xpath("//input[@name='csrf']/@value")[0]

    def post(self, path: str, fields: dict[str, str], *, token: str | None = None):
        """Post a console form with the session's token (or ``token`` instead)."""
        data = {"csrf": self.csrf() if token is None else token, **fields}
        return self.client.post(path, data=data)
