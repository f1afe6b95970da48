"""Every error leaves the API as application/problem+json with a Chinese detail; this is the one
place exceptions become responses, and where the problem responses are documented."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.schemas import InvalidParam, Problem
from assistant.classifier import InputError
from assistant.store import UnknownClauseError

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"

# status → (type slug, title, default detail)
_STATUS = {
    400: ("bad-request", "请求无效", "请求无法解析"),
    401: ("unauthorized", "未认证", "缺少或无效的 API 密钥"),
    403: ("forbidden", "无权访问", "当前 API 密钥无权使用此功能"),
    404: ("not-found", "未找到", "未找到请求的资源"),
    405: ("method-not-allowed", "请求方法不被允许", "该地址不支持此请求方法"),
    409: ("conflict", "冲突", "请求与现有资源冲突"),
    413: ("payload-too-large", "请求体过大", "请求体过大"),
    422: ("invalid-request", "请求参数不合法", "请求参数不合法"),
    429: ("too-many-requests", "请求过于频繁", "请求过于频繁，请稍后再试"),
    500: ("internal-error", "服务器内部错误", "服务器内部错误"),
    503: ("index-unavailable", "服务暂不可用", "服务暂不可用"),
}


class ApiError(HTTPException):
    """An error a route raises on purpose; `detail` is shown to the user, so write it in Chinese.

    It is an HTTPException so that FastAPI passes it through body parsing untouched.
    """

    status_code = 400

    def __init__(self, detail: str, headers: dict[str, str] | None = None):
        super().__init__(self.status_code, detail, headers)


class InvalidInput(ApiError):
    status_code = 422


class Conflict(ApiError):
    status_code = 409


class PayloadTooLarge(ApiError):
    status_code = 413


class IndexUnavailable(ApiError):
    status_code = 503


class Unauthorized(ApiError):
    """No, an unknown or a revoked API key (sent with `WWW-Authenticate: Bearer`)."""

    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class TooManyRequests(ApiError):
    """Over the rate limit (sent with `Retry-After`)."""

    status_code = 429


def problem_type(status: int) -> str:
    return f"urn:hazard-assistant:problem:{_STATUS.get(status, ('error',))[0]}"


def problem_response(status: int, detail: str, headers: dict[str, str] | None = None,
                     invalid_params: list[InvalidParam] | None = None) -> JSONResponse:
    title = _STATUS.get(status, (None, "请求错误"))[1]
    body = Problem(type=problem_type(status), title=title, status=status, detail=detail,
                   invalid_params=invalid_params)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers,
                        media_type=PROBLEM_JSON)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting these problem statuses for a route or router."""
    return {s: {"description": _STATUS[s][1], "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}}
            for s in statuses}


# -- handlers ------------------------------------------------------------------------------
async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if isinstance(exc, ApiError):
        detail = exc.detail
    elif exc.status_code == 404:
        detail = f"未找到请求的资源：{request.url.path}"
    elif exc.status_code == 405:
        detail = f"地址 {request.url.path} 不支持 {request.method} 方法"
    else:
        # Framework details are English; keep the user-facing text Chinese.
        detail = _STATUS.get(exc.status_code, (None, None, "请求错误"))[2]
    return problem_response(exc.status_code, detail, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    params = [InvalidParam(name=_param_name(e["loc"]), reason=_reason_zh(e)) for e in exc.errors()]
    detail = "请求参数不合法：" + "；".join(f"{p.name} {p.reason}" for p in params)
    return problem_response(422, detail, invalid_params=params)


async def _unknown_clause(request: Request, exc: UnknownClauseError) -> JSONResponse:
    return problem_response(404, str(exc))


async def _input_error(request: Request, exc: InputError) -> JSONResponse:
    return problem_response(422, str(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises after this response, so the traceback reaches the server log, not the client.
    return problem_response(500, "服务器内部错误")


def install_error_handling(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(UnknownClauseError, _unknown_clause)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(Exception, _unexpected)
    _document_problem_schema(app)


def _document_problem_schema(app: FastAPI) -> None:
    """Routes refer to Problem only through `problem_responses`, so add it to the components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()  # FastAPI caches this dict on app.openapi_schema
            defs = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(defs.pop("$defs", {}))
            components["Problem"] = defs
            # A body that cannot be decoded at all (bad UTF-8, broken multipart) is a 400 from FastAPI.
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    if "requestBody" in operation:
                        operation["responses"].setdefault("400", problem_responses(400)[400])
        return app.openapi_schema

    app.openapi = openapi


# -- validation messages in Chinese -----------------------------------------------------------
def _param_name(loc: tuple) -> str:
    parts = [str(p) for p in loc[1:] if not isinstance(p, int)] if len(loc) > 1 else []
    if loc and loc[0] == "body" and (len(loc) == 1 or isinstance(loc[1], int)):
        return "请求体"
    return ".".join(parts) or str(loc[0] if loc else "请求")


def _reason_zh(error: dict) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "缺失（必填）"
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"长度至少为{ctx.get('min_length')}"
    if kind == "string_too_long":
        return f"过长（上限{ctx.get('max_length')}字）"
    bounds = {"greater_than_equal": ("应不小于", "ge"), "less_than_equal": ("应不大于", "le"),
              "greater_than": ("应大于", "gt"), "less_than": ("应小于", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"{words}{ctx.get(key)}"
    simple = {
        "int_parsing": "应为整数", "int_type": "应为整数", "int_from_float": "应为整数",
        "float_parsing": "应为数字", "float_type": "应为数字", "bool_parsing": "应为布尔值",
        "bool_type": "应为布尔值", "string_type": "应为字符串", "list_type": "应为数组",
        "dict_type": "应为对象", "model_type": "应为对象", "model_attributes_type": "应为对象",
        "json_invalid": "不是合法的JSON", "json_type": "不是合法的JSON", "extra_forbidden": "是不允许的字段",
        "literal_error": f"取值应为 {ctx.get('expected')}",
    }
    return simple.get(kind, "取值不合法")
