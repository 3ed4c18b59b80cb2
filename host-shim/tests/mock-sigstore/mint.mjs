// Mints fresh keyless signatures for the test harness with sigstore-js's
// mock Fulcio CA (embedded SCTs from a mock CT log), mock Rekor (SET,
// inclusion proof, signed checkpoint) and mock RFC 3161 TSA. Reads a JSON
// request on stdin, writes the signatures and the mocks' trust material
// (PEMs and a trusted_root.json) as JSON on stdout. Nothing is committed:
// every run makes new keys.
//
// Request:
// { "cas":    {"<name>": {"ctlog": "<ctlog name>", "clockOffsetSeconds": 0, "sameKeyAs": "<ca>"}},
//   "ctlogs": ["<name>"], "tlogs": ["<name>"], "tsas": ["<name>"],
//   "trustedRoot": {"ca": "<name>", "ctlog": "<name>", "tlog": "<name>", "tsa": "<name>"},
//   "signatures": [{"ca", "san", "extensions": [{"oid","value","legacy"}],
//                   "tlog": name|null, "tsa": name|null,
//                   "payload": "<base64 simple-signing payload>"            (a .sig layer)
//                 | "statement": "<base64 in-toto statement>", "payloadType"  (a v0.3 bundle)
//                 | "statement", "payloadType", "layer": true          (a cosign .att layer)}] }
//
// Output per signature: `certificate`, `root`, and
// - a .sig layer: `annotations` (signature, certificate, chain, Rekor bundle
//   with a `hashedrekord` body, RFC 3161 timestamp over the signature);
// - a v0.3 bundle: `bundle` (a `dsse` 0.0.1 entry);
// - a .att layer: `envelope`, base64 of the DSSE envelope JSON bytes as the
//   layer stores them, and `annotations` as cosign writes them on an
//   attestation: an empty signature, certificate, chain, a Rekor bundle whose
//   `dsse` 0.0.1 body has `payloadHash` and `envelopeHash` (the SHA-256 of the
//   envelope bytes) and the certificate PEM as `verifier`, and an RFC 3161
//   timestamp over the whole envelope.
import crypto from 'node:crypto';
import { initializeCA, initializeCTLog, initializeTLog, initializeTSA } from '@sigstore/mock';

const b64 = (b) => Buffer.from(b).toString('base64');
const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
const pem = (der, label = 'CERTIFICATE') =>
  `-----BEGIN ${label}-----\n${b64(der).match(/.{1,64}/g).join('\n')}\n-----END ${label}-----\n`;
const keyPair = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = (k) => k.export({ format: 'der', type: 'spki' });

const request = JSON.parse(await new Promise((resolve) => {
  let s = '';
  process.stdin.on('data', (d) => (s += d));
  process.stdin.on('end', () => resolve(s));
}));
const now = Date.now();
const validFrom = new Date(now - 3600_000).toISOString();

const ctlogs = {};
for (const name of request.ctlogs ?? []) {
  const keys = keyPair();
  ctlogs[name] = { keys, log: await initializeCTLog(keys) };
}
const cas = {};
const caKeys = {};
for (const [name, o] of Object.entries(request.cas ?? {})) {
  const clock = new Date(now + 1000 * (o.clockOffsetSeconds ?? 0));
  // `sameKeyAs`: the same CA key (and name) as another CA, another CT log.
  caKeys[name] = o.sameKeyAs ? caKeys[o.sameKeyAs] : keyPair();
  cas[name] = await initializeCA(caKeys[name], o.ctlog ? ctlogs[o.ctlog].log : undefined, clock);
}
const tlogs = {};
for (const name of request.tlogs ?? []) {
  const keys = keyPair();
  tlogs[name] = { keys, log: await initializeTLog(`https://${name}.rekor.mock`, keys) };
}
const tsas = {};
for (const name of request.tsas ?? []) {
  tsas[name] = await initializeTSA(keyPair());
}

const logKey = (keys, url) => ({
  baseUrl: url,
  hashAlgorithm: 'SHA2_256',
  publicKey: { rawBytes: b64(spki(keys.publicKey)), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: validFrom } },
  logId: { keyId: b64(sha256(spki(keys.publicKey))) },
});
const tr = request.trustedRoot ?? {};
const trustedRoot = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: tr.tlog ? [logKey(tlogs[tr.tlog].keys, `https://${tr.tlog}.rekor.mock`)] : [],
  ctlogs: tr.ctlog ? [logKey(ctlogs[tr.ctlog].keys, `https://${tr.ctlog}.ct.mock`)] : [],
  certificateAuthorities: tr.ca ? [{
    uri: 'https://fulcio.mock',
    certChain: { certificates: [{ rawBytes: b64(cas[tr.ca].rootCertificate) }] },
    validFor: { start: validFrom },
  }] : [],
  timestampAuthorities: tr.tsa ? [{
    uri: 'https://tsa.mock',
    certChain: { certificates: [{ rawBytes: b64(tsas[tr.tsa].intCertificate) }, { rawBytes: b64(tsas[tr.tsa].rootCertificate) }] },
    validFor: { start: validFrom },
  }] : [],
};

