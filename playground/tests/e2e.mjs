// End-to-end tests of the playground in headless Chromium (Debian's, driven
// by playwright-core), against `imgverify playground` serving the embedded
// site. Run by `cargo xtask ci` (and `cargo xtask playground --test`).
//
// - every gallery example evaluates in the browser to exactly the document
//   `imgverify apply --format json` prints for the same inputs, and its rows
//   show the same verdicts;
// - a layout made here (a fresh image, signed now by a fresh P-256 key) is
//   uploaded through the real file input and verifies; a tampered copy fails
//   for its reason, as the CLI says;
// - a broken policy shows its problem with the field path and line, in the
//   list and in the editor;
// - a share link round-trips the texts; an exported kyverno-test.yaml passes
//   `imgverify test`;
// - no request leaves the page's origin.
// Screenshots go to target/playground-screenshots/.

import { chromium } from 'playwright-core';
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = process.env.IMGVERIFY_BIN ?? join(ROOT, 'target/debug/imgverify');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'target/playground-screenshots');
const NOW = '2026-06-01T00:00:00Z';
mkdirSync(SHOTS, { recursive: true });

let passed = 0;
const failures = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}\n${e.stack ?? e}`);
  }
}

/** `imgverify apply … --format json`, parsed. */
function cliApply(args) {
  const r = spawnSync(BIN, ['apply', ...args, '--format', 'json', '--now', NOW], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`imgverify apply exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// ---------- a fresh signed image, as an OCI layout ----------

const sha = (b) => createHash('sha256').update(b).digest('hex');

/** A layout with `registry.example.com/fresh/app:v1` signed by `key`, and
 *  `…/fresh/tampered:v1` whose signature names another image. */
function freshLayout(dir, key) {
  const blobs = join(dir, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (bytes) => { const h = sha(bytes); writeFileSync(join(blobs, h), bytes); return { digest: `sha256:${h}`, size: bytes.length }; };
  const manifests = [];
  const image = (repo, salt) => {
    const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, salt })));
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [] }));
    const d = put(m);
    manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...d, annotations: { 'org.opencontainers.image.ref.name': `${repo}:v1` } });
    return d.digest;
  };
  const signature = (repo, forDigest, ofDigest) => {
    const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': repo },
      image: { 'docker-manifest-digest': forDigest }, type: 'cosign container image signature' }, optional: null }));
    const p = put(payload);
    const sig = sign('sha256', payload, key).toString('base64');
    const config = put(Buffer.from('{}'));
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...p,
        annotations: { 'dev.cosignproject.cosign/signature': sig } }] }));
    const d = put(m);
    manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...d,
      annotations: { 'org.opencontainers.image.ref.name': `${repo}:${ofDigest.replace(':', '-')}.sig` } });
  };
  const app = image('registry.example.com/fresh/app', 'app');
  signature('registry.example.com/fresh/app', app, app);
  const tampered = image('registry.example.com/fresh/tampered', 'tampered');
  signature('registry.example.com/fresh/tampered', app, tampered); // names the other image
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}

function freshPolicy(pem) {
  const indented = pem.trim().split('\n').map((l) => `                      ${l}`).join('\n');
  return `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: fresh-key
spec:
  rules:
    - name: signed-by-fresh-key
      match:
        any:
          - resources: {kinds: [Pod]}
      verifyImages:
        - failureAction: Enforce
          imageReferences: ["registry.example.com/fresh/*"]
          attestors:
            - entries:
                - keys:
                    publicKeys: |-
${indented}
                    rekor: {ignoreTlog: true}
                    ctlog: {ignoreSCT: true}
`;
}

const FRESH_RESOURCES = ['app', 'tampered'].map((n) => `apiVersion: v1
kind: Pod
metadata: {name: ${n}, namespace: default}
spec:
  containers: [{name: c, image: registry.example.com/fresh/${n}:v1}]
`).join('---\n');

// ---------- the run ----------

