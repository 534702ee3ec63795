"""The dependency audit of `make lint` (scripts/audit_deps.py): fails on a known vulnerability, passes
with a warning when the vulnerability service cannot be reached, honours the reviewed-advisory list."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "audit_deps.py"
spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

VULNERABLE_PIP = {
    "dependencies": [
        {
            "name": "django",
            "version": "5.2.0",
            "vulns": [{"id": "PYSEC-2025-1", "aliases": ["CVE-2025-0001"], "fix_versions": ["5.2.1"]}],
        },
        {"name": "pillow", "version": "11.0.0", "vulns": []},
    ],
    "fixes": [],
}
UNREACHABLE_PIP = {
    "dependencies": [
        {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2.0)"},
        {"name": "pillow", "skip_reason": "Dependency not found on PyPI and could not be audited: pillow (11.0.0)"},
    ]
}
VULNERABLE_NPM = {
    "auditReportVersion": 2,
    "vulnerabilities": {
        "htmx.org": {
            "name": "htmx.org",
            "severity": "moderate",
            "range": "<2.0.7",
            "via": [{"source": 1099, "title": "XSS in hx-on", "url": "https://github.com/advisories/GHSA-xxxx"}],
            "fixAvailable": True,
        }
    },
    "metadata": {"dependencies": {"prod": 12}},
}
NPM_ERROR = {"message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk"}


def test_a_python_vulnerability_fails_and_names_the_fix():
    verdict, lines = audit.judge_pip_audit(VULNERABLE_PIP, set())
    assert verdict == audit.FOUND
    assert "django 5.2.0: PYSEC-2025-1 (fixed in: 5.2.1)" in "\n".join(lines)


def test_a_reviewed_python_advisory_is_let_through_by_any_of_its_ids():
    assert audit.judge_pip_audit(VULNERABLE_PIP, {"CVE-2025-0001"})[0] == audit.CLEAN


def test_an_unreachable_python_service_is_a_warning_not_a_pass():
    verdict, lines = audit.judge_pip_audit(UNREACHABLE_PIP, set())
    assert verdict == audit.UNREACHABLE
    assert "NOT audited" in lines[0]


def test_npm_vulnerability_fails_and_its_advisory_can_be_reviewed():
    verdict, lines = audit.judge_npm_audit(VULNERABLE_NPM, set())
    assert verdict == audit.FOUND and "htmx.org (moderate, <2.0.7): XSS in hx-on" in "\n".join(lines)
    assert audit.judge_npm_audit(VULNERABLE_NPM, {"1099"})[0] == audit.CLEAN


def test_npm_without_its_audit_service_warns():
    verdict, lines = audit.judge_npm_audit(NPM_ERROR, set())
    assert verdict == audit.UNREACHABLE and "405" in lines[0]
    assert audit.judge_npm_audit({"auditReportVersion": 2, "vulnerabilities": {}}, set())[0] == audit.CLEAN


@pytest.mark.parametrize(
    ("verdicts", "strict", "status"),
    [
        ((audit.CLEAN, audit.CLEAN), False, 0),
        ((audit.FOUND, audit.CLEAN), False, 1),
        ((audit.UNREACHABLE, audit.UNREACHABLE), False, 0),
        ((audit.UNREACHABLE, audit.CLEAN), True, 1),
    ],
)
def test_exit_status(monkeypatch, capsys, verdicts, strict, status):
    runs = iter(verdicts)
    monkeypatch.setattr(audit, "run_pip_audit", lambda ignore: (next(runs), ["pip"]))
    monkeypatch.setattr(audit, "run_npm_audit", lambda ignore: (next(runs), ["npm"]))
    monkeypatch.setenv("GUANJIA_AUDIT_STRICT", "1" if strict else "")
    monkeypatch.delenv("GUANJIA_AUDIT", raising=False)
    assert audit.main() == status


def test_the_ignore_file_reads_ids_and_skips_comments(tmp_path):
    path = tmp_path / "ignore.txt"
    path.write_text("# reviewed advisories\nPYSEC-2025-1  # not reachable: we never parse …\n\n1099\n")
    assert audit.ignored_ids(path) == {"PYSEC-2025-1", "1099"}


def test_the_installed_packages_are_pinned_without_the_project_itself():
    pins = audit.installed_requirements().splitlines()
    assert any(p.lower().startswith("django==") for p in pins)
    assert not any(p.lower().startswith("guanjia==") for p in pins)
