// Hostile input over real HTTP on loopback: 42 crafted requests (DICOM deflate bombs, headers that
// promise gigapixels, RGB RLE, a hundred thousand frames, JPEG frames that lie about their size, PNG pixel
// floods, gzip bombs, multipart floods, headers past the parser's limit, slow-loris clients), each answered
// with a 4xx that names what was refused, within its deadline, first one by one and then 21 at once —
// while the server's peak resident memory (VmHWM) stays within a stated ceiling above where it started,
// its HTTP thread is never held 100 ms and its liveness probe keeps answering (decoding runs in decode
// threads, never on the HTTP thread). Then: the answer reaches clients that send a body too large without waiting (Python's urllib and
// requests), and an audit file that cannot be written stops predictions without stopping the server.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { jest } from '@jest/globals';
import { repoRoot } from '../../../hack/cluster/controlplane.js';
import { identityImageGraph, writeModel } from '../../models/generate.js';
import {
  brokenDeflate, deflateBomb, encapsulatedDicom, jpegHeader, jpegLiarDicom, liarDicom, nestedSequences, plainDicom, pngFlood, rleDicom, truncatedDicom,
} from '../../models/hostile.js';
import { serve, type Served } from './support.js';

jest.setTimeout(240_000);
/** The decode budget the server runs with here (its default), and how far above its resting size its peak memory may rise. */
const BUDGET = 256 * 1024 ** 2;
const CEILING_MB = 256;
/** --read-timeout here: a slow client is answered 408 within it and the parser's check interval. */
const READ_TIMEOUT_MS = 2000;
/** How long any hostile request may take to be answered, all of them at once. */
const DEADLINE_MS = 8000;

let s: Served;
let dir: string;
let port: number;

const kb = (field: string, pid: number) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

interface Answer {
  status: number;
  json?: { error: string; code: string; field?: string };
  ms: number;
}

interface Case {
  what: string;
  send: () => Promise<Answer>;
  status: number;
  message: RegExp;
}

const PREDICT = '/v1/models/imaging/predict';

