// Times sigstore-js (@sigstore/verify) verifying one Sigstore bundle: the
// certificate path, SCT, Rekor SET, inclusion proof and checkpoint, the
// DSSE signature and the identity, against a trusted_root.json, offline.
//
//   node verify.mjs BUNDLE TRUSTED_ROOT IDENTITY ISSUER [ITERATIONS]
import { readFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';

const [bundlePath, rootPath, identity, issuer, n = '200'] = process.argv.slice(2);
const bundleJson = JSON.parse(readFileSync(bundlePath, 'utf8'));
const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(rootPath, 'utf8'))));
const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1 });
const policy = { subjectAlternativeName: identity, extensions: { issuer } };
// Parsing the bundle is part of each verification, as it is for imgverify.
const once = () => verifier.verify(toSignedEntity(bundleFromJSON(bundleJson)), policy);
once();
for (let i = 0; i < 20; i++) once();
const iterations = Number(n);
const t = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) once();
const ms = Number(process.hrtime.bigint() - t) / 1e6 / iterations;
console.log(`sigstore-js (@sigstore/verify ${JSON.parse(readFileSync('node_modules/@sigstore/verify/package.json')).version}, node ${process.version}): ${ms.toFixed(3)} ms per bundle, avg of ${iterations}`);
