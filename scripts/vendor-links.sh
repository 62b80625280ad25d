#!/usr/bin/env bash
# vendor/controller/ mirrors controller/ with one relative symlink per module (Chalice packs vendor/ into
# the Lambda zip; a link to the whole directory would also pack __pycache__). Run after adding, moving or
# removing a controller module; tests/controller/test_controller_package.py fails until the mirror matches.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf vendor/controller
find controller -name '*.py' -not -path '*/__pycache__/*' | sort | while read -r module; do
    dir=vendor/$(dirname "$module")
    mkdir -p "$dir"
    depth=$(( $(tr -cd '/' <<<"$module" | wc -c) + 1 ))
    up=$(printf '../%.0s' $(seq "$depth"))
    ln -s "${up}${module}" "vendor/$module"
done
echo "vendor/controller mirrors $(find controller -name '*.py' -not -path '*/__pycache__/*' | wc -l) modules"
