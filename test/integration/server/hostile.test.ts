// Hostile input over real HTTP on loopback (the files from test/models/hostile.ts): each answered with
// a 4xx that names what was refused, the server's memory judged from the headers before any pixel
// buffer is made — the peak resident memory (VmHWM) stays within a stated ceiling above where it
// started, while the hostile requests arrive together — and the answer reaches clients that send a body
// too large without waiting for it (Python's urllib and requests, which send no Expect: 100-continue).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { jest } from '@jest/globals';
import { repoRoot } from '../../harness/controlplane.js';
import { identityImageGraph, writeModel } from '../../models/generate.js';
import { deflateBomb, jpegLiarDicom, liarDicom, plainDicom, pngFlood, rleDicom } from '../../models/hostile.js';
import { serve, type Served } from './support.js';

jest.setTimeout(180_000);
/** How far above its resting size the server's peak resident memory may rise while it refuses all of them. */
const CEILING_MB = 400;

let s: Served;
let dir: string;
let bomb: Buffer;

const kb = (field: string, pid: number) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clinops-hostile-'));
  const m = writeModel(join(dir, 'identity'), 'model.onnx', identityImageGraph(16));
  s = await serve({
    file: { path: m.path, sha256: m.sha256, name: 'imaging', labels: Array.from({ length: 256 }, (_, i) => String(i)) },
    args: ['--preprocessing', JSON.stringify({ width: 16, height: 16, channels: 1, mean: [0.5], std: [0.25], dicom: { frames: 'all' } })],
  });
  bomb = await deflateBomb({ rows: 8192, columns: 8192, frames: 6 });
});
afterAll(async () => {
  await s?.stop();
});

const post = async (body: Buffer, type: string, headers: Record<string, string> = {}) => {
  const started = performance.now();
  const res = await fetch(`${s.url}/v1/models/imaging/predict`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });
  return { status: res.status, json: await res.json() as { error: string; code: string; field?: string }, ms: performance.now() - started };
};

it('refuses a well-formed study it can decode nothing of, and serves a small one', async () => {
  const ok = await post(plainDicom({ rows: 16, columns: 16 }), 'application/dicom');
  expect(ok.status).toBe(200);
});

