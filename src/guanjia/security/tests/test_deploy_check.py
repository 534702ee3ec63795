"""`guanjia check --deploy` is clean with production settings, and those settings are what they should be.

Run in a fresh process: the settings module reads the environment once, when it is imported.
"""

import json
import os
import secrets
import subprocess
import sys

import pytest

PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DEBUG": "0",
    "ALLOWED_HOSTS": "kefu.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://kefu.example.com",
    "GUANJIA_SECURE": "1",
}


@pytest.fixture
def production_env(tmp_path):
    # The browser tests allow sync database calls inside Playwright's event loop for their own process;
    # a production process never runs with that switch.
    dropped = {"DEBUG", "GUANJIA_SECURE", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(PRODUCTION, GUANJIA_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="guanjia.settings")
    return env


def guanjia(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "guanjia", *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_deploy_checks_pass_without_a_warning(production_env):
    result = guanjia(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_checks_do_fail_on_an_insecure_setting(production_env):
    # The check above would be worthless if it could not fail: a short key is reported.
    production_env["SECRET_KEY"] = "short"
    result = guanjia(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_settings_send_cookies_over_https_only(production_env):
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) for k in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
        "'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', 'DEBUG')}))"
    )
    result = guanjia(production_env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "DEBUG": False,
    }
