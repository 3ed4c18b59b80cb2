// The imgverify playground: the engine (wasm-bindgen, `Playground`) with
// CodeMirror editors. Everything runs in this page; the only requests are for
// this page's own files (the module, the gallery and its example images).

import { EditorView, basicSetup } from 'codemirror';
import { EditorState } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { yaml } from '@codemirror/lang-yaml';
import { setDiagnostics, lintGutter } from '@codemirror/lint';
import init, { Playground } from '../pkg/imgverify.js';

const $ = (sel) => document.querySelector(sel);
const SOURCES = ['policy', 'resources', 'values'];

let engine;             // Playground
let gallery = [];       // [{name, about, policy, resources, values}]
let artifacts = [];     // [{name, format, entries, references, warnings}]
let lastDocument = null;
let lastTimes = [];
const editors = {};
const dirty = new Set(SOURCES);
let loadingExample = false;

/** The results no longer match the texts: say so until the next evaluation. */
function markStale() {
  if (lastDocument) $('#results-panel').classList.add('stale');
}

// ---------- editors ----------

function makeEditor(source) {
  const view = new EditorView({
    parent: document.getElementById(`editor-${source}`),
    state: EditorState.create({
      doc: '',
      extensions: [
        basicSetup,
        yaml(),
        lintGutter(),
        keymap.of([{ key: 'Mod-Enter', run: () => { evaluate(); return true; } }]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) {
            dirty.add(source);
            markStale();
            if (!loadingExample) $('#gallery').value = '';
            scheduleCheck();
          }
        }),
      ],
    }),
  });
  editors[source] = view;
}

function text(source) { return editors[source].state.doc.toString(); }

function setText(source, value) {
  const view = editors[source];
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value ?? '' } });
  dirty.add(source);
}

function showTab(source) {
  for (const b of document.querySelectorAll('.tabs button')) b.classList.toggle('active', b.dataset.tab === source);
  for (const e of document.querySelectorAll('.editor')) e.hidden = e.dataset.editor !== source;
  editors[source].requestMeasure();
}

// ---------- problems ----------

let checkTimer;
function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, 250);
}

/** Sends changed texts to the engine; shows every problem. */
function check() {
  clearTimeout(checkTimer);
  const setters = { policy: 'setPolicy', resources: 'setResources', values: 'setValues' };
  for (const s of SOURCES) {
    if (dirty.has(s)) engine[setters[s]](text(s));
  }
  dirty.clear();
  const problems = JSON.parse(engine.problems());
  renderProblems(problems);
  return problems;
}

function offsetOf(view, line, column) {
  const doc = view.state.doc;
  const l = doc.line(Math.min(Math.max(line ?? 1, 1), doc.lines));
  return Math.min(l.from + Math.max((column ?? 1) - 1, 0), l.to);
}

function renderProblems(problems) {
  const list = $('#problems');
  list.replaceChildren();
  for (const s of SOURCES) {
    const view = editors[s];
    const diagnostics = problems.filter((p) => p.source === s).map((p) => {
      const from = offsetOf(view, p.line, p.column);
      const line = view.state.doc.lineAt(from);
      return {
        from, to: Math.max(line.to, from),
        severity: p.severity === 'warning' ? 'warning' : 'error',
        message: p.path ? `${p.path}: ${p.message}` : p.message,
      };
    });
    view.dispatch(setDiagnostics(view.state, diagnostics));
    const n = problems.filter((p) => p.source === s && p.severity === 'error').length;
    document.querySelector(`[data-count="${s}"]`).textContent = n ? String(n) : '';
  }
  const MAX_SHOWN = 200;
  for (const p of problems.slice(0, MAX_SHOWN)) {
    const li = document.createElement('li');
    li.className = p.severity;
    li.dataset.source = p.source;
    const where = el('span', 'where', [p.document || p.source, p.line ? `line ${p.line}` : '']
      .filter(Boolean).join(' · '));
    li.append(where);
    if (p.path) li.append(el('code', 'path', p.path), document.createTextNode(' '));
    li.append(document.createTextNode(p.message));
    li.addEventListener('click', () => {
      showTab(p.source);
      const view = editors[p.source];
      const at = offsetOf(view, p.line, p.column);
      view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
      view.focus();
    });
    list.append(li);
  }
  if (problems.length > MAX_SHOWN) list.append(el('li', 'warning', `… and ${problems.length - MAX_SHOWN} more problems`));
  const errors = problems.filter((p) => p.severity === 'error').length;
  $('#problem-count').textContent = errors ? String(errors) : '';
}

