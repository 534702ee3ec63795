"""The security headers and cookie flags of the console, the owner portal and the API; and the templates
kept free of what the Content-Security-Policy refuses (the browser tests load the pages themselves)."""

import re
from pathlib import Path

import pytest

from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import PASSWORD, make_staff

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2]


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/login/", "/m/sign-in/", "/admin/login/", "/api/v1/projects"])
def test_every_kind_of_page_gets_the_security_headers(client, path):
    response = client.get(path)
    csp = directives(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_session_and_csrf_cookies_are_http_only_and_same_site(client, db):
    staff = make_staff("li.ming", Role.SPECIALIST, ScopeLevel.GROUP)
    client.get("/login/")
    response = client.post("/login/", {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    csrf = client.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"


def test_session_can_end_with_the_browser(client, db, settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    staff = make_staff("li.ming", Role.SPECIALIST, ScopeLevel.GROUP)
    response = client.post("/login/", {"username": staff.username, "password": PASSWORD})
    assert response.cookies["sessionid"]["max-age"] == ""
    assert response.cookies["sessionid"]["expires"] == ""


# ------------------------------------------------------------------------------------------------ templates

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=\"application/(?:ld\+)?json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)
JS_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']\s*javascript:", re.I)
# hx-on, js: values, and trigger filters (an event name followed by [condition]; "from:input[…]" is a selector).
HTMX_EVAL = re.compile(
    r"\s(?:data-)?hx-on[:\-=]|hx-vals\s*=\s*[\"']js:|hx-trigger\s*=\s*\"(?:[^\"]*[\s,])?(?!from:|target:)[a-z][\w.-]*\[",
    re.I,
)
# Alpine attributes (x-…, @…, :…) run in Alpine's CSP build, which refuses globals and arrow functions.
ALPINE_ATTR = re.compile(r"\s(?:x-[\w:.-]+|@[\w.:-]+|:[\w.-]+)=\"([^\"]*)\"")
ALPINE_FORBIDDEN = re.compile(r"\b(?:window|document|globalThis|eval|Function)\b|=>")


def templates():
    return sorted(p for p in TEMPLATES.rglob("templates/**/*.html"))


def test_templates_have_no_inline_scripts_or_handlers():
    offences = []
    for path in templates():
        text = path.read_text()
        name = path.relative_to(TEMPLATES)
        for pattern, what in (
            (INLINE_SCRIPT, "inline <script>"),
            (INLINE_HANDLER, "on…= handler"),
            (JS_URL, "javascript: URL"),
            (HTMX_EVAL, "htmx expression that needs eval"),
        ):
            offences += [f"{name}: {what}: {m.group(0).strip()}" for m in pattern.finditer(text)]
        for m in ALPINE_ATTR.finditer(text):
            if ALPINE_FORBIDDEN.search(m.group(1)):
                offences.append(f"{name}: Alpine expression Alpine's CSP build refuses: {m.group(0).strip()}")
    assert not offences, "\n".join(offences)


def test_the_template_check_finds_what_it_looks_for():
    bad = (
        '<script>alert(1)</script><a onclick="x()">'
        '<a href="javascript:void(0)"><b @click="window.location = 1"></b><i hx-on:click="x()">'
    )
    assert HTMX_EVAL.search("<i hx-trigger=\"keyup[key=='Enter'], load\">")
    assert INLINE_SCRIPT.search(bad) and INLINE_HANDLER.search(bad) and JS_URL.search(bad) and HTMX_EVAL.search(bad)
    assert ALPINE_FORBIDDEN.search(ALPINE_ATTR.search(bad).group(1))
    good = (
        '<script src="/static/x.js" defer></script><script type="application/json" id="d">{}</script>'
        '<b @click="open = !open" x-show="party || units"></b><i hx-trigger="input changed delay:250ms">'
        '<i hx-trigger="change, input changed delay:400ms from:input[type=search]">'
    )
    assert not (INLINE_SCRIPT.search(good) or INLINE_HANDLER.search(good) or HTMX_EVAL.search(good))
    assert not any(ALPINE_FORBIDDEN.search(m.group(1)) for m in ALPINE_ATTR.finditer(good))