const pae = (type, body) => Buffer.concat([
  Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);

const signatures = [];
for (const s of request.signatures ?? []) {
  const keys = keyPair();
  const certDer = await cas[s.ca].issueCertificate({
    publicKey: spki(keys.publicKey),
    subjectAltName: s.san,
    extensions: s.extensions ?? [],
  });
  const certPem = pem(certDer);
  const dsse = s.statement !== undefined;
  const payload = Buffer.from(dsse ? s.statement : s.payload, 'base64');
  const signed = dsse ? pae(s.payloadType, payload) : payload;
  const sig = crypto.sign('sha256', signed, keys.privateKey);
  // The envelope as cosign marshals it (Go's field order), for a .att layer
  // the exact layer bytes; Rekor's `envelopeHash` hashes it.
  const layer = dsse && s.layer === true;
  const envelope = dsse ? Buffer.from(JSON.stringify({
    payloadType: s.payloadType, payload: b64(payload), signatures: [{ keyid: '', sig: b64(sig) }],
  })) : undefined;
  const body = dsse
    ? { apiVersion: '0.0.1', kind: 'dsse', spec: {
        envelopeHash: { algorithm: 'sha256', value: sha256(envelope).toString('hex') },
        payloadHash: { algorithm: 'sha256', value: sha256(payload).toString('hex') },
        signatures: [{ signature: b64(sig), verifier: b64(certPem) }] } }
    : { apiVersion: '0.0.1', kind: 'hashedrekord', spec: {
        data: { hash: { algorithm: 'sha256', value: sha256(payload).toString('hex') } },
        signature: { content: b64(sig), publicKey: { content: b64(certPem) } } } };
  let entry;
  if (s.tlog) {
    entry = Object.values(await tlogs[s.tlog].log.log(body))[0];
  }
  let timestamp;
  if (s.tsa) {
    // cosign timestamps an attestation's whole envelope, a signature's bytes.
    timestamp = await tsas[s.tsa].timestamp({
      artifactHash: sha256(layer ? envelope : sig), hashAlgorithmOID: '2.16.840.1.101.3.4.2.1',
      nonce: 1, policyOID: '1.2.3.4', certReq: true,
    });
  }
  const out = { certificate: certPem, root: pem(cas[s.ca].rootCertificate) };
  if (!dsse || layer) {
    if (layer) {
      out.envelope = b64(envelope);
    }
    out.annotations = {
      // An attestation's signature is inside its envelope.
      'dev.cosignproject.cosign/signature': layer ? '' : b64(sig),
      'dev.sigstore.cosign/certificate': certPem,
      'dev.sigstore.cosign/chain': pem(cas[s.ca].rootCertificate),
    };
    if (entry) {
      out.annotations['dev.sigstore.cosign/bundle'] = JSON.stringify({
        SignedEntryTimestamp: entry.verification.signedEntryTimestamp,
        Payload: { body: entry.body, integratedTime: entry.integratedTime, logIndex: entry.logIndex, logID: entry.logID },
      });
    }
    if (timestamp) {
      out.annotations['dev.sigstore.cosign/rfc3161timestamp'] = JSON.stringify({ SignedRFC3161TimestampBlob: b64(timestamp) });
    }
  } else {
    const p = entry?.verification.inclusionProof;
    out.bundle = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        certificate: { rawBytes: b64(certDer) },
        tlogEntries: entry ? [{
          logIndex: String(entry.logIndex),
          logId: { keyId: b64(Buffer.from(entry.logID, 'hex')) },
          kindVersion: { kind: 'dsse', version: '0.0.1' },
          integratedTime: String(entry.integratedTime),
          inclusionPromise: { signedEntryTimestamp: entry.verification.signedEntryTimestamp },
          inclusionProof: {
            logIndex: String(p.logIndex), rootHash: b64(Buffer.from(p.rootHash, 'hex')),
            treeSize: String(p.treeSize), hashes: p.hashes, checkpoint: { envelope: p.checkpoint },
          },
          canonicalizedBody: entry.body,
        }] : [],
        timestampVerificationData: { rfc3161Timestamps: timestamp ? [{ signedTimestamp: b64(timestamp) }] : [] },
      },
      dsseEnvelope: { payload: b64(payload), payloadType: s.payloadType, signatures: [{ sig: b64(sig), keyid: '' }] },
    };
  }
  signatures.push(out);
}

const pems = (o, f) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
process.stdout.write(JSON.stringify({
  trustedRoot,
  caRoots: pems(cas, (c) => pem(c.rootCertificate)),
  ctlogKeys: pems(ctlogs, (c) => pem(spki(c.keys.publicKey), 'PUBLIC KEY')),
  tlogKeys: pems(tlogs, (t) => pem(spki(t.keys.publicKey), 'PUBLIC KEY')),
  tsaChains: pems(tsas, (t) => pem(t.intCertificate) + pem(t.rootCertificate)),
  signatures,
}));