// ---------- artifacts ----------

/** The most one artifact file may be (the engine's store holds 512 MiB). */
const MAX_ARTIFACT_FILE = 512 * 1024 * 1024;

async function loadArtifacts(file) {
  const name = file.name || 'artifacts';
  if (file.size > MAX_ARTIFACT_FILE) {
    const message = `${name}: ${file.size} bytes, over the limit of ${MAX_ARTIFACT_FILE}`;
    status(message, true);
    throw new Error(message);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  let loaded;
  try {
    loaded = JSON.parse(engine.loadArtifacts(name, bytes));
  } catch (e) {
    status(`${e.message ?? e}`, true);
    throw new Error(e.message ?? String(e));
  }
  artifacts.push({ name, ...loaded });
  markStale();
  renderArtifacts();
  status(`Loaded ${name}: ${loaded.entries} ${loaded.format === 'layout' ? 'blobs' : 'recorded answers'}.`);
  return loaded;
}

function renderArtifacts() {
  const list = $('#artifact-list');
  list.replaceChildren();
  for (const a of artifacts) {
    const li = document.createElement('li');
    const b = el('b', '', a.name);
    const meta = el('span', 'refs',
      ` (${a.format}, ${a.entries} ${a.format === 'layout' ? 'blobs' : 'recorded answers'})`);
    li.append(b, meta);
    if (a.references.length) {
      const d = document.createElement('details');
      d.append(el('summary', 'refs', `${a.references.length} image${a.references.length === 1 ? '' : 's'}`));
      const ul = el('ul', 'refs-list');
      for (const r of a.references) ul.append(el('li', '', r));
      d.append(ul);
      li.append(d);
    }
    for (const w of a.warnings) li.append(el('div', 'muted', `⚠ ${w}`));
    list.append(li);
  }
  if (artifacts.some((a) => a.format === 'bundle')) {
    list.append(el('li', 'muted',
      'A bundle is loaded: every answer comes from the bundles, as with imgverify apply --bundle (a fetch they did not record is an error). Clear to use layouts again.'));
  }
}

// ---------- evaluation ----------

function rfc3339Now() {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Decides every resource; resolves to the `apply --format json` document. */
async function evaluate(options = {}) {
  check();
  const now = options.now ?? rfc3339Now();
  try {
    engine.begin();
  } catch (e) {
    status(e.message ?? String(e), true);
    lastDocument = null;
    $('#results-panel').classList.remove('stale');
    renderResults(null, []);
    throw new Error(e.message ?? String(e));
  }
  const times = [];
  const n = engine.resourceCount();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    engine.evaluateResource(i, now);
    times.push(performance.now() - t0);
  }
  const doc = JSON.parse(engine.document());
  lastDocument = doc;
  $('#results-panel').classList.remove('stale');
  lastTimes = times;
  renderResults(doc, times);
  const total = times.reduce((a, b) => a + b, 0);
  status(`Evaluated ${n} resource${n === 1 ? '' : 's'} in ${total.toFixed(1)} ms at ${now}.`);
  return doc;
}

function badge(cls, label) {
  const s = document.createElement('span');
  s.className = `badge ${cls}`;
  s.textContent = label ?? cls;
  return s;
}

function el(tag, cls, content) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (content !== undefined) e.textContent = content;
  return e;
}

