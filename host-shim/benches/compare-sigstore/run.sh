#!/usr/bin/env bash
# Benchmark (not a test): keyless verification of the same Sigstore bundle
# (sigstore-conformance happy-path-intoto-in-dsse-v3: public-good Fulcio,
# CT, Rekor, DSSE) by imgverify (per image in wasmtime and natively, and the
# bare bundle in wasmtime), sigstore-js and sigstore-python, in one run.
#
#   host-shim/benches/compare-sigstore/run.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../../.. && pwd)
V=$ROOT/../shared/vectors/sigstore-conformance
N=${1:-200}
BUNDLE=$V/bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json
TRUST=$V/trusted-roots/production-pgi.trusted_root.json
IDENTITY=https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main
ISSUER=https://token.actions.githubusercontent.com
# The comparisons need sigstore-js (npm lockfile) and sigstore-python (PyPI);
# without a network to install them, they are skipped and say so.
JS=1 PY=1
[ -d node_modules/@sigstore/verify ] || npm ci --no-audit --no-fund || JS=0
[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q -r requirements.txt; } || PY=0
(cd "$ROOT" && cargo build --release -q -p imgverify-host --bin imgverify-bench --bin imgverify)
"$ROOT/target/release/imgverify-bench" "$N"
if [ "$JS" = 1 ]; then node verify.mjs "$BUNDLE" "$TRUST" "$IDENTITY" "$ISSUER" "$N"; else echo "sigstore-js: skipped (npm ci failed)"; fi
if [ "$PY" = 1 ]; then .venv/bin/python verify.py "$BUNDLE" "$TRUST" "$IDENTITY" "$ISSUER" "$N"; else echo "sigstore-python: skipped (pip install failed)"; fi
