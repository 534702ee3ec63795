"""Keeps the project chosen in the console's project switcher on the request, and refuses
request bodies too large to read."""

from django.conf import settings
from django.http import HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _


class CurrentProjectMiddleware:
    """Sets `request.current_project_id` from the session; views use it as the default filter.

    The switcher only narrows what is shown; scope is enforced by the queries regardless.
    """

    SESSION_KEY = "guanjia_project_id"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.current_project_id = None
        if hasattr(request, "session"):
            request.current_project_id = request.session.get(self.SESSION_KEY)
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuses a request whose declared body is too large with 413, before anything reads it.

    Django reads every upload to the end (into memory or temporary files) before a form can say
    it is too big, and it limits only the form fields, not the files. Here a body larger than
    GUANJIA_MAX_REQUEST_BYTES is refused outright, and so is any body other than a multipart
    upload larger than DATA_UPLOAD_MAX_MEMORY_SIZE (Django would answer that with a bare 400 in the
    console, and the API would fail on it). Under /api/ the answer is a problem-details body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.GUANJIA_MAX_REQUEST_BYTES
        if not request.META.get("CONTENT_TYPE", "").startswith("multipart/"):
            limit = min(limit, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or limit)
        if length > limit:
            return _too_large(request, limit)
        return self.get_response(request)


def _too_large(request, limit: int) -> HttpResponse:
    with translation.override(translation.get_language_from_request(request)):
        detail = _("The request is too large: at most %(size)s can be sent at once.") % {"size": filesizeformat(limit)}
        if request.path.startswith("/api/"):
            from .api import problem

            return problem(request, 413, detail)
        page = render_to_string("core/request_too_large.html", {"detail": detail})
    return HttpResponse(page, status=413)