function renderResults(doc, times) {
  const body = $('#results tbody');
  body.replaceChildren();
  $('#results-empty').hidden = !!(doc && doc.resources.length);
  if (!doc) { $('#result-summary').textContent = ''; return; }
  const s = doc.summary;
  const total = times.reduce((a, b) => a + b, 0);
  const blocked = doc.resources.filter((r) => !r.allowed).length;
  $('#result-summary').textContent =
    `${doc.resources.length - blocked} allowed, ${blocked} blocked · rules: pass ${s.pass} · fail ${s.fail} · warn ${s.warn} · error ${s.error} · skip ${s.skip} · ${total.toFixed(1)} ms`;
  doc.resources.forEach((r, i) => {
    const row = document.createElement('tr');
    row.dataset.resource = r.name;
    row.dataset.allowed = String(r.allowed);
    const id = el('td');
    id.append(el('div', '', r.namespace ? `${r.namespace}/${r.name}` : r.name), el('div', 'kind', r.kind));
    const verdict = el('td');
    verdict.append(badge(r.allowed ? 'allowed' : 'blocked', r.allowed ? 'allowed' : 'blocked'));
    const rules = el('td');
    for (const res of r.results) rules.append(badge(res.result, `${res.rule}: ${res.result}`), document.createTextNode(' '));
    if (!r.results.length) rules.append(el('span', 'muted', 'no rule applies'));
    const time = el('td', 'num', `${(times[i] ?? 0).toFixed(1)} ms`);
    row.append(id, verdict, rules, time);
    const details = el('tr', 'details');
    details.hidden = !!r.allowed;
    const cell = el('td');
    cell.colSpan = 4;
    if (r.message && (!r.results.length || r.error)) cell.append(el('div', 'rule msg', r.message));
    for (const res of r.results) {
      const div = el('div', 'rule');
      const head = el('div', 'rule-head');
      head.append(badge(res.result), el('b', '', `${res.policy} / ${res.rule}`), el('span', 'muted', res.action ?? ''));
      div.append(head);
      if (res.message) div.append(el('div', 'msg', res.message));
      for (const img of res.images ?? []) {
        const line = el('div', 'image');
        line.append(badge(img.result), el('code', '', img.image));
        if (img.message && img.message !== res.message) line.append(el('span', 'why', img.message));
        div.append(line);
        for (const by of img.verifiedBy ?? []) {
          const v = el('div', 'verified-by');
          const short = by.replace(/sha256:([0-9a-f]{12})[0-9a-f]{52}/, 'sha256:$1…');
          v.append(document.createTextNode('✓ verified by '), el('code', '', short));
          v.title = by;
          div.append(v);
        }
      }
      cell.append(div);
    }
    if (r.warnings?.length) {
      cell.append(el('div', 'subhead', 'Warnings'));
      for (const w of r.warnings) cell.append(el('div', 'msg', w));
    }
    if (r.patches?.length) {
      cell.append(el('div', 'subhead', 'What the webhook would patch in'));
      const ul = el('ul', 'patch-list');
      for (const p of r.patches) {
        const ann = p.path.match(/^\/metadata\/annotations\/(.+)$/);
        const li = el('li');
        if (ann && p.op !== 'remove') {
          li.append(document.createTextNode('annotation '), el('code', '', ann[1].replace(/~1/g, '/').replace(/~0/g, '~')),
            document.createTextNode(' = '), el('code', '', typeof p.value === 'string' ? p.value : JSON.stringify(p.value)));
        } else if (p.path === '/metadata/annotations' && p.op === 'add') {
          continue;
        } else if (/\/image$/.test(p.path) && typeof p.value === 'string') {
          li.append(document.createTextNode('pin '), el('code', '', p.path), document.createTextNode(' to '), el('code', '', p.value));
        } else {
          li.append(el('code', '', JSON.stringify(p)));
        }
        ul.append(li);
      }
      cell.append(ul);
      const raw = document.createElement('details');
      raw.append(el('summary', 'muted', 'JSON patch'), el('pre', 'patches', JSON.stringify(r.patches, null, 2)));
      cell.append(raw);
    }
    if (r.error) cell.append(el('div', 'msg', `error: ${r.error}`));
    details.append(cell);
    row.addEventListener('click', () => { details.hidden = !details.hidden; });
    body.append(row, details);
  });
}

// ---------- export ----------

