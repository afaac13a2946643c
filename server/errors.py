"""Errors as the HTTP contract shapes them: JSON {code, message} with the right status."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from server.i18n import N_, translate

log = logging.getLogger("phonghop")


class AppError(Exception):
    """A refusal a person should understand; `message` is an English msgid, translated later."""

    def __init__(self, status: int, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.params = params


async def form_of(request: Request) -> Any:
    """The request's form; one whose text is not UTF-8 is a 400, not a crash."""
    try:
        return await request.form()
    except UnicodeDecodeError as exc:
        raise AppError(400, "bad_form", "The form could not be read; send it again.") from exc


def not_found(what: str = "resource") -> AppError:
    return AppError(404, "not_found", "Not found: {what}.", what=what)


def forbidden() -> AppError:
    return AppError(403, "forbidden", "You do not have permission to do this.")


_LITESTAR_CODES = {
    400: ("bad_request", N_("The request is not valid.")),
    401: ("not_signed_in", N_("Please sign in first.")),
    403: ("forbidden", N_("You do not have permission to do this.")),
    404: ("not_found", N_("Not found: {what}.")),
    405: ("method_not_allowed", N_("This method is not allowed here.")),
    413: ("too_large", N_("The upload is too large.")),
    429: ("too_many_requests", N_("Too many requests; try again later.")),
}


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.headers.get("hx-request"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _error_response(
    request: Request, status: int, code: str, message: str, **extra: Any
) -> Response:
    context = {"status": status, "message": message, "code": code}
    if request.headers.get("hx-request") and not request.url.path.startswith("/api/"):
        # htmx swaps this into the page's flash area (see web/static/js/app.js)
        return Template("fragments/error.html", context=context, status_code=status)
    if _wants_html(request):
        return Template("error.html", context=context, status_code=status)
    body = {"code": code, "message": message, **extra}
    return Response(body, status_code=status, media_type=MediaType.JSON)


def app_error_handler(request: Request, exc: AppError) -> Response:
    message = translate(request, exc.message, **exc.params)
    return _error_response(request, exc.status, exc.code, message)


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status == 401 and _wants_html(request):
        return Redirect(f"/login?next={request.url.path}")
    code, message = _LITESTAR_CODES.get(status, ("error", exc.detail))
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) and exc.extra:
        extra["errors"] = exc.extra
    if status == 403 and "CSRF" in str(exc.detail):
        code, message = "csrf", N_("The form expired or came from another site; reload the page.")
    text = translate(request, message, what=request.url.path)
    return _error_response(request, status, code, text, **extra)


def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    text = translate(request, N_("Something went wrong on the server; the error was logged."))
    return _error_response(request, HTTP_500_INTERNAL_SERVER_ERROR, "internal", text)


EXCEPTION_HANDLERS = {
    AppError: app_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
