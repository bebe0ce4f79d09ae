#!/usr/bin/env bash
# Installs what is missing: Debian packages, then a virtualenv with the pinned requirements.
# Usage: scripts/setup.sh [app|dev]   (dev adds the test tools and Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-app}"

packages=(redis-server ffmpeg python3-venv)
[ "$profile" = dev ] && packages+=(espeak-ng flite chromium fonts-noto-color-emoji util-linux)
# The tests apply the migrations with the Supabase CLI, which comes from npm.
[ "$profile" = dev ] && ! command -v npm >/dev/null && packages+=(nodejs npm)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv"
  "$python" -m venv .venv
fi
requirements=(requirements.txt requirements-nodeps.txt)
[ "$profile" = dev ] && requirements+=(requirements-dev.txt)
stamp=".venv/.installed-$profile"
digest=$(cat "${requirements[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo "Installing Python packages ($profile)"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt
  [ "$profile" = dev ] && .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  echo "$digest" > "$stamp"
fi

if [ "$profile" = dev ]; then
  # The Supabase CLI at the version package-lock.json records (from the npm registry; its binary is an npm package too).
  lock_digest=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -x node_modules/.bin/supabase ] || [ "$(cat node_modules/.installed-lock 2>/dev/null)" != "$lock_digest" ]; then
    echo "Installing the Supabase CLI (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    echo "$lock_digest" > node_modules/.installed-lock
  fi
fi
