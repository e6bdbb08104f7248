#!/usr/bin/env bash
# Fails when a tracked C++ file differs from clang-format 14's output (.clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=$(command -v clang-format-14 || command -v clang-format)
bad=0
while IFS= read -r f; do
  if ! diff -q <("$fmt" --style=file "$f") "$f" >/dev/null; then
    echo "format: $f differs from clang-format (run: $fmt -i $f)"
    bad=1
  fi
done < <(git ls-files '*.cpp' '*.h')
[ $bad = 0 ] && echo "format: all C++ files match .clang-format"
exit $bad
