// Fair shares over real HTTP on loopback. Decoding: a study still decoding at the request's deadline is
// answered 504 and its thread stopped and replaced; a key may have --decode-per-key requests in the
// decode threads (more is 429) while another key's are served. Jobs: one key's flood fills its quota
// (429), not the store — another key's jobs and predictions are served.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { identityImageGraph, mlpInputs, writeModel } from '../../models/generate.js';
import { deflateBomb, plainDicom } from '../../models/hostile.js';
import { get, post, type Served, serve } from './support.js';

jest.setTimeout(120_000);

const A = 'pacs-key-0123456789abcdef';
const B = 'ehr-key-0123456789abcdef';
let dir: string;
let keys: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'clinops-fair-'));
  keys = join(dir, 'keys.json');
  writeFileSync(keys, JSON.stringify({ keys: [{ id: 'pacs', key: A }, { id: 'ehr', key: B }] }));
});

describe('decoding', () => {
  let s: Served;
  /** 20 frames of 2048×2048 zeros, deflated: 168 MB to inflate, measure and window — longer than the 150 ms deadline here. */
  let slow: Buffer;
  const small = plainDicom({ rows: 16, columns: 16 });

  beforeAll(async () => {
    const m = writeModel(join(dir, 'identity'), 'model.onnx', identityImageGraph(16));
    s = await serve({
      file: { path: m.path, sha256: m.sha256, name: 'imaging', labels: Array.from({ length: 256 }, (_, i) => String(i)) },
      args: ['--api-keys', keys, '--preprocessing', JSON.stringify({ width: 16, height: 16, channels: 1, mean: [0.5], std: [0.25], dicom: { frames: 'all' } }),
        '--decode-threads', '2', '--decode-per-key', '1', '--timeout', '150', '--decode-budget', '1gb'],
    });
    slow = await deflateBomb({ rows: 2048, columns: 2048, frames: 20 });
  });
  afterAll(async () => {
    await s?.stop();
  });

  const study = async (body: Buffer, key: string) => {
    const res = await fetch(`${s.url}/v1/models/imaging/predict`, { method: 'POST', headers: { 'content-type': 'application/dicom', 'x-api-key': key }, body });
    return { status: res.status, json: await res.json() as { code?: string; error?: string; predictions?: unknown[] } };
  };
  const decoding = async () => Number(/clinops_decode_requests\{state="decoding"[^}]*\} (\d+)/.exec((await get(`${s.url}/metrics`, { 'x-api-key': B })).json as string)?.[1]);

  it('answers a study still decoding at its deadline 504, replaces the thread, and serves the next', async () => {
    const late = await study(slow, A);
    expect(late).toMatchObject({ status: 504, json: { code: 'DECODE_TIMEOUT', error: 'the images were not decoded within 150 ms (--timeout)' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(s.logs.some((l) => l.includes('"msg":"decode thread replaced"'))).toBe(true);
    expect((await study(small, A)).status).toBe(200);
    expect((await get(`${s.url}/health/ready`)).status).toBe(200);
  });

  it('gives one key its share of the decode threads (429 past it) while another key is served', async () => {
    const first = study(slow, A);
    for (const until = Date.now() + 5000; (await decoding()) < 1 && Date.now() < until;) await new Promise((r) => setTimeout(r, 5));
    const [second, other] = await Promise.all([study(small, A), study(small, B)]);
    expect(second).toMatchObject({ status: 429, json: { code: 'TOO_MANY_REQUESTS', error: expect.stringContaining('this API key has 1 requests decoding or waiting to, its share of the decode threads (--decode-per-key)') } });
    expect(other.status).toBe(200);
    expect((await first).status).toBe(504);
    expect((await study(small, A)).status).toBe(200); // its share is back once the first is answered
  });
});

describe('jobs', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({ args: ['--api-keys', keys, '--workers', '1', '--job-capacity', '8', '--job-quota', '4'] });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('stops a flood of jobs from one key at its quota, and serves another key\'s jobs and predictions', async () => {
    const job = (key: string, seed: number) => post(`${s.url}/v1/models/sepsis/jobs`, { instances: mlpInputs(64, seed) }, { 'x-api-key': key });
    const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => job(A, i)));
    const statuses = flood.map((r) => r.status);
    // Every job a key holds counts until it is fetched or expires: exactly its quota gets in, whatever the timing.
    expect(statuses.filter((c) => c === 202)).toHaveLength(4);
    expect(statuses.filter((c) => c !== 202).every((c) => c === 429)).toBe(true);
    expect(flood.find((r) => r.status === 429)!.json).toMatchObject({ code: 'TOO_MANY_REQUESTS', error: expect.stringContaining('this API key holds 4 jobs not yet expired, its quota (--job-quota)') });
    const theirs = await Promise.all([0, 1, 2, 3].map((i) => job(B, 100 + i)));
    expect(theirs.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    expect((await post(`${s.url}/v1/models/sepsis/predict`, { instances: mlpInputs(1, 7) }, { 'x-api-key': B })).status).toBe(200);
    for (const r of theirs) {
      let state = 'queued';
      for (const until = Date.now() + 30_000; state !== 'done' && Date.now() < until; await new Promise((ok) => setTimeout(ok, 20))) {
        state = (await get(`${s.url}/v1/jobs/${r.json.id}`, { 'x-api-key': B })).json.state;
      }
      expect(state).toBe('done');
    }
  });
});
