#!/usr/bin/env bash
# The test command (see README): sets up everything on a fresh machine, lints, runs the tests.
#   - a virtual environment in .venv with the package, the book's and the tests' dependencies
#     (versions pinned by constraints.txt);
#   - Debian's Chromium for the browser tests, installed with apt when it is missing
#     (set CTCBOOK_SKIP_BROWSER=1 to opt out of the browser tests instead);
#   - ruff, then pytest on 2 workers (the book build and browser tests share one worker).
# Extra arguments go to pytest, e.g.  bash tools/test.sh -k cohort
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"

if [ "${CTCBOOK_SKIP_BROWSER:-0}" != "1" ] && [ -z "${CTCBOOK_CHROMIUM:-}" ] \
   && [ ! -x /usr/bin/chromium ] && ! command -v chromium >/dev/null 2>&1; then
  echo "tools/test.sh: Chromium is missing; installing Debian's chromium package with apt"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi

.venv/bin/ruff check .
.venv/bin/python -m pytest -n 2 --dist loadgroup "$@"
