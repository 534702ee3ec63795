"""The REST API at /api/v1/: one NinjaAPI, routers added by the domain apps.

Two ways in: the console's session (unsafe methods need the CSRF token, as in the console)
and bearer tokens for integrations (`Authorization: Bearer gj_…`, see `ApiToken`). Every
error leaves as RFC 9457 problem details (`application/problem+json`), in the language of
the request, with the bad fields named as the API names them.
"""

import json
import logging
import re
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.defaultfilters import filesizeformat
from django.urls import URLPattern, re_path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from .errors import field_errors
from .models import ApiToken
from .schemas import PROBLEM_BLANK, PROBLEM_CSRF, PROBLEM_INVALID

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# A token's last use is written at most this often, so reads do not each cost a write.
LAST_USED_PRECISION = timedelta(minutes=1)
_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _titles() -> dict[int, str]:
    return {
        400: _("Bad request"),
        401: _("Not authenticated"),
        403: _("Permission denied"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("Content too large"),
        422: _("Invalid input"),
        429: _("Too many requests"),
        500: _("Server error"),
    }


def problem(
    request: HttpRequest,
    status: int,
    detail: str = "",
    *,
    errors: list[dict] | None = None,
    type_: str = PROBLEM_BLANK,
    title: str | None = None,
) -> HttpResponse:
    """An RFC 9457 problem-details response."""
    body = {
        "type": type_,
        "title": title or _titles().get(status, str(status)),
        "status": status,
        "detail": detail,
        "instance": request.path,
        "errors": errors or [],
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE)


# --- authentication ----------------------------------------------------------------------


class CsrfFailed(HttpError):
    def __init__(self) -> None:
        super().__init__(403, "CSRF check failed")


class InvalidToken(AuthenticationError):
    """A bearer token was sent but is unknown, revoked, expired or its user inactive."""


class TokenAuth(HttpBearer):
    """`Authorization: Bearer gj_…`: the token acts as its user, with that user's role and scope."""

    def authenticate(self, request: HttpRequest, token: str):
        api_token = ApiToken.objects.authenticate(token.strip()) if token.strip() else None
        if api_token is None:
            # A wrong token is an error even when a session cookie is present too:
            # an integration must learn that its token no longer works.
            raise InvalidToken()
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
            api_token.last_used_at = now
        request.user = api_token.user
        request.api_token = api_token
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The console's login session. Unsafe methods need the CSRF token, as console forms do.

    Unlike ninja's own session auth, the CSRF check runs only for a logged-in user, so a
    request without any credentials gets 401 rather than a CSRF failure.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method in _UNSAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed()
        return user


# --- the API and its error handlers ------------------------------------------------------


class ReadableJSONRenderer(JSONRenderer):
    # Chinese names stay readable in the body (UTF-8) instead of \uXXXX escapes.
    json_dumps_params = {"ensure_ascii": False}


class StrictQueryParser(Parser):
    """A parameter given twice (`?q=a&q=b`) is refused on its field, not silently read as the last value."""

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        for key in data:
            if key not in list_fields and len(data.getlist(key)) > 1:
                result[key] = data.getlist(key)
        return result


class GuanjiaAPI(NinjaAPI):
    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _problem_for_wrong_method(pattern.callback)
        # Anything else under /api/v1/ is a 404 in the same error format, not an HTML page
        # (newlines in the path included, which "." would not match).
        urls.append(re_path(r"^[\s\S]*$", _unknown_path, name="api-unknown"))
        return urls

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        _document_problems(schema)
        return schema


def _document_problems(schema) -> None:
    """Make the OpenAPI document say what the API really sends back on errors.

    ninja documents every response as `application/json`; errors leave as
    `application/problem+json`. Whatever an operation declares, ninja itself answers 422
    when a query parameter or the body does not validate (paginated lists gain `limit` and
    `offset` this way), 400 when the body is not JSON at all and 413 when it is too large.
    """
    problem_ref = "#/components/schemas/Problem"
    problem_body = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": problem_ref}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            # ninja keys responses by int; JSON keys are strings, so mixing both would serve one
            # code twice (Swagger UI then refuses the whole document).
            responses = {str(code): response for code, response in operation.get("responses", {}).items()}
            operation["responses"] = responses
            for response in responses.values():
                content = response.get("content", {})
                body = content.get("application/json")
                if body is not None and body.get("schema", {}).get("$ref") == problem_ref:
                    content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
            has_body = "requestBody" in operation
            has_query = any(parameter.get("in") == "query" for parameter in operation.get("parameters", []))
            if has_body and "400" not in responses:
                responses["400"] = {"description": "Bad Request", "content": dict(problem_body)}
            if has_body and "413" not in responses:
                responses["413"] = {"description": "Content Too Large", "content": dict(problem_body)}
            if (has_body or has_query) and "422" not in responses:
                responses["422"] = {"description": "Unprocessable Entity", "content": dict(problem_body)}


def _problem_for_wrong_method(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = problem(request, 405, _("Allowed methods: %(methods)s.") % {"methods": allowed})
            response["Allow"] = allowed
        return response

    return wrapped


@csrf_exempt
def _unknown_path(request, *args, **kwargs):
    # Exempt like every API view: otherwise a POST to a wrong address with a stray session
    # cookie gets the console's HTML CSRF page instead of this 404.
    return problem(request, 404, _("There is no such address in the API."))


api = GuanjiaAPI(
    title="Guanjia API",
    version="1",
    description=(
        "Guanjia's customer service: the unit ledger (projects, buildings, units, parties, occupancies), "
        "service requests with their tasks and follow-up calls, telephony events and report figures. "
        "Every answer holds only what the caller's role and scope cover. "
        "Authenticate with `Authorization: Bearer gj_…` (issued by `guanjia issue_token`) or the "
        "console session. Errors are RFC 9457 problem details with an `errors` list naming each field."
    ),
    urls_namespace="api",
    docs_url="/docs",
    auth=[TokenAuth(), SessionAuth()],
    renderer=ReadableJSONRenderer(),
    parser=StrictQueryParser(),
)


@api.exception_handler(AuthenticationError)
def _on_unauthenticated(request, exc):
    if isinstance(exc, InvalidToken):
        detail = _("The token is unknown, revoked or expired.")
    else:
        detail = _("Log in, or send a token as “Authorization: Bearer gj_…”.")
    response = problem(request, 401, detail)
    response["WWW-Authenticate"] = 'Bearer realm="guanjia"'
    return response


@api.exception_handler(HttpError)
def _on_http_error(request, exc):
    if isinstance(exc, CsrfFailed):
        return problem(
            request, 403, _("The CSRF token is missing or wrong. Reload the page and try again."), type_=PROBLEM_CSRF
        )
    if exc.status_code == 400:
        # ninja raises this for a body it cannot parse at all.
        return problem(request, 400, _("The request body could not be read. Send JSON."))
    return problem(request, exc.status_code, str(exc))


@api.exception_handler(Http404)
def _on_not_found(request, exc):
    return problem(request, 404, _("The object does not exist or is outside your scope."))


@api.exception_handler(PermissionDenied)
def _on_permission_denied(request, exc):
    return problem(request, 403, str(exc) or _("Your role does not allow this."))


@api.exception_handler(DjangoValidationError)
def _on_django_validation_error(request, exc):
    errors = [
        {"field": None if field == "__all__" else field, "message": message}
        for field, messages in field_errors(exc).items()
        for message in messages
    ]
    return problem(request, 422, _validation_detail(errors), errors=errors, type_=PROBLEM_INVALID)


@api.exception_handler(NinjaValidationError)
def _on_schema_validation_error(request, exc):
    errors = [{"field": _field_name(error.get("loc", ())), "message": _message(error)} for error in exc.errors]
    return problem(request, 422, _validation_detail(errors), errors=errors, type_=PROBLEM_INVALID)


@api.exception_handler(RequestDataTooBig)
def _on_too_big(request, exc):
    # A body without a declared length, too large once read (declared ones stop at the middleware).
    return problem(
        request,
        413,
        _("The request is too large: at most %(size)s can be sent at once.")
        % {"size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)},
    )


@api.exception_handler(SuspiciousOperation)
def _on_suspicious(request, exc):
    return problem(request, 400, _("The request could not be read."))


@api.exception_handler(IntegrityError)
def _on_integrity_error(request, exc):
    logger.warning("integrity error on %s %s: %s", request.method, request.path, exc)
    return problem(request, 409, _("This conflicts with a record saved at the same time. Reload and try again."))


@api.exception_handler(Exception)
def _on_unexpected(request, exc):
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return problem(request, 500, _("Something went wrong on the server. The error has been logged."))


def _validation_detail(errors: list[dict]) -> str:
    fields = [e["field"] for e in errors if e["field"]]
    if fields:
        return _("Check these fields: %(fields)s.") % {"fields": ", ".join(dict.fromkeys(fields))}
    return errors[0]["message"] if errors else ""


def _field_name(loc) -> str | None:
    """("body", "payload", "tags", 0) → "tags.0"; ("query", "limit") → "limit"."""
    parts = list(loc)
    if parts and parts[0] in {"body", "form", "file"}:
        # The second part is the handler's parameter name ("payload"): the body as a whole.
        parts = parts[2:]
    elif parts and parts[0] in {"query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or None


def _message(error: dict) -> str:
    """ninja's (pydantic's) error in the request's language: known kinds are translated here."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("Enter a whole number.")
    if kind in {"decimal_parsing", "decimal_type", "float_parsing", "float_type", "finite_number"}:
        return _("Enter a number.")
    if kind == "decimal_max_digits":
        return _("Enter a number with at most %(count)s digits.") % {"count": ctx.get("max_digits")}
    if kind == "decimal_max_places":
        return _("Enter a number with at most %(count)s decimal places.") % {"count": ctx.get("decimal_places")}
    if kind == "decimal_whole_digits":
        return _("Enter a number with at most %(count)s digits before the decimal point.") % {
            "count": ctx.get("whole_digits")
        }
    if kind in {"string_type", "string_unicode"}:
        return _("Enter text.")
    if kind == "string_too_long":
        return _("Enter at most %(count)s characters.") % {"count": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("Enter at least %(count)s characters.") % {"count": ctx.get("min_length")}
    if kind in {"date_parsing", "date_type", "date_from_datetime_parsing", "date_from_datetime_inexact"}:
        return _("Enter a date as YYYY-MM-DD.")
    if kind in {"enum", "literal_error"}:
        # pydantic lists the choices as "'a', 'b' or 'c'"; keep the values, drop its English.
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}
    if kind in {"greater_than_equal", "greater_than"}:
        limit = ctx.get("ge", ctx.get("gt"))
        return _("Enter a value of at least %(limit)s.") % {"limit": limit}
    if kind in {"less_than_equal", "less_than"}:
        limit = ctx.get("le", ctx.get("lt"))
        return _("Enter a value of at most %(limit)s.") % {"limit": limit}
    if kind == "null_character":
        return _("Remove the null character from this text.")
    if kind == "date_out_of_range":
        return _("Enter a date between %(first)s and %(last)s.") % {"first": ctx.get("first"), "last": ctx.get("last")}
    if kind in {"datetime_parsing", "datetime_type", "datetime_from_date_parsing"}:
        return _("Enter a date and time as YYYY-MM-DDTHH:MM:SS (with an optional time zone), or a date.")
    if kind in {"bool_parsing", "bool_type"}:
        return _("Enter true or false.")
    if kind in {"list_type", "tuple_type", "set_type"}:
        return _("Enter a list.")
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return _("Enter an object.")
    if kind == "extra_forbidden":
        return _("This field is not accepted here.")
    if kind == "json_invalid":
        return _("The request body is not valid JSON.")
    return str(error.get("msg", _("This value is not valid.")))


def _register_routers() -> None:
    # Imported here: the routers import services and queries, which must not import this module.
    from guanjia.cases.api import router as cases_router
    from guanjia.estate.api import router as estate_router
    from guanjia.org.api import router as org_router
    from guanjia.reports.api import router as reports_router
    from guanjia.telephony.api import router as telephony_router

    api.add_router("/", org_router)
    api.add_router("/", estate_router)
    api.add_router("/", cases_router)
    api.add_router("/", reports_router)
    api.add_router("/", telephony_router)


_register_routers()