async function post(body: Buffer | string, type: string, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${s.url}${PREDICT}`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, ms: performance.now() - started };
}

/**
 * Bytes written on a socket as given (then, with `trickle`, one chunk of one byte every 200 ms), and the
 * answer read until the server closes: what a slow or malformed client looks like to the server.
 */
function raw(chunks: Buffer[], opts: { trickle?: boolean } = {}): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const stopAt = setTimeout(() => sock.destroy(new Error('no answer within 20 s')), 20_000);
    const done = (a?: Answer, err?: Error) => {
      clearInterval(timer);
      clearTimeout(stopAt);
      sock.destroy();
      if (a) resolve(a);
      else reject(err);
    };
    // An answer is whole once its Content-Length bytes follow its headers (the server always sends one).
    const whole = (): Answer | undefined => {
      const text = got.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3})[^]*?content-length: (\d+)/i.exec(text.slice(0, end + 2));
      if (end < 0 || !m || got.length < end + 4 + Number(m[2])) return undefined;
      return { status: Number(m[1]), json: JSON.parse(got.subarray(end + 4, end + 4 + Number(m[2])).toString()), ms: performance.now() - started };
    };
    sock.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      const a = whole();
      if (a) done(a);
    });
    sock.on('error', () => {}); // a reset after the answer; 'close' says what matters
    sock.on('close', () => done(whole(), new Error(`no whole HTTP answer before the connection closed: ${JSON.stringify(got.toString('latin1').slice(0, 120))}`)));
    sock.on('connect', () => {
      for (const c of chunks) sock.write(c);
      if (opts.trickle) timer = setInterval(() => sock.writable && sock.write('1\r\na\r\n'), 200);
    });
  });
}

const head = (extra: string) => Buffer.from(`POST ${PREDICT} HTTP/1.1\r\nhost: 127.0.0.1\r\n${extra}`);
const boundary = 'x-hostile-boundary';
const part = (name: string, body: Buffer, file?: string) => Buffer.concat([
  Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${file}"\r\nContent-Type: image/png` : ''}\r\n\r\n`), body, Buffer.from('\r\n')]);
const form = (parts: Buffer[]) => Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
const b64 = (b: Buffer) => b.toString('base64');

function chunked(body: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let o = 0; o < body.length; o += 256 * 1024) {
    const c = body.subarray(o, o + 256 * 1024);
    out.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  return Buffer.concat([...out, Buffer.from('0\r\n\r\n')]);
}

function cases(bomb: Buffer, bomb2: Buffer): Case[] {
  // Every body is made here, before anything is sent: the sending is only I/O.
  const sendPost = (body: Buffer | string, type: string, headers?: Record<string, string>) => () => post(body, type, headers);
  const sendRaw = (chunks: Buffer[], opts?: { trickle?: boolean }) => () => raw(chunks, opts);
  const dicom = (b: Buffer) => sendPost(b, 'application/dicom');
  const png = (b: Buffer, type = 'image/png') => sendPost(b, type);
  const budget = `decode budget of ${BUDGET} bytes \\(--decode-budget, CLINOPS_DECODE_BUDGET\\)`;
  const tiny = pngFlood(16, 16);
  const multipart = `multipart/form-data; boundary=${boundary}`;
  return [
    // DICOM: bombs and headers that promise more than the budget; all judged before a pixel buffer is made.
    { what: 'a deflate bomb: 8192×8192×6 frames in under 1 MB', send: dicom(bomb), status: 413, message: new RegExp(`deflated data set .*${budget}`) },
    { what: 'a deflate bomb: 2048×2048×40 frames', send: dicom(bomb2), status: 413, message: new RegExp(`deflated data set .*${budget}`) },
    { what: 'a 65535×65535 header over 16 bytes', send: dicom(liarDicom({ rows: 65535, columns: 65535 })), status: 413, message: /a 65535×65535 study needs \d+ bytes, more than/ },
    { what: 'a 65535×65535 RGB header', send: dicom(liarDicom({ rows: 65535, columns: 65535, samples: 3, bits: 8 })), status: 413, message: /a 65535×65535×3-sample study needs/ },
    { what: '30 frames of 40000×40000', send: dicom(liarDicom({ rows: 40000, columns: 40000, frames: 30, bits: 8 })), status: 413, message: /40000×40000.*needs \d+ bytes/ },
    { what: 'an RGB RLE study of 4096×4096', send: dicom(rleDicom({ rows: 4096, columns: 4096, samples: 3, bits: 8 })), status: 413, message: /a 4096×4096×3-sample study needs/ },
    { what: 'a 16-bit RLE study of 8192×8192', send: dicom(rleDicom({ rows: 8192, columns: 8192 })), status: 413, message: /a 8192×8192 study needs/ },
    { what: '100 RGB RLE frames of 2048×2048', send: dicom(rleDicom({ rows: 2048, columns: 2048, samples: 3, bits: 8, frames: 100 })), status: 413, message: /2048×2048.*needs \d+ bytes/ },
    { what: '100,000 frames of 1×1', send: dicom(liarDicom({ rows: 1, columns: 1, frames: 100_000 })), status: 413, message: /gives 100000 frames, more than is left of the 1024/ },
    { what: '1,025 frames of 16×16', send: dicom(liarDicom({ rows: 16, columns: 16, frames: 1025 })), status: 413, message: /gives 1025 frames, more than is left of the 1024/ },
    { what: 'a JPEG frame that is 30000×30000 where the header says 16×16', send: dicom(jpegLiarDicom(16, 16, 30000, 30000)), status: 415, message: /JPEG frame is 30000×30000 with 1 components, not the 16×16/ },
    { what: 'a JPEG frame of 3 components where the header says 1', send: dicom(encapsulatedDicom('1.2.840.10008.1.2.4.50', { rows: 16, columns: 16, bits: 8 }, jpegHeader(16, 16, 3))), status: 415, message: /JPEG frame is 16×16 with 3 components/ },
    { what: 'JPEG 2000', send: dicom(encapsulatedDicom('1.2.840.10008.1.2.4.90', { rows: 16, columns: 16 })), status: 415, message: /JPEG 2000 Lossless/ },
    { what: 'JPEG-LS', send: dicom(encapsulatedDicom('1.2.840.10008.1.2.4.80', { rows: 16, columns: 16 })), status: 415, message: /JPEG-LS Lossless/ },
    { what: 'a deflated data set that is not deflate', send: dicom(brokenDeflate()), status: 400, message: /DICOM/ },
    { what: 'an element whose length runs 2 GB past the end', send: dicom(truncatedDicom()), status: 400, message: /DICOM/ },
    { what: '20,000 nested sequences', send: dicom(nestedSequences(20_000)), status: 400, message: /DICOM/ },
    { what: '64 bits allocated', send: dicom(liarDicom({ rows: 16, columns: 16, bits: 64 })), status: 415, message: /64/ },
    { what: '4 samples per pixel', send: dicom(liarDicom({ rows: 16, columns: 16, samples: 4, bits: 8 })), status: 415, message: /4/ },
    { what: 'no rows', send: dicom(liarDicom({ rows: 0, columns: 16 })), status: 415, message: /0/ },
    { what: 'application/dicom that is not DICOM', send: dicom(Buffer.alloc(4096, 0x41)), status: 400, message: /not a DICOM Part 10 file/ },
    // PNG and JPEG: sizes from the header, before libvips sees them.
    { what: 'a PNG asking for 60000×60000 pixels', send: png(pngFlood(60000, 60000)), status: 413, message: /a 60000×60000 image needs 14400001024 bytes/ },
    { what: 'a PNG asking for 2147483647×1 pixels', send: png(pngFlood(2147483647, 1)), status: 413, message: /a 2147483647×1 image needs/ },
    { what: 'a JPEG asking for 65000×65000 pixels', send: png(jpegHeader(65000, 65000, 3), 'image/jpeg'), status: 413, message: /a 65000×65000 image needs/ },
    { what: 'a GIF sent as a PNG', send: png(Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1')), status: 400, message: /unsupported image format gif/ },
    { what: '64 base64 PNGs of 4000×4000: the budget is the request\'s, not each file\'s', send: sendPost(JSON.stringify({ images: Array.from({ length: 64 }, () => b64(pngFlood(4000, 4000))) }), 'application/json'), status: 413, message: new RegExp(`a 4000×4000 image needs \\d+ bytes, more than is left of the request's ${budget}`) },
    { what: '1,025 base64 images', send: sendPost(JSON.stringify({ images: Array.from({ length: 1025 }, () => b64(tiny)) }), 'application/json'), status: 400, message: /at most 1024/ },
    { what: 'base64 with a stray character', send: sendPost(JSON.stringify({ images: [`${b64(tiny)}!`] }), 'application/json'), status: 400, message: /base64/ },
    // Bodies: compressed bombs, forms and JSON past what the server reads.
    { what: 'a gzip bomb: 200 MB of JSON spaces', send: sendPost(gzipSync(Buffer.alloc(200 * 1024 ** 2, 0x20)), 'application/json', { 'content-encoding': 'gzip' }), status: 413, message: /larger than the limit/ },
    { what: 'a deflate bomb body: 200 MB of JSON spaces', send: sendPost(deflateSync(Buffer.alloc(200 * 1024 ** 2, 0x20)), 'application/json', { 'content-encoding': 'deflate' }), status: 413, message: /larger than the limit/ },
    { what: 'JSON nested a million deep', send: sendPost('['.repeat(1_000_000) + ']'.repeat(1_000_000), 'application/json'), status: 400, message: /nests deeper than 32 levels/ },
    { what: 'JSON of 3 million empty objects', send: sendPost(`[${Array.from({ length: 3_000_000 }, () => '{}').join(',')}]`, 'application/json'), status: 413, message: /more than 65536 arrays and objects/ },
    { what: '17 files in one form', send: sendPost(form(Array.from({ length: 17 }, (_, i) => part(`f${i}`, tiny, `x${i}.png`))), multipart), status: 413, message: /at most 16 files/ },
    { what: 'a 2 MB file past --upload-file-limit 1mb', send: sendPost(form([part('image', Buffer.concat([tiny, Buffer.alloc(2 * 1024 ** 2)]), 'big.png')]), multipart), status: 413, message: /larger than 1048576 bytes/ },
    { what: '12 form fields of 1 MB, chunked', send: sendRaw([head(`content-type: ${multipart}\r\ntransfer-encoding: chunked\r\n\r\n`), chunked(form(Array.from({ length: 12 }, (_, i) => part(`f${i}`, Buffer.alloc(1024 ** 2, 0x61)))))]), status: 413, message: /larger than the limit of 10485760 bytes/ },
    { what: '100,000 empty form fields', send: sendPost(form(Array.from({ length: 100_000 }, (_, i) => part(`f${i}`, Buffer.alloc(0)))), multipart), status: 413, message: /at most 32 fields besides its files/ },
    { what: 'a 40 MB body sent without waiting for an answer', send: sendRaw([head('content-type: application/json\r\ncontent-length: 41943040\r\n\r\n'), Buffer.alloc(40 * 1024 ** 2, 0x20)]), status: 413, message: /larger than the limit of 10485760 bytes/ },
    // The HTTP layer: what the parser refuses, and clients too slow to finish.
    { what: 'headers of 64 KiB', send: sendRaw([head(`x-pad: ${'a'.repeat(64 * 1024)}\r\n\r\n`)]), status: 431, message: /headers are larger/ },
    { what: 'bytes that are not HTTP', send: sendRaw([Buffer.from('\x16\x03\x01 this is not HTTP\r\n\r\n', 'latin1')]), status: 400, message: /not well-formed HTTP/ },
    { what: 'a slow-loris client that never ends its headers', send: sendRaw([Buffer.from(`POST ${PREDICT} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: `)]), status: 408, message: /did not arrive whole within 2000 ms \(--read-timeout\)/ },
    { what: 'a body that stops after 10 of its 1000 bytes', send: sendRaw([head('content-type: application/json\r\ncontent-length: 1000\r\n\r\n'), Buffer.from('{"instan')]), status: 408, message: /did not arrive whole within 2000 ms/ },
    { what: 'a chunked body that trickles a byte every 200 ms', send: sendRaw([head('content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n')], { trickle: true }), status: 408, message: /did not arrive whole within 2000 ms/ },
  ];
}

