"""Times sigstore-python verifying one Sigstore bundle (certificate path,
SCT, Rekor SET, inclusion proof and checkpoint, DSSE signature, identity)
against a trusted_root.json, offline.

    python verify.py BUNDLE TRUSTED_ROOT IDENTITY ISSUER [ITERATIONS]
"""
import sys
import time

import sigstore
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy

bundle_path, root_path, identity, issuer = sys.argv[1:5]
iterations = int(sys.argv[5]) if len(sys.argv) > 5 else 200
verifier = Verifier(trusted_root=TrustedRoot.from_file(root_path))
want = policy.Identity(identity=identity, issuer=issuer)
with open(bundle_path, "rb") as f:
    raw = f.read()


def once():
    # Parsing the bundle is part of each verification, as it is for imgverify.
    verifier.verify_dsse(Bundle.from_json(raw), want)


for _ in range(21):
    once()
start = time.perf_counter()
for _ in range(iterations):
    once()
ms = (time.perf_counter() - start) * 1e3 / iterations
print(f"sigstore-python ({sigstore.__version__}, Python {sys.version.split()[0]}): {ms:.3f} ms per bundle, avg of {iterations}")
