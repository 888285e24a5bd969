"""Error bodies a person can read: Vietnamese first, English in brackets.

Starlette answers unknown paths, wrong methods and the like with its English reason
phrase ("Not Found"). A listener's browser, a portal's developer and a screen reader all
see that text, so the framework's phrases are replaced by bilingual ones; details our own
code wrote are kept as they are.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

__all__ = ["bilingual_detail"]

_PHRASES: dict[int, str] = {
    400: "Yêu cầu không hợp lệ (bad request).",
    401: "Cần khóa API hợp lệ (a valid API key is required).",
    403: "Không được phép (forbidden).",
    404: "Không tìm thấy địa chỉ này (not found).",
    405: "Địa chỉ này không nhận phương thức này (method not allowed).",
    406: "Không có định dạng phù hợp (not acceptable).",
    411: "Thiếu Content-Length (length required).",
    413: "Nội dung gửi lên quá lớn (request body too large).",
    415: "Định dạng nội dung không được hỗ trợ (unsupported media type).",
    416: "Khoảng byte yêu cầu nằm ngoài tệp (range not satisfiable).",
    429: "Quá nhiều yêu cầu, xin thử lại sau (too many requests).",
    500: "Lỗi máy chủ (internal server error).",
    503: "Dịch vụ tạm thời không sẵn sàng (service unavailable).",
}


def bilingual_detail(status: int, detail: Any) -> Any:
    """``detail``, or a bilingual message when it is only the status's English phrase."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return detail
    if detail == phrase and status in _PHRASES:
        return _PHRASES[status]
    return detail
