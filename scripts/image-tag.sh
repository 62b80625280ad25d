#!/usr/bin/env bash
# Prints the image tag for this build: <major>.<minor>.<pipeline number>-<short commit sha>, e.g. 1.0.42-3f2a1bc.
#
# major.minor come from pyproject.toml's version; the pipeline number from PIPELINE_NUMBER (CircleCI's
# << pipeline.number >>; 0 outside CI); the commit from CIRCLE_SHA1, else `git rev-parse HEAD`.
# Every job of one pipeline computes the same tag, so `image` pushes what `deploy` deploys.
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(sed -n 's/^version *= *"\([0-9]*\.[0-9]*\)\..*"/\1/p' pyproject.toml | head -n 1)"
[ -n "$version" ] || { echo "image-tag: no version = \"X.Y.Z\" in pyproject.toml" >&2; exit 1; }

pipeline_number="${PIPELINE_NUMBER:-0}"
case "$pipeline_number" in
    '' | *[!0-9]*) echo "image-tag: PIPELINE_NUMBER must be a number, got '$pipeline_number'" >&2; exit 1 ;;
esac

commit="${CIRCLE_SHA1:-$(git rev-parse HEAD)}"
if [ "${#commit}" -lt 7 ] || [[ "$commit" == *[!0-9a-f]* ]]; then
    echo "image-tag: not a commit sha: '$commit'" >&2
    exit 1
fi

printf '%s.%s-%s\n' "$version" "$pipeline_number" "${commit:0:7}"