/** GET `url` every 20 ms from a separate node process until stopped: each answer's milliseconds (minus the status when not 200). */
function livenessProbe(url: string): { stop: () => Promise<number[]> } {
  const script = [
    'let live = true;',
    "process.stdin.on('end', () => (live = false)).resume();",
    'const out = [];',
    'while (live) {',
    '  const t = performance.now();',
    '  const r = await fetch(process.argv[1]);',
    '  await r.arrayBuffer();',
    '  out.push(r.status === 200 ? performance.now() - t : -r.status);',
    '  await new Promise((ok) => setTimeout(ok, 20));',
    '}',
    'process.stdout.write(JSON.stringify(out));',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c));
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  return {
    stop: async () => {
      child.stdin!.end();
      await closed;
      return JSON.parse(out) as number[];
    },
  };
}

let table: Case[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clinops-hostile-'));
  const m = writeModel(join(dir, 'identity'), 'model.onnx', identityImageGraph(16));
  s = await serve({
    file: { path: m.path, sha256: m.sha256, name: 'imaging', labels: Array.from({ length: 256 }, (_, i) => String(i)) },
    args: ['--preprocessing', JSON.stringify({ width: 16, height: 16, channels: 1, mean: [0.5], std: [0.25], dicom: { frames: 'all' } }),
      '--read-timeout', String(READ_TIMEOUT_MS), '--upload-file-limit', '1mb'],
  });
  port = Number(new URL(s.url).port);
  table = cases(await deflateBomb({ rows: 8192, columns: 8192, frames: 6 }), await deflateBomb({ rows: 2048, columns: 2048, frames: 40 }));
});
afterAll(async () => {
  await s?.stop();
});

