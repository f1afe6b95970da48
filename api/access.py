"""Access control for the HTTP API: who may call (API keys), what each role may use, how often.

Modes (HAZARD_AUTH): `on` — every /v1 request needs `Authorization: Bearer <key>`; `auto` (default)
and `off` — single-user mode (owner "local", admin) while the server listens on loopback only,
keys required as soon as it binds any other address. A request that arrives over the network
(a non-loopback client or local address) needs a key even in single-user mode, in case the app was
started by some other server on a public address. /healthz, /readyz, /, /static and /openapi.json
are never guarded: only the routers mounted under /v1 carry `authorize`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.db_health import DatabaseUnavailable
from api.errors import (
    Forbidden,
    IndexUnavailable,
    TooManyRequests,
    Unauthorized,
    problem_responses,
)
from api.keys import ROLE_NAMES_ZH, KeyStore
from api.principal import LOCAL_OWNER, ROLES, Principal
from api.ratelimit import RateLimiter
from api.ratelimit_db import (
    DatabaseRateLimiter,
    build_limiter,
    rate_limit_store_problem,
)
from api.settings import Settings

EVERYONE = ROLES

# What each role may use, by path prefix under /v1 (the longest matching prefix wins). Admin may
# use everything; a path listed nowhere is admin-only, so a new router is closed until it is
# added here. API keys themselves are managed only by the `hazard keys` CLI, never over HTTP.
ROUTE_ROLES: dict[str, tuple[str, ...]] = {
    "/v1/documents": EVERYONE,
    "/v1/clauses": EVERYONE,
    "/v1/search": EVERYONE,
    "/v1/classify": ("enterprise", "inspector"),
    "/v1/chat": ("enterprise", "inspector"),
    "/v1/sessions": ("enterprise", "inspector"),  # the chat's history
    "/v1/checklists": ("enterprise", "inspector"),
    "/v1/self-checks": ("enterprise",),
    "/v1/ledgers": ("enterprise", "inspector"),
    "/v1/paperwork": ("inspector",),
    "/v1/quizzes": ("trainer",),  # generation, export and answer checking
    "/v1/audit": EVERYONE,  # each caller sees only their own records (api/routes/audit.py)
    "/v1/admin": ("admin",),  # corpus upload, index rebuild
}

bearer_scheme = HTTPBearer(
    scheme_name="ApiKey", bearerFormat="hz_…", auto_error=False,
    description="API 密钥：请求头 `Authorization: Bearer hz_…`，由管理员用 `hazard keys create` 创建。"
                "服务仅监听本机回环地址且 HAZARD_AUTH 不为 on 时（单用户模式）可不带密钥。")

MISSING_KEY = "缺少 API 密钥：请在请求头中提供 Authorization: Bearer <密钥>（密钥由管理员用 hazard keys create 创建）"
INVALID_KEY = "API 密钥无效，请检查是否完整复制了密钥"
REVOKED_KEY = "API 密钥已被吊销，请向管理员申请新的密钥"
KEYS_DB_DOWN = "数据库不可用，暂时无法核对 API 密钥"


# -- mode -----------------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # another host name: assume it is reachable from elsewhere


def auth_mode_problem(settings: Settings) -> str:
    mode = settings.auth.strip().lower()
    return "" if mode in ("on", "off", "auto") else f"HAZARD_AUTH 的取值应为 on、off 或 auto，当前为“{settings.auth}”"


def auth_required(settings: Settings) -> bool:
    """Keys are needed unless the mode is off/auto and the server listens on loopback only; an
    unknown mode counts as on."""
    if settings.auth.strip().lower() in ("off", "auto"):
        return not is_loopback(settings.bind_host)
    return True


def _from_network(request: Request) -> bool:
    for address in (request.scope.get("client"), request.scope.get("server")):
        if address:
            try:
                if not ipaddress.ip_address(str(address[0])).is_loopback:
                    return True
            except ValueError:
                continue  # the test client's "testclient", a unix socket …
    return False


@dataclass
class AccessControl:
    required: bool
    limiter: RateLimiter | DatabaseRateLimiter | None


def access_control(settings: Settings, engine: Callable[[], Any] | None = None) -> AccessControl:
    """`engine()` gives the app database's engine for shared rate limits (HAZARD_RATE_LIMIT_STORE)."""
    return AccessControl(auth_required(settings), build_limiter(settings, engine or _no_database))


def _no_database():
    raise DatabaseUnavailable()


def _app_database(app: FastAPI) -> Callable[[], Any]:
    """The engine of the app's database once its tables exist (the requests that need it retry
    them, api/db_health.py); DatabaseUnavailable until then."""
    def engine():
        db = getattr(app.state, "chat_db", None)
        if db is None:
            raise DatabaseUnavailable()
        schema = getattr(app.state, "chat_db_schema", None)
        if schema is not None:
            schema.ensure()
        return db.engine

    return engine


def _access(request: Request) -> AccessControl:
    access = getattr(request.app.state, "access", None)
    if access is None:  # an app assembled without install_access: fail closed
        access = request.app.state.access = AccessControl(True, None)
    return access


