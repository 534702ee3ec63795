#!/usr/bin/env bash
# Installs everything Guanjia needs into this checkout: Python packages (uv.lock) into .venv,
# front-end libraries (package-lock.json) into node_modules, static files, the database schema.
# With --test it also installs the system packages the test suite needs (Chromium, CJK fonts,
# gettext, and on PostgreSQL its client programs) from Debian when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Please install with your package manager: ${missing[*]}" >&2
    return 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ $want_test -eq 1 ] && command -v dpkg >/dev/null; then
  apt_install chromium fonts-noto-cjk gettext libpango-1.0-0 libpangoft2-1.0-0
  # On PostgreSQL the backup tests run pg_dump and pg_restore (a server install brings them already).
  case "${DATABASE_URL:-}" in
    postgres*) command -v pg_dump >/dev/null 2>&1 || apt_install postgresql-client ;;
  esac
fi

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --user "uv==0.13.8" || python3 -m pip install --quiet "uv==0.13.8"
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --quiet
npm ci --no-audit --no-fund --loglevel=error
.venv/bin/guanjia collect_assets >/dev/null
.venv/bin/guanjia collectstatic --noinput -v 0
.venv/bin/guanjia migrate --noinput -v 0
