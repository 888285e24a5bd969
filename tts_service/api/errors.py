"""Error bodies a person can read: Vietnamese first, English in brackets.

Starlette answers unknown paths, wrong methods and the like with its English reason
phrase ("Not Found"). A listener's browser, a portal's developer and a screen reader all
see that text, so the framework's phrases are replaced by bilingual ones; details our own
code wrote are kept as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

__all__ = ["bilingual_detail", "describe_validation"]

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


# Details FastAPI writes itself, in English only.
_FRAMEWORK_DETAILS: dict[str, str] = {
    "There was an error parsing the body": (
        "Không đọc được nội dung gửi lên (the request body could not be parsed)."
    ),
}


def bilingual_detail(status: int, detail: Any) -> Any:
    """``detail``, or a bilingual message when it is only the framework's English text."""
    if isinstance(detail, str) and detail in _FRAMEWORK_DETAILS:
        return _FRAMEWORK_DETAILS[detail]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return detail
    if detail == phrase and status in _PHRASES:
        return _PHRASES[status]
    return detail


def _problem(error: Mapping[str, Any]) -> str:
    """One validation error in Vietnamese and English, from pydantic's error type."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "json_invalid":
        at = [p for p in error.get("loc", ()) if isinstance(p, int)]
        where = f" ở ký tự thứ {at[0] + 1} (at character {at[0] + 1})" if at else ""
        return f"Nội dung không phải JSON hợp lệ{where} (malformed JSON: {ctx.get('error', '?')})"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return (
            'Nội dung phải là một đối tượng JSON, ví dụ {"text": "…"} '
            "(the body must be a JSON object)"
        )
    if kind == "missing":
        return "thiếu trường bắt buộc (field required)"
    if kind == "extra_forbidden":
        return "trường này không được nhận (unknown field)"
    if kind in ("string_type", "string_unicode"):
        return "phải là một chuỗi văn bản (must be a string)"
    if kind == "string_too_long":
        limit = ctx.get("max_length")
        return f"dài quá {limit} ký tự (longer than {limit} characters)"
    if kind == "string_too_short":
        limit = ctx.get("min_length")
        return f"ngắn hơn {limit} ký tự (shorter than {limit} characters)"
    if kind == "too_long":
        limit = ctx.get("max_length")
        return f"có quá {limit} mục (more than {limit} items)"
    if kind == "string_pattern_mismatch":
        return "không đúng định dạng (does not match the expected format)"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        return f"phải là một trong {expected} (must be one of {expected})"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "phải là một số nguyên (must be a whole number)"
    if kind in ("float_parsing", "float_type"):
        return "phải là một số (must be a number)"
    if kind in ("bool_parsing", "bool_type"):
        return "phải là true hoặc false (must be true or false)"
    if kind.startswith(("greater_than", "less_than")):
        bound = next(iter(ctx.values()), "?")
        sign = "≥" if "equal" in kind else ">"
        if kind.startswith("less_than"):
            sign = "≤" if "equal" in kind else "<"
        return f"phải {sign} {bound} (must be {sign} {bound})"
    if kind == "value_error":
        # Our own validators already write both languages.
        return str(error.get("msg", "")).removeprefix("Value error, ")
    return f"giá trị không hợp lệ (invalid value: {error.get('msg', kind)})"


def describe_validation(errors: Sequence[Mapping[str, Any]]) -> str:
    """One readable sentence from pydantic's error list, each field named."""
    messages = []
    for error in errors:
        where = ".".join(
            str(p)
            for p in error.get("loc", ())
            if p not in ("body", "query", "path", "header") and not isinstance(p, int)
        )
        problem = _problem(error)
        messages.append(f"{where}: {problem}" if where else problem)
    return "; ".join(messages) or "Yêu cầu không hợp lệ (invalid request)."