function download(name, type, content) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([content], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

const q = (s) => JSON.stringify(String(s));

/** A kyverno-test.yaml with the last evaluation's results filled in. */
function kyvernoTest(doc) {
  const groups = new Map();
  for (const r of doc.resources) {
    for (const res of r.results) {
      const key = JSON.stringify([res.policy, res.rule, r.kind, res.result]);
      // An image policy's results are named by the policy, as Kyverno's tests write them.
      const ivpol = res.source === 'KyvernoImageValidatingPolicy';
      if (!groups.has(key)) groups.set(key, { policy: res.policy, rule: res.rule, ivpol, kind: r.kind, result: res.result, resources: [] });
      const name = r.namespace ? `${r.namespace}/${r.name}` : r.name;
      const g = groups.get(key);
      if (!g.resources.includes(name)) g.resources.push(name);
    }
  }
  let y = 'apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata:\n  name: playground\n';
  y += 'policies:\n- policy.yaml\nresources:\n- resources.yaml\n';
  if (text('values').trim()) y += 'variables: values.yaml\n';
  y += 'results:\n';
  if (!groups.size) y = y.replace(/results:\n$/, 'results: []\n');
  for (const g of groups.values()) {
    const rule = g.ivpol ? '  isImageValidatingPolicy: true\n' : `  rule: ${q(g.rule)}\n`;
    y += `- policy: ${q(g.policy)}\n${rule}  kind: ${q(g.kind)}\n  result: ${g.result}\n  resources:\n`;
    for (const n of g.resources) y += `  - ${q(n)}\n`;
  }
  return y;
}

// ---------- share links ----------

function toBase64Url(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s) {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/** The most a share link may inflate to (the engine's own bound on a policy set). */
const MAX_SHARED_BYTES = 8 * 1024 * 1024;

/** The longest share fragment read (a browser keeps about 2 MB of URL). */
const MAX_FRAGMENT = 2 * 1024 * 1024;

async function deflate(bytes) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer());
}

/** Inflates an untrusted link (it may be a deflate bomb): fed 1 KiB at a
 *  time, read as it comes, abandoned past `limit` bytes of output. */
async function inflateBounded(bytes, limit = MAX_SHARED_BYTES) {
  const ds = new DecompressionStream('deflate-raw');
  const writer = ds.writable.getWriter();
  const reader = ds.readable.getReader();
  const chunks = [];
  let total = 0;
  let over = null;
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.length;
      if (total > limit) {
        over = new Error(`more than ${limit} bytes`);
        await reader.cancel();
        return;
      }
      chunks.push(value);
    }
  })();
  try {
    for (let i = 0; i < bytes.length && !over; i += 1024) {
      await writer.ready;
      await writer.write(bytes.subarray(i, i + 1024));
    }
    if (!over) await writer.close();
  } catch (e) {
    if (!over) { await reading.catch(() => {}); throw e; }
  }
  await reading;
  if (over) throw over;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

/** The share link for the current texts (deflate-raw, base64url, in the fragment). */
async function shareLink() {
  const state = { v: 1, policy: text('policy'), resources: text('resources'), values: text('values') };
  const packed = await deflate(new TextEncoder().encode(JSON.stringify(state)));
  const url = new URL(location.href);
  url.hash = `s=${toBase64Url(packed)}`;
  return url.toString();
}

/** Restores texts from a `#s=` fragment: 'none' without one, 'restored', or
 *  'failed' (the reason is in the status line). */
