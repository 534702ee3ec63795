"""Production settings pass Django's deployment checks; the environment drives the settings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]


def _run_check(env_extra, tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "GUANJIA_SECURE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(GUANJIA_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="guanjia.settings", **env_extra)
    return subprocess.run(
        [sys.executable, "-m", "guanjia", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production(tmp_path):
    result = _run_check(
        {
            "DEBUG": "false",
            "SECRET_KEY": "x" * 30 + "-production-secret-key-for-the-check-" + "y" * 20,
            "ALLOWED_HOSTS": "kefu.example.com",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_complains_in_debug_mode(tmp_path):
    result = _run_check({"DEBUG": "true"}, tmp_path)
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr


def test_defaults_are_chinese_and_shanghai(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert ("en", "English") in settings.LANGUAGES
