#!/usr/bin/env bash
# The test suite on a fresh machine: set up with the dev tools, lint, run every test
# (the slow ones, which train the real default model, included).
source "$(dirname "$0")/bootstrap.sh" dev
# The service's page is tested in a real headless browser: Debian's chromium and its driver.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium and chromium-driver for the browser test" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "note: chromium/chromedriver missing and cannot be installed here (needs root and" \
         "apt-get): the browser test will be skipped" >&2
  fi
fi
"$VENV/bin/ruff" check .
"$VENV/bin/pytest" "$@"
