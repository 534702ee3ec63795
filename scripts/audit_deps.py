#!/usr/bin/env python3
"""Known-vulnerability audit of the installed dependencies: Python (pip-audit) and front-end (npm audit).

Run by `make lint` with the project's Python (.venv/bin/python scripts/audit_deps.py). It

- fails (exit status 1) when either tool reports a known vulnerability that is not listed in
  scripts/audit-ignore.txt (one advisory id per line, with the reason after a #);
- warns and passes when a vulnerability service cannot be reached (no network, a registry mirror
  without the audit endpoints), so that CI on a machine without them still runs the tests. Set
  GUANJIA_AUDIT_STRICT=1 to fail then as well, or GUANJIA_AUDIT=0 to skip the audit.

Python: every distribution installed in this interpreter's environment (the project's own package
excepted), pinned at its installed version, is checked against PyPI's vulnerability data
(`pip-audit --no-deps --disable-pip`; `GUANJIA_PIP_AUDIT_SERVICE=osv` uses OSV instead).
Front-end: `npm audit --omit=dev`, i.e. the libraries the pages load, from package-lock.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORE_FILE = ROOT / "scripts" / "audit-ignore.txt"
OWN_PACKAGES = {"guanjia"}
TIMEOUT = int(os.environ.get("GUANJIA_AUDIT_TIMEOUT", "600"))

FOUND, CLEAN, UNREACHABLE = "found", "clean", "unreachable"


def ignored_ids(path: Path = IGNORE_FILE) -> set[str]:
    if not path.exists():
        return set()
    ids = set()
    for line in path.read_text().splitlines():
        token = line.split("#", 1)[0].strip()
        if token:
            ids.add(token)
    return ids


# ------------------------------------------------------------------------------------------------ Python


def installed_requirements() -> str:
    """name==version for every distribution installed here, the project itself excepted."""
    pins = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").strip()
        if name and name.lower().replace("_", "-") not in OWN_PACKAGES:
            pins[name.lower()] = f"{name}=={dist.version}"
    return "\n".join(sorted(pins.values())) + "\n"


def judge_pip_audit(report: dict, ignore: set[str]) -> tuple[str, list[str]]:
    """(verdict, lines to print) from pip-audit's JSON report."""
    deps = report.get("dependencies", [])
    found, skipped = [], []
    for dep in deps:
        if dep.get("skip_reason"):
            skipped.append(dep["name"])
            continue
        for vuln in dep.get("vulns", []):
            ids = {vuln.get("id", ""), *vuln.get("aliases", [])}
            if ids & ignore:
                continue
            fix = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            found.append(f"  {dep['name']} {dep.get('version', '')}: {vuln.get('id')} (fixed in: {fix})")
    if found:
        return FOUND, ["pip-audit: known vulnerabilities:", *found]
    if deps and len(skipped) == len(deps):
        return UNREACHABLE, [
            f"pip-audit: WARNING: none of the {len(deps)} packages could be looked up in the vulnerability "
            "service (its data is not reachable from here); the Python dependencies were NOT audited."
        ]
    lines = [f"pip-audit: no known vulnerabilities in {len(deps) - len(skipped)} packages."]
    if skipped:
        lines.append(f"pip-audit: WARNING: {len(skipped)} packages could not be looked up: {', '.join(skipped)}")
    return CLEAN, lines


def run_pip_audit(ignore: set[str]) -> tuple[str, list[str]]:
    pip_audit = shutil.which("pip-audit", path=str(Path(sys.executable).parent)) or shutil.which("pip-audit")
    if not pip_audit:
        return UNREACHABLE, ["pip-audit: WARNING: pip-audit is not installed (uv sync installs it); skipped."]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as reqs:
        reqs.write(installed_requirements())
    service = os.environ.get("GUANJIA_PIP_AUDIT_SERVICE", "pypi")
    command = [pip_audit, "-r", reqs.name, "--no-deps", "--disable-pip", "--format", "json"]
    command += ["--progress-spinner", "off", "--vulnerability-service", service]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return UNREACHABLE, [
            f"pip-audit: WARNING: no answer within {TIMEOUT} s; the Python dependencies were NOT audited."
        ]
    finally:
        os.unlink(reqs.name)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return UNREACHABLE, [
            f"pip-audit: WARNING: the vulnerability service could not be used ({reason}); NOT audited."
        ]
    return judge_pip_audit(report, ignore)


# ------------------------------------------------------------------------------------------------ npm


def judge_npm_audit(report: dict, ignore: set[str]) -> tuple[str, list[str]]:
    """(verdict, lines to print) from `npm audit --json` (report version 2, or its error body)."""
    if "auditReportVersion" not in report:
        reason = report.get("message") or (report.get("error") or {}).get("summary") or "unexpected answer"
        return UNREACHABLE, [
            f"npm audit: WARNING: the registry's audit service could not be used ({reason}); NOT audited."
        ]
    found = []
    for name, vuln in sorted(report.get("vulnerabilities", {}).items()):
        advisories = [v for v in vuln.get("via", []) if isinstance(v, dict)]
        if advisories and all({str(v.get("source", "")), v.get("url", "")} & ignore for v in advisories):
            continue
        titles = "; ".join(f"{v.get('title')} ({v.get('url')})" for v in advisories) or "through " + ", ".join(
            v for v in vuln.get("via", []) if isinstance(v, str)
        )
        fix = "fix available" if vuln.get("fixAvailable") else "no fix available"
        found.append(f"  {name} ({vuln.get('severity')}, {vuln.get('range')}): {titles}; {fix}")
    if found:
        return FOUND, ["npm audit: known vulnerabilities:", *found]
    total = report.get("metadata", {}).get("dependencies", {}).get("prod")
    return CLEAN, [f"npm audit: no known vulnerabilities{f' in {total} packages' if total else ''}."]


def run_npm_audit(ignore: set[str]) -> tuple[str, list[str]]:
    npm = shutil.which("npm")
    if not npm:
        return UNREACHABLE, ["npm audit: WARNING: npm is not installed; skipped."]
    try:
        result = subprocess.run(
            [npm, "audit", "--omit=dev", "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return UNREACHABLE, [f"npm audit: WARNING: no answer within {TIMEOUT} s; NOT audited."]
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return UNREACHABLE, [f"npm audit: WARNING: {reason}; NOT audited."]
    return judge_npm_audit(report, ignore)


# ------------------------------------------------------------------------------------------------ main


def main() -> int:
    if os.environ.get("GUANJIA_AUDIT", "1").strip().lower() in {"0", "false", "no", "off"}:
        print("dependency audit: skipped (GUANJIA_AUDIT=0)")
        return 0
    strict = os.environ.get("GUANJIA_AUDIT_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}
    ignore = ignored_ids()
    verdicts = []
    for run in (run_pip_audit, run_npm_audit):
        verdict, lines = run(ignore)
        verdicts.append(verdict)
        print("\n".join(lines), file=sys.stderr if verdict != CLEAN else sys.stdout)
    if FOUND in verdicts:
        print(
            "dependency audit: FAILED. Upgrade the packages, or list a reviewed advisory in scripts/audit-ignore.txt."
        )
        return 1
    if UNREACHABLE in verdicts and strict:
        print("dependency audit: FAILED: a vulnerability service was not reachable (GUANJIA_AUDIT_STRICT=1).")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
