#!/usr/bin/env bash
# The project's test command: set-up (idempotent), every ava test, then the Rust unit tests
# (`cargo test`). Ends with one line `N passed, N failed` (plus `, N skipped` when some were
# skipped) counting both. Arguments go to ava and select its tests; the Rust tests then do not run.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
npx ava "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# ava prints a line per test (✔ passed, ✘ [fail], - [skip]); its closing counts leave out the
# passed ones when something failed, so count the lines.
count() { grep -cE "$1" "$log" || true; }
passed=$(count '^\s+✔ '); failed=$(count '^\s+✘ '); skipped=$(count '^\s+- \[skip\] ')
# A crash or an uncaught exception can end ava without a failed count: never report it as green.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

if [ $# -eq 0 ]; then
  # cargo prints `test result: ok. 5 passed; 0 failed; 1 ignored; ...` per test binary.
  cargo test --release --workspace 2>&1 | tee "$log"
  cargo_status=${PIPESTATUS[0]}
  read -r rp rf ri < <(awk '/^test result:/ {
      for (i = 2; i <= NF; i++) { if ($i ~ /^passed;/) p += $(i-1); if ($i ~ /^failed;/) f += $(i-1); if ($i ~ /^ignored;/) s += $(i-1) }
    } END { print p + 0, f + 0, s + 0 }' "$log")
  # A test binary that does not compile reports no result line: count it as a failure.
  if [ "$cargo_status" -ne 0 ] && [ "$rf" -eq 0 ]; then rf=1; fi
  passed=$((passed + rp)); failed=$((failed + rf)); skipped=$((skipped + ri))
  [ "$cargo_status" -ne 0 ] && status=1
fi

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -gt 0 ] && [ "$status" -eq 0 ] && status=1
exit "$status"