# -- dependencies ---------------------------------------------------------------------------------
def get_principal(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]) -> Principal:
    """The caller: single-user "local" admin, or the holder of a valid, unrevoked key (else 401)."""
    if not _access(request).required and not _from_network(request):
        return Principal(LOCAL_OWNER, "admin")
    if credentials is None:
        raise Unauthorized(MISSING_KEY, {"WWW-Authenticate": 'Bearer realm="hazard-assistant"'})
    db = getattr(request.app.state, "chat_db", None)
    if db is None:
        raise IndexUnavailable(KEYS_DB_DOWN)
    result = KeyStore(db.engine).check(credentials.credentials)
    if result.principal is None:
        raise Unauthorized(REVOKED_KEY if result.problem == "revoked" else INVALID_KEY,
                           {"WWW-Authenticate": 'Bearer realm="hazard-assistant", error="invalid_token"'})
    return result.principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _forbidden(principal: Principal, allowed: tuple[str, ...]) -> Forbidden:
    names = "、".join(ROLE_NAMES_ZH[r] for r in allowed if r in ROLE_NAMES_ZH) or ROLE_NAMES_ZH["admin"]
    return Forbidden(f"当前 API 密钥的角色是“{ROLE_NAMES_ZH.get(principal.role, principal.role)}”，"
                     f"无权使用此功能（允许的角色：{names}）")


def roles_for(path: str) -> tuple[str, ...]:
    """The roles (besides admin) allowed on an /v1 path, from ROUTE_ROLES."""
    best = ""
    for prefix in ROUTE_ROLES:
        if (path == prefix or path.startswith(prefix + "/")) and len(prefix) > len(best):
            best = prefix
    return ROUTE_ROLES[best] if best else ("admin",)


def authorize(request: Request, principal: PrincipalDep) -> Principal:
    """Every /v1 route: authenticated, within its rate limit (429), and its role allowed (403)."""
    limiter = _access(request).limiter
    if limiter is not None:
        caller = f"key:{principal.key}" if principal.key else f"ip:{request.client.host if request.client else '-'}"
        wait = limiter.acquire(caller)
        if wait:
            raise TooManyRequests(f"请求过于频繁，请 {wait} 秒后再试", {"Retry-After": str(wait)})
    allowed = roles_for(_app_path(request))
    if principal.role != "admin" and principal.role not in allowed:
        raise _forbidden(principal, allowed)
    return principal


def _app_path(request: Request) -> str:
    # The path routing matched on (it is the one a route's template matched), without root_path.
    path, root = request.scope.get("path", ""), request.scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def require_role(*roles: str):
    """A dependency that lets only these roles (and admin) through; others get 403."""
    allowed = tuple(roles)

    def check(principal: PrincipalDep) -> Principal:
        if principal.role != "admin" and principal.role not in allowed:
            raise _forbidden(principal, allowed)
        return principal

    return check


API_DEPENDENCIES = [Depends(authorize)]


# -- wiring ---------------------------------------------------------------------------------------
def install_access(app: FastAPI, settings: Settings) -> None:
    """Mode and rate limiter for this app, and 401/403/429 documented on every guarded route
    (403 where ROUTE_ROLES does not admit every role; 413 on every method with a body)."""
    app.state.access = access_control(settings, _app_database(app))
    build = app.openapi

    def openapi() -> dict[str, Any]:
        documented = app.openapi_schema is not None
        schema = build()
        if not documented:
            _document_guarded_routes(schema)
        return schema

    app.openapi = openapi


def _document_guarded_routes(schema: dict[str, Any]) -> None:
    # A guarded operation is one that requires the ApiKey scheme (`authorize` → `get_principal`).
    scheme = bearer_scheme.scheme_name
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not any(scheme in requirement for requirement in operation.get("security", [])):
                continue
            statuses = [401, 429] + ([403] if set(roles_for(path)) != set(ROLES) else [])
            if method in ("post", "put", "patch"):
                statuses.append(413)  # BodySizeLimit refuses a declared oversized body on any route
            for status, response in problem_responses(*statuses).items():
                operation.setdefault("responses", {}).setdefault(str(status), response)


# -- serving --------------------------------------------------------------------------------------
def serve_refusal(settings: Settings) -> str:
    """Why `hazard serve` must not start with these settings, or "" when it may: a bad
    HAZARD_AUTH, or keys required but none usable."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.db import ChatDatabase

    problem = auth_mode_problem(settings) or rate_limit_store_problem(settings)
    if problem:
        return problem
    if not auth_required(settings):
        return ""
    why = (f"监听地址 {settings.bind_host} 不是本机回环地址" if not is_loopback(settings.bind_host)
           else "已设置 HAZARD_AUTH=on")
    try:
        db = ChatDatabase(settings.resolved_database_url())
        try:
            db.create_all()
            has_keys = KeyStore(db.engine).has_active()
        finally:
            db.dispose()
    except (SQLAlchemyError, OSError, ImportError):
        return f"{why}，需要核对 API 密钥，但数据库无法打开，请检查 HAZARD_DATABASE_URL"
    if has_keys:
        return ""
    return (f"{why}，所有请求都必须携带 API 密钥，但还没有任何有效密钥，服务拒绝启动。"
            "请先创建密钥：hazard keys create --role admin --name 管理员（角色可选 inspector、enterprise、trainer、admin），"
            "再启动服务；只在本机使用时请改用 --host 127.0.0.1。")
