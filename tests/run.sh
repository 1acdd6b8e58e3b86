#!/usr/bin/env bash
# Builds infoflyt and runs the whole test suite (unit and integration tests against the real
# daemon over mTLS). Installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/build
cd build
ctest --output-on-failure -j2 --timeout 600
