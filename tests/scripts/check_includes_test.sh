#!/usr/bin/env bash
# scripts/check-includes on small trees made here: the folder order it enforces, both ways.
#   check_includes_test.sh SOURCE_DIR
set -euo pipefail
check=$1/scripts/check-includes
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
failures=0
expect() {  # expect EXIT_CODE TEXT_IN_OUTPUT DESCRIPTION
  local code=0 out
  out=$("$check" "$tree" 2>&1) || code=$?
  if [ "$code" -ne "$1" ] || ! grep -qF -- "$2" <<<"$out"; then
    echo "FAIL: $3: exit $code, output:"
    echo "$out"
    failures=$((failures + 1))
  else
    echo "ok: $3"
  fi
}
write() { mkdir -p "$tree/$(dirname "$1")" && printf '%s\n' "$2" >"$tree/$1"; }

# A tree that follows the order: engine includes journal and graph; cli the public API.
write graph/model.h '#pragma once'
write runtime/journal/journal.h '#pragma once
#include "graph/model.h"'
write runtime/engine/engine.cc '#include <vector>
#include "runtime/journal/journal.h"
#include "graph/model.h"'
write runtime/cli/main.cc '#include <switchyard/runtime.h>
#include "runtime/engine/engine.h"'
expect 0 "" "a tree in order passes"

# A lower folder including a higher one: the journal reaching up into the engine.
write runtime/journal/writer.cc '#include "runtime/journal/journal.h"
#include "runtime/engine/engine.h"'
expect 1 "runtime/journal/writer.cc:2: runtime/journal must not include runtime/engine/engine.h" \
  "the journal including the engine fails, naming file and line"
rm "$tree/runtime/journal/writer.cc"

# graph/ includes nothing of ours above it.
write graph/route.cc '#include "tools/tool.h"'
expect 1 "graph/route.cc:1: graph must not include tools/tool.h" "graph including tools fails"
rm "$tree/graph/route.cc"

# Sideways: monitors and tools are siblings.
write monitors/health.cc '#include "tools/tool.h"'
expect 1 "monitors must not include tools/tool.h" "monitors including tools fails"
rm "$tree/monitors/health.cc"

# The public API is for api/, service/ and cli/ only.
write runtime/engine/runner.cc '#include <switchyard/runtime.h>'
expect 1 "runtime/engine/runner.cc:1: includes the public API <switchyard/runtime.h>" \
  "the engine including the public API fails"
rm "$tree/runtime/engine/runner.cc"

# A new folder must be placed in the order first.
write runtime/waits/wait.cc '#include "runtime/base/log.h"'
expect 1 "runtime/waits/wait.cc: not in a known folder" "an unknown folder fails"
rm -r "$tree/runtime/waits"

expect 0 "" "the tree is in order again"
# And this checkout itself.
"$check" >/dev/null && echo "ok: the checkout passes" || { echo "FAIL: the checkout"; failures=$((failures + 1)); }
exit $((failures > 0))