async function restoreFromFragment() {
  if (!location.hash.startsWith('#s=')) return 'none';
  const m = location.hash.match(/^#s=([A-Za-z0-9_-]+)$/);
  try {
    if (!m) throw new Error('not base64url');
    if (m[1].length > MAX_FRAGMENT) throw new Error(`longer than ${MAX_FRAGMENT} characters`);
    const bytes = await inflateBounded(fromBase64Url(m[1]));
    const state = JSON.parse(new TextDecoder().decode(bytes));
    if (state.v !== 1) throw new Error(`unknown share format ${state.v}`);
    for (const s of SOURCES) setText(s, typeof state[s] === 'string' ? state[s] : '');
    $('#gallery').value = '';
    status('Restored the policy and resources from the link.');
    return 'restored';
  } catch (e) {
    return `This share link could not be read: ${e.message ?? e}`;
  }
}

async function share() {
  let link;
  try {
    link = await shareLink();
  } catch (e) {
    status(`No share link: ${e.message ?? e}`, true);
    throw e;
  }
  if (link.length > MAX_FRAGMENT) {
    status(`No share link: it would be ${link.length} characters, more than a browser keeps; share the files instead.`, true);
    return null;
  }
  history.replaceState(null, '', link);
  try {
    await navigator.clipboard.writeText(link);
    status('Share link copied to the clipboard and put in the address bar.');
  } catch {
    status('Share link put in the address bar (the clipboard was not available).');
  }
  return link;
}

// ---------- gallery ----------

function loadExample(name) {
  const ex = gallery.find((g) => g.name === name);
  if (!ex) return;
  loadingExample = true;
  try {
    setText('policy', ex.policy);
    setText('resources', ex.resources);
    setText('values', ex.values ?? '');
  } finally {
    loadingExample = false;
  }
  $('#gallery').value = name;
  showTab('policy');
  check();
  status(`Example “${name}”: ${ex.about}`);
}

// ---------- page ----------

/** The examples' signed images, so that every example verifies out of the box. */
async function loadExampleImages() {
  const images = await (await fetch('examples.tar')).blob();
  return loadArtifacts(new File([images], 'examples.tar'));
}

function status(message, error = false) {
  const s = $('#status');
  s.textContent = message;
  s.style.color = error ? 'var(--bad)' : '';
}

async function start() {
  await init({ module_or_path: new URL('imgverify_bg.wasm', document.baseURI) });
  engine = new Playground();
  for (const s of SOURCES) makeEditor(s);
  for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('#evaluate').addEventListener('click', () => evaluate().catch(() => {}));
  $('#share').addEventListener('click', () => share().catch(() => {}));
  /** The current result: evaluated again when the texts or artifacts changed. */
  const current = async () => (lastDocument && !$('#results-panel').classList.contains('stale')
    ? lastDocument : evaluate());
  $('#export-json').addEventListener('click', async () => {
    const doc = await current();
    download('imgverify-apply.json', 'application/json', `${JSON.stringify(doc, null, 2)}\n`);
  });
  $('#export-test').addEventListener('click', async () => {
    const doc = await current();
    download('kyverno-test.yaml', 'application/yaml', kyvernoTest(doc));
  });
  $('#artifacts').addEventListener('change', async (e) => {
    for (const f of e.target.files) await loadArtifacts(f).catch(() => {});
    e.target.value = '';
  });
  $('#clear-artifacts').addEventListener('click', () => {
    engine.clearArtifacts();
    artifacts = [];
    markStale();
    renderArtifacts();
    status('Artifacts cleared.');
  });
  $('#gallery').addEventListener('change', (e) => loadExample(e.target.value));

  gallery = await (await fetch('gallery.json')).json();
  const select = $('#gallery');
  select.append(new Option('— your own —', ''));
  for (const g of gallery) select.append(new Option(g.name, g.name));
  await loadExampleImages();
  const restored = await restoreFromFragment();
  if (restored !== 'restored') loadExample(gallery[0]?.name);
  if (restored !== 'restored' && restored !== 'none') status(restored, true);
  check();
  window.addEventListener('hashchange', () => restoreFromFragment().then((r) => {
    if (r === 'restored') check(); else if (r !== 'none') status(r, true);
  }));

  window.imgverify = {
    setPolicy: async (t) => { setText('policy', t); return check().filter((p) => p.source === 'policy'); },
    setResources: async (t) => { setText('resources', t); return check().filter((p) => p.source === 'resources'); },
    setValues: async (t) => { setText('values', t); return check().filter((p) => p.source === 'values'); },
    loadArtifacts: async (file) => loadArtifacts(file),
    clearArtifacts: async () => $('#clear-artifacts').click(),
    loadExampleImages: async () => loadExampleImages(),
    evaluate: async (options) => evaluate(options),
    problems: async () => check(),
    loadExample: async (name) => loadExample(name),
    examples: async () => gallery.map((g) => g.name),
    shareLink: async () => shareLink(),
    kyvernoTest: async () => kyvernoTest(lastDocument ?? await evaluate()),
    timings: async () => lastTimes.slice(),
    /** Decides resource `i` alone (after `begin`), in ms: for timing. */
    timeResource: async (i, options = {}) => {
      check();
      engine.begin();
      const t0 = performance.now();
      engine.evaluateResource(i, options.now ?? rfc3339Now());
      return performance.now() - t0;
    },
    texts: async () => Object.fromEntries(SOURCES.map((s) => [s, text(s)])),
  };
  document.body.dataset.ready = 'true';
}

start().catch((e) => { status(`The playground failed to start: ${e.message ?? e}`, true); console.error(e); });