it('refuses each hostile file from its header, before decoding it, within a bounded peak memory while they arrive together', async () => {
  expect(bomb.length).toBeLessThan(1024 ** 2); // 805 MB of pixels when inflated
  const cases: Array<[string, Buffer, string, number, RegExp]> = [
    ['a deflate bomb: 8192×8192×6 frames in under 1 MB', bomb, 'application/dicom', 413, /deflated data set .*decode budget of 268435456 bytes \(--decode-budget, CLINOPS_DECODE_BUDGET\)/],
    ['a 65535×65535 header over 16 bytes', liarDicom({ rows: 65535, columns: 65535 }), 'application/dicom', 413, /a 65535×65535 study needs \d+ bytes, more than/],
    ['an RGB RLE study of 4096×4096', rleDicom({ rows: 4096, columns: 4096, samples: 3, bits: 8 }), 'application/dicom', 413, /a 4096×4096×3-sample study needs/],
    ['100,000 frames of 1×1', liarDicom({ rows: 1, columns: 1, frames: 100_000 }), 'application/dicom', 413, /gives 100000 frames, more than is left of the 1024/],
    ['a JPEG frame that is 30000×30000 where the header says 16×16', jpegLiarDicom(16, 16, 30000, 30000), 'application/dicom', 415, /JPEG frame is 30000×30000 with 1 components, not the 16×16/],
    ['a PNG asking for 60000×60000 pixels', pngFlood(60000, 60000), 'image/png', 413, /a 60000×60000 image needs 14400001024 bytes/],
    ['a gzip bomb: 200 MB of JSON zeros', gzipSync(Buffer.alloc(200 * 1024 ** 2, 0x20)), 'application/json', 413, /larger than the limit/],
  ];
  const rest = kb('VmRSS', s.proc.pid!);
  // Each alone first: its answer, and that it names what was refused.
  for (const [what, body, type, status, message] of cases) {
    const r = await post(body, type, type === 'application/json' ? { 'content-encoding': 'gzip' } : {});
    expect([what, r.status]).toEqual([what, status]);
    expect(r.json.error).toMatch(message);
    expect(r.json.field).toBeDefined();
  }
  // Then three of each at once (21 requests), with the health check asked throughout.
  let live = true;
  const health: number[] = [];
  const probe = (async () => {
    while (live) {
      const t = performance.now();
      const h = await fetch(`${s.url}/v2/health/live`);
      expect(h.status).toBe(200);
      health.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const all = await Promise.all(cases.flatMap(([, body, type, status]) => [0, 1, 2].map(async () =>
    [(await post(body, type, type === 'application/json' ? { 'content-encoding': 'gzip' } : {})).status, status])));
  live = false;
  await probe;
  for (const [got, want] of all) expect(got).toBe(want);
  const peak = kb('VmHWM', s.proc.pid!);
  const riseMb = (peak - rest) / 1024;
  process.stdout.write(`hostile: resting RSS ${(rest / 1024).toFixed(0)} MB, peak ${(peak / 1024).toFixed(0)} MB (+${riseMb.toFixed(0)} MB) over ${all.length} hostile requests at once; ` +
    `health p100 ${Math.max(...health).toFixed(0)} ms over ${health.length} probes\n`);
  expect(riseMb).toBeLessThan(CEILING_MB);
  // And the server still serves.
  expect((await post(plainDicom({ rows: 16, columns: 16 }), 'application/dicom')).status).toBe(200);
});

it('counts a multipart form\'s fields toward the body limit', async () => {
  // 12 fields of 1 MB sent chunked (no Content-Length to refuse it early): past the 10 MB limit while streaming.
  const boundary = 'x-hostile-boundary';
  const field = (i: number) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\n${'a'.repeat(1024 ** 2)}\r\n`);
  const body = Buffer.concat([...Array.from({ length: 12 }, (_, i) => field(i)), Buffer.from(`--${boundary}--\r\n`)]);
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${s.url}/v1/models/imaging/predict`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    for (let o = 0; o < body.length; o += 256 * 1024) req.write(body.subarray(o, o + 256 * 1024));
    req.end();
  });
  expect(answer.status).toBe(413);
  expect(JSON.parse(answer.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'body' });
});

it('lets Python\'s urllib and requests read the 413 for a 40 MB body they send without waiting', async () => {
  const python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'test'], { encoding: 'utf8' }).trim();
  const script = join(dir, 'too_large.py');
  writeFileSync(script, [
    'import json, sys, urllib.request, urllib.error',
    'import requests',
    'url = sys.argv[1]',
    'body = b"{" + b" " * (40 * 1024 * 1024) + b"}"',
    'out = {}',
    'try:',
    '    urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"content-type": "application/json"}))',
    '    out["urllib"] = [200, None]',
    'except urllib.error.HTTPError as e:',
    '    out["urllib"] = [e.code, json.loads(e.read())]',
    'r = requests.post(url, data=body, headers={"content-type": "application/json"})',
    'out["requests"] = [r.status_code, r.json()]',
    'print(json.dumps(out))',
  ].join('\n'));
  const out = JSON.parse(execFileSync(python, [script, `${s.url}/v1/models/imaging/predict`], { encoding: 'utf8' }));
  for (const client of ['urllib', 'requests']) {
    expect([client, out[client][0]]).toEqual([client, 413]);
    expect(out[client][1]).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'body', error: expect.stringContaining('larger than the limit of 10485760 bytes') });
  }
});

it('refuses predictions, and turns readiness off, once the audit file cannot be written (a full disk), without crashing', async () => {
  // /dev/full: every write fails with ENOSPC, as on a full volume.
  const full = await serve({ model: 'mlp', args: ['--audit-file', '/dev/full'] });
  try {
    const predict = () => fetch(`${full.url}/v1/models/sepsis/predict`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [[0, 0, 0, 0, 0, 0, 0, 0]] }) });
    await predict(); // its record is handed to the file, whose write fails
    let ready = 200;
    for (const deadline = Date.now() + 5000; ready === 200 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      ready = (await fetch(`${full.url}/health/ready`)).status;
    }
    expect(ready).toBe(503);
    const refused = await predict();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'NOT_READY', error: 'predictions are refused while their audit record cannot be kept (the audit file cannot be written: ENOSPC)' });
    expect((await fetch(`${full.url}/health/live`)).status).toBe(200);
    expect(full.proc.exitCode).toBeNull();
  } finally {
    await full.stop();
  }
});
