#!/usr/bin/env bash
# The project's test command: set-up (idempotent), then every ava test. Ends with one line
# `N passed, N failed` (plus `, N skipped` when some were skipped).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
npx ava "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# ava prints a line per test (✔ passed, ✘ [fail], - [skip]); its closing counts leave out the
# passed ones when something failed, so count the lines.
count() { grep -cE "$1" "$log" || true; }
passed=$(count '^\s+✔ '); failed=$(count '^\s+✘ '); skipped=$(count '^\s+- \[skip\] ')
# A crash or an uncaught exception can end ava without a failed count: never report it as green.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
rm -f "$log"
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
exit "$status"