it('serves a small study', async () => {
  expect((await post(plainDicom({ rows: 16, columns: 16 }), 'application/dicom')).status).toBe(200);
});

it('answers each of 42 hostile requests with a 4xx naming what it refused, one by one and then 21 at once, in bounded memory, live throughout', async () => {
  expect(table.length).toBeGreaterThanOrEqual(30);
  const rest = kb('VmRSS', s.proc.pid!);
  // Every case's answer against what it should be, compared at once so a failure shows them all.
  const check = (answers: Array<readonly [Case, Answer]>) => expect(answers.map(([c, a]) => [c.what, a.status, a.json?.error, a.ms < DEADLINE_MS]))
    .toEqual(answers.map(([c]) => [c.what, c.status, expect.stringMatching(c.message), true]));
  const alone: Array<readonly [Case, Answer]> = [];
  for (const c of table) alone.push([c, await c.send()]);
  await (await fetch(`${s.url}/metrics`)).text(); // the event-loop lag counts from here
  check(alone);
  // Then in two waves of 21 at once (every other case: each wave mixes them all), with the liveness probe
  // asked every 20 ms throughout by a process of its own (this one is busy sending).
  const probe = livenessProbe(`${s.url}/v2/health/live`);
  const answers: Array<readonly [Case, Answer]> = [];
  for (const wave of [table.filter((_, i) => i % 2 === 0), table.filter((_, i) => i % 2 === 1)]) {
    answers.push(...await Promise.all(wave.map(async (c) => [c, await c.send()] as const)));
  }
  const health = await probe.stop();
  // The server's own view: the longest its HTTP thread was held (prom-client's event-loop lag, since the last scrape).
  const lagMs = 1000 * Number(/nodejs_eventloop_lag_max_seconds\{[^}]*\} ([\d.e+-]+)/.exec(await (await fetch(`${s.url}/metrics`)).text())![1]);
  check(answers);
  const peak = kb('VmHWM', s.proc.pid!);
  const riseMb = (peak - rest) / 1024;
  const slowest = answers.reduce((m, [, a]) => Math.max(m, a.ms), 0);
  const p99 = [...health].sort((a, b) => a - b)[Math.floor(health.length * 0.99)]!;
  process.stdout.write(`hostile: ${table.length} requests, 21 at once; resting RSS ${(rest / 1024).toFixed(0)} MB, peak ${(peak / 1024).toFixed(0)} MB (+${riseMb.toFixed(0)} MB, ceiling +${CEILING_MB}); ` +
    `slowest answer ${slowest.toFixed(0)} ms; liveness p99 ${p99.toFixed(0)} ms, p100 ${Math.max(...health).toFixed(0)} ms over ${health.length} probes; event-loop lag max ${lagMs.toFixed(0)} ms\n`);
  expect(riseMb).toBeLessThan(CEILING_MB);
  // The HTTP thread is never held 100 ms (the server's own measure); the probe, whose process shares this
  // small machine's cores with the senders, answers within 100 ms but for a rare scheduling outlier.
  expect(lagMs).toBeLessThan(100);
  expect(p99).toBeLessThan(100);
  expect(Math.max(...health)).toBeLessThan(250);
  expect(health.length).toBeGreaterThan(20);
  expect(health.filter((ms) => ms < 0)).toEqual([]); // a negative entry is a probe not answered 200
  // And the server still serves.
  expect((await post(plainDicom({ rows: 16, columns: 16 }), 'application/dicom')).status).toBe(200);
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
