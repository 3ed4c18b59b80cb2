#!/usr/bin/env bash
# Runs the upstream sigstore-conformance suite (its verification tests; this
# client does not sign) against `imgverify verify-bundle`, unchanged, at a
# pinned commit. Needs git access to GitHub and PyPI; not part of CI (the
# same cases run in-process from ../shared/vectors in `cargo xtask ci`).
#
#   tools/sigstore-conformance/run.sh [SUITE_CHECKOUT_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SUITE=${1:-$ROOT/target/sigstore-conformance}
COMMIT=a73de49
if [ ! -d "$SUITE/.git" ]; then
  git clone -q https://github.com/sigstore/sigstore-conformance "$SUITE"
fi
git -C "$SUITE" checkout -q "$COMMIT"
[ -x "$SUITE/.venv/bin/python" ] || { python3 -m venv "$SUITE/.venv" && "$SUITE/.venv/bin/pip" install -q -r "$SUITE/requirements.txt"; }
(cd "$ROOT" && cargo build --release -q -p imgverify-host --bin imgverify)
ENTRY="$SUITE/imgverify-entrypoint"
printf '#!/bin/sh\nexec %s "$@"\n' "$ROOT/target/release/imgverify" > "$ENTRY"
chmod +x "$ENTRY"
cd "$SUITE"
# The suite fetches a signing token even when signing is skipped: the
# plugin hands it a placeholder, so no Google endpoint is needed.
PYTHONPATH="$HERE" .venv/bin/python -m pytest test/test_bundle.py \
  --entrypoint="$ENTRY" --skip-signing -p no:cacheprovider -p offline_token -q