const server = spawn(BIN, ['playground', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((res, rej) => {
  let out = '';
  server.stdout.on('data', (d) => { out += d; const m = out.match(/http:\/\/[^\s/]+\//); if (m) res(m[0]); });
  server.on('exit', (c) => rej(new Error(`imgverify playground exited ${c}`)));
  setTimeout(() => rej(new Error('imgverify playground did not start')), 30000);
});
const origin = new URL(base).origin;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking'] });
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
const foreign = [];
const consoleErrors = [];
context.on('request', (r) => {
  const u = new URL(r.url());
  if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) foreign.push(r.url());
});

async function openPage(url = base) {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  return page;
}

const page = await openPage();
const tmp = mkdtempSync(join(tmpdir(), 'imgverify-playground-'));

await test('every gallery example decides as imgverify apply', async () => {
  const examples = await page.evaluate(() => window.imgverify.examples());
  const dirs = readdirSync(join(ROOT, 'policies')).filter((d) => existsSync(join(ROOT, 'policies', d, 'policy.yaml'))).sort();
  assert.deepEqual(examples, dirs, 'the gallery holds every example scenario');
  let resources = 0;
  for (const name of examples) {
    const dir = join('policies', name);
    const inBrowser = await page.evaluate(async ([n, now]) => {
      await window.imgverify.loadExample(n);
      return window.imgverify.evaluate({ now });
    }, [name, NOW]);
    const args = [join(dir, 'policy.yaml'), '--resource', join(dir, 'resources.yaml'), '--oci-layout', 'policies/images'];
    if (existsSync(join(ROOT, dir, 'values.yaml'))) args.push('--values-file', join(dir, 'values.yaml'));
    assert.deepEqual(inBrowser, cliApply(args), `${name}: the browser's document differs from imgverify apply's`);
    const rows = await page.$$eval('tr[data-resource]', (trs) => trs.map((t) => [t.dataset.resource, t.dataset.allowed]));
    assert.deepEqual(rows, inBrowser.resources.map((r) => [r.name, String(r.allowed)]), `${name}: rows`);
    assert.ok(inBrowser.resources.length > 0, `${name}: no resources`);
    resources += inBrowser.resources.length;
    if (name === 'keyed-signature') {
      await page.click('tr[data-resource="signed-by-someone-else"]');
      await page.screenshot({ path: join(SHOTS, 'gallery-keyed-signature.png') });
    }
  }
  console.log(`     ${examples.length} examples, ${resources} resources, each document equal to imgverify apply's`);
});

await test('a fresh layout uploaded through the file input verifies, a tampered one fails', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const layout = join(tmp, 'layout');
  freshLayout(layout, privateKey);
  const tar = join(tmp, 'layout.tar');
  execFileSync('tar', ['-C', layout, '-cf', tar, '.']);
  const pem = publicKey.export({ type: 'spki', format: 'pem' });
  await page.evaluate(() => window.imgverify.clearArtifacts());
  await page.evaluate(async ([p, r]) => { await window.imgverify.setPolicy(p); await window.imgverify.setResources(r); }, [freshPolicy(pem), FRESH_RESOURCES]);
  // Without the layout, nothing verifies.
  const before = await page.evaluate((now) => window.imgverify.evaluate({ now }), NOW);
  assert.deepEqual(before.resources.map((r) => r.allowed), [false, false]);
  await page.setInputFiles('#artifacts', tar);
  await page.waitForSelector('#artifact-list li');
  const listed = await page.textContent('#artifact-list');
  assert.match(listed, /layout\.tar/);
  assert.match(listed, /registry\.example\.com\/fresh\/app:v1/);
  await page.click('#evaluate');
  await page.waitForFunction(() => document.querySelector('tr[data-resource="app"]')?.dataset.allowed === 'true');
  assert.equal(await page.getAttribute('tr[data-resource="app"]', 'data-allowed'), 'true');
  assert.equal(await page.getAttribute('tr[data-resource="tampered"]', 'data-allowed'), 'false');
  const doc = await page.evaluate((now) => window.imgverify.evaluate({ now }), NOW);
  writeFileSync(join(tmp, 'fresh-policy.yaml'), freshPolicy(pem));
  writeFileSync(join(tmp, 'fresh-resources.yaml'), FRESH_RESOURCES);
  const cli = cliApply([join(tmp, 'fresh-policy.yaml'), '--resource', join(tmp, 'fresh-resources.yaml'), '--oci-layout', layout]);
  assert.deepEqual(doc, cli);
  const why = doc.resources[1].results[0].images[0].message;
  assert.match(why, /signature payload is for image digest sha256:[0-9a-f]{64}, not sha256:[0-9a-f]{64}/, why);
  // What verified the fresh image: the fresh key.
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  assert.deepEqual(doc.resources[0].results[0].images[0].verifiedBy,
    [`.attestors[0].entries[0].keys: key sha256:${sha(spki)}`]);
  await page.screenshot({ path: join(SHOTS, 'fresh-layout.png') });
  // Not a layout: refused by name.
  writeFileSync(join(tmp, 'notes.tar'), 'not a tar at all');
  const err = await page.evaluate(async (bytes) => {
    try { await window.imgverify.loadArtifacts(new File([new Uint8Array(bytes)], 'notes.tar')); return null; } catch (e) { return e.message; }
  }, [...readFileSync(join(tmp, 'notes.tar'))]);
  assert.match(err ?? '', /notes\.tar: neither an OCI layout/);
  await page.evaluate(async () => { await window.imgverify.clearArtifacts(); await window.imgverify.loadExampleImages(); });
});

await test('a broken policy shows its problem with the field path and line', async () => {
  const broken = freshPolicy('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')
    .replace('            - entries:', '            - count: -1\n              entries:');
  const problems = await page.evaluate((p) => window.imgverify.setPolicy(p), broken);
  const count = problems.find((p) => p.path === 'spec.rules[0].verifyImages[0].attestors[0].count');
  assert.ok(count, JSON.stringify(problems));
  assert.equal(count.line, broken.split('\n').findIndex((l) => l.includes('count: -1')) + 1);
  await page.waitForSelector('#problems li');
  const items = await page.$$eval('#problems li', (lis) => lis.map((l) => l.textContent));
  assert.ok(items.some((t) => t.includes('spec.rules[0].verifyImages[0].attestors[0].count') && t.includes(`line ${count.line}`)), items.join('\n'));
  assert.ok(await page.$('.cm-lint-marker-error'), 'the editor marks the line');
  await page.screenshot({ path: join(SHOTS, 'broken-policy.png') });
  // A YAML syntax error is placed too.
  const syntax = await page.evaluate(() => window.imgverify.setPolicy('apiVersion: kyverno.io/v1\nkind: [ClusterPolicy\n'));
  assert.equal(syntax.length, 1);
  assert.ok(syntax[0].line >= 2, JSON.stringify(syntax));
  const items2 = await page.$$eval('#problems li', (lis) => lis.map((l) => l.textContent));
  assert.ok(items2.some((t) => t.includes('line')), items2.join('\n'));
  // Evaluating a policy set that does not compile says so and decides nothing.
  const e = await page.evaluate(async () => { try { await window.imgverify.evaluate(); return null; } catch (x) { return x.message; } });
  assert.match(e ?? '', /do not compile/);
});

await test('a share link round-trips policy, resources and values', async () => {
  await page.evaluate(() => window.imgverify.loadExample('namespace-selector'));
  await page.evaluate(async () => window.imgverify.setResources('# edited in the playground: ünïcode ✓\n' + (await window.imgverify.texts()).resources));
  await page.click('#share');
  await page.waitForFunction(() => location.hash.startsWith('#s='));
  const link = await page.evaluate(() => location.href);
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(clip, link);
  const want = await page.evaluate((now) => window.imgverify.evaluate({ now }), NOW);
  const texts = await page.evaluate(() => window.imgverify.texts());
  const other = await openPage(link);
  assert.deepEqual(await other.evaluate(() => window.imgverify.texts()), texts);
  assert.deepEqual(await other.evaluate((now) => window.imgverify.evaluate({ now }), NOW), want);
  await other.close();
  // A damaged link says so and keeps the page usable.
  const bad = await openPage(`${base}#s=AAAA`);
  assert.match(await bad.textContent('#status'), /could not be read/);
  assert.ok((await bad.evaluate(() => window.imgverify.examples())).length > 0);
  await bad.close();
  // A deflate bomb (32 MiB of zeros in ~32 KiB) is refused, not inflated.
  const bomb = deflateRawSync(Buffer.alloc(32 << 20)).toString('base64url');
  const bombed = await openPage(`${base}#s=${bomb}`);
  assert.match(await bombed.textContent('#status'), /could not be read: more than 8388608 bytes/);
  await bombed.close();
});

await test('an exported kyverno-test.yaml passes imgverify test', async () => {
  // An image policy's results are exported as Kyverno writes them
  // (isImageValidatingPolicy, no rule), a ClusterPolicy's by rule.
  for (const example of ['image-validating-policy', 'keyed-signature']) {
    await page.evaluate((n) => window.imgverify.loadExample(n), example);
    await page.evaluate((now) => window.imgverify.evaluate({ now }), NOW);
    const suite = join(tmp, `suite-${example}`);
    mkdirSync(suite);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-test')]);
    await download.saveAs(join(suite, 'kyverno-test.yaml'));
    const exported = readFileSync(join(suite, 'kyverno-test.yaml'), 'utf8');
    assert.equal(exported.includes('isImageValidatingPolicy: true'), example === 'image-validating-policy', exported);
    const texts = await page.evaluate(() => window.imgverify.texts());
    writeFileSync(join(suite, 'policy.yaml'), texts.policy);
    writeFileSync(join(suite, 'resources.yaml'), texts.resources);
    const r = spawnSync(BIN, ['test', suite, '--oci-layout', 'policies/images', '--now', NOW], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Test Summary: \d+ tests passed and 0 tests failed/);
  }
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  await json.saveAs(join(tmp, 'export.json'));
  assert.deepEqual(JSON.parse(readFileSync(join(tmp, 'export.json'), 'utf8')),
    cliApply(['policies/keyed-signature/policy.yaml', '--resource', 'policies/keyed-signature/resources.yaml', '--oci-layout', 'policies/images']));
});

await test('a bundle written by imgverify fetch replays in the browser as in the CLI', async () => {
  const bundle = join(tmp, 'evidence.json');
  const f = spawnSync(BIN, ['fetch', '-p', 'policies/attestation-bundle/policy.yaml', '-r', 'policies/attestation-bundle/resources.yaml',
    '--oci-layout', 'policies/images', '-o', bundle], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(f.status, 0, f.stderr);
  // Beside the examples' layout loaded at start: the bundle alone answers.
  await page.evaluate(() => window.imgverify.loadExample('attestation-bundle'));
  await page.setInputFiles('#artifacts', bundle);
  await page.waitForFunction(() => document.querySelector('#artifact-list').textContent.includes('evidence.json'));
  assert.match(await page.textContent('#artifact-list'), /evidence\.json \(bundle, \d+ recorded answers\)/);
  assert.match(await page.textContent('#artifact-list'), /every answer comes from the bundles/);
  const doc = await page.evaluate((now) => window.imgverify.evaluate({ now }), NOW);
  assert.deepEqual(doc, cliApply(['policies/attestation-bundle/policy.yaml', '--resource', 'policies/attestation-bundle/resources.yaml', '--bundle', bundle]));
  assert.ok(doc.resources.some((r) => r.allowed) && doc.resources.some((r) => !r.allowed), JSON.stringify(doc.summary));
  // Anything the bundle did not record is an error, never a fetch.
  await page.evaluate(() => window.imgverify.loadExample('keyed-signature'));
  const other = await page.evaluate((now) => window.imgverify.evaluate({ now }), NOW);
  assert.match(other.resources[0].results[0].message, /is not in the bundle/);
  await page.evaluate(async () => { await window.imgverify.clearArtifacts(); await window.imgverify.loadExampleImages(); });
});

await test('verification time in the browser beside wasmtime', async () => {
  const n = 20;
  const browser = await page.evaluate(async ([now, n]) => {
    await window.imgverify.loadExample('keyed-signature');
    const policy = (await window.imgverify.texts()).policy;
    const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const names = (await window.imgverify.evaluate({ now })).resources.map((r) => r.name);
    const out = [];
    for (let i = 0; i < names.length; i++) {
      const fresh = [];
      const warm = [];
      for (let k = 0; k < n; k++) {
        await window.imgverify.setPolicy(`${policy}\n# ${k}\n`); // a fresh engine
        fresh.push(await window.imgverify.timeResource(i, { now }));
      }
      for (let k = 0; k < n; k++) warm.push(await window.imgverify.timeResource(i, { now }));
      out.push([names[i], med(fresh), med(warm)]);
    }
    await window.imgverify.setPolicy(policy);
    return out;
  }, [NOW, n]);
  const bench = join(ROOT, 'target/release/imgverify-bench');
  let wasmtime = new Map();
  if (existsSync(bench)) {
    const r = spawnSync(bench, ['apply', 'policies/keyed-signature/policy.yaml', 'policies/keyed-signature/resources.yaml', 'policies/images', String(n)], { cwd: ROOT, encoding: 'utf8' });
    for (const m of r.stdout.matchAll(/^ {2}(\S+): ([\d.]+) \/ ([\d.]+)$/gm)) wasmtime.set(m[1], [Number(m[2]), Number(m[3])]);
  }
  console.log(`     keyed-signature, ms per resource, fresh policy / warm (median of ${n}):`);
  console.log(`     ${'resource'.padEnd(30)} ${'browser'.padStart(13)} ${'wasmtime'.padStart(13)}`);
  for (const [name, fresh, warm] of browser) {
    const w = wasmtime.get(name);
    const fmt = (a, b) => `${a.toFixed(2)} / ${b.toFixed(2)}`.padStart(13);
    console.log(`     ${name.padEnd(30)} ${fmt(fresh, warm)} ${w ? fmt(w[0], w[1]) : '(build imgverify-bench --release)'.padStart(13)}`);
  }
  assert.equal(browser.length, 6);
  await page.evaluate(() => window.imgverify.loadExample('keyed-signature'));
  await page.evaluate((now) => window.imgverify.evaluate({ now }), NOW);
  await page.click('tr[data-resource="signed"]');
  await page.screenshot({ path: join(SHOTS, 'playground.png') });
});

await test('no request left the page\'s origin and the console stayed clean', async () => {
  assert.deepEqual(foreign, []);
  assert.deepEqual(consoleErrors.filter((e) => !e.includes('share link')), []);
});

await browser.close();
server.kill();
rmSync(tmp, { recursive: true, force: true });
console.log(`\nplayground: ${passed} passed, ${failures.length} failed; screenshots in ${SHOTS}`);
process.exit(failures.length ? 1 : 0);
