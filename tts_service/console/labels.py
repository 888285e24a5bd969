"""The Vietnamese words the console shows for codes: rules, statuses, roles, engines."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

__all__ = ["ROLES", "STATUSES", "rule_label", "status_label"]

#: Article statuses as the list and its filter name them.
STATUSES: dict[str, str] = {
    "queued": "Đang chờ",
    "synthesising": "Đang đọc",
    "ready": "Sẵn sàng",
    "failed": "Lỗi",
}
ROLES: dict[str, str] = {"cms": "bài của mình", "admin": "quản trị: mọi bài"}


@lru_cache(maxsize=1)
def _rule_labels() -> dict[str, str]:
    text = resources.files("tts_service.console").joinpath("rule_labels.tsv").read_text("utf-8")
    labels = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            rule, _, label = line.partition("\t")
            labels[rule.strip()] = label.strip()
    return labels


def rule_label(rule: str) -> str:
    """``date_news_day`` → ``ngày tháng``: the longest listed prefix's label, else the code."""
    labels = _rule_labels()
    name = rule
    while name:
        if name in labels:
            return labels[name]
        name = name.rpartition("_")[0]
    return rule


def status_label(status: str) -> str:
    """``ready`` → ``Sẵn sàng``."""
    return STATUSES.get(status, status)
