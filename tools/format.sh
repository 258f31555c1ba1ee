#!/bin/sh
# tools/format.sh fix|check: apply or verify .clang-format on our C sources.
set -eu
cd "$(dirname "$0")/.."
mode=${1:-check}
if ! command -v clang-format >/dev/null 2>&1; then
    echo "format: clang-format is not installed (make deps installs it)" >&2
    exit 1
fi
files=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' '*.cpp' \
    | grep -v -e '^node/node_modules/' -e '/generated/' || true)
[ -n "$files" ] || exit 0
if [ "$mode" = fix ]; then
    echo "$files" | xargs clang-format -i
else
    echo "$files" | xargs clang-format --dry-run -Werror
    echo "format: $(echo "$files" | wc -l) files match .clang-format"
fi
