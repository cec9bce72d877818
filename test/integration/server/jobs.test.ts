// Asynchronous prediction jobs over real HTTP on loopback: submitted (202, Location), polled and
// fetched with the key that made it (the same body a synchronous prediction answers), 404 with another
// key; under synchronous load every request is answered and every job finishes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { mlpInputs } from '../../models/generate.js';
import { get, post, type Served, serve } from './support.js';

jest.setTimeout(120_000);

const A = 'pacs-key-0123456789abcdef';
const B = 'ehr-key-0123456789abcdef';
let s: Served;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clinops-jobs-'));
  writeFileSync(join(dir, 'keys.json'), JSON.stringify({ keys: [{ id: 'pacs', key: A }, { id: 'ehr', key: B }] }));
  s = await serve({ args: ['--api-keys', join(dir, 'keys.json'), '--workers', '1', '--job-capacity', '500'] });
});
afterAll(async () => {
  await s?.stop();
});

const del = async (url: string, key: string) => {
  const res = await fetch(url, { method: 'DELETE', headers: { 'x-api-key': key } });
  return { status: res.status, json: await res.json() as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
};
async function done(id: string, key = A): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const r = await get(`${s.url}/v1/jobs/${id}`, { 'x-api-key': key });
    if (r.json.state === 'done' || r.json.state === 'failed') return r.json;
  }
  throw new Error(`job ${id} did not finish`);
}

it('answers a job with the body a synchronous prediction gives, to the key that made it alone', async () => {
  const instances = mlpInputs(5, 3);
  const submitted = await post(`${s.url}/v1/models/sepsis/jobs`, { instances }, { 'x-api-key': A });
  expect(submitted.status).toBe(202);
  expect(submitted.json).toMatchObject({ state: 'queued', location: `/v1/jobs/${submitted.json.id}`, note: expect.stringContaining('a restart loses them') });
  expect(submitted.headers.get('location')).toBe(`/v1/jobs/${submitted.json.id}`);
  const job = await done(submitted.json.id);
  const sync = (await post(`${s.url}/v1/models/sepsis/predict`, { instances }, { 'x-api-key': A })).json;
  expect(job).toMatchObject({ state: 'done', startedAt: expect.any(String), finishedAt: expect.any(String) });
  expect(job.result.predictions.map((p: { label: string; confidence: number }) => [p.label, p.confidence]))
    .toEqual(sync.predictions.map((p: { label: string; confidence: number }) => [p.label, p.confidence]));
  // Another key sees nothing, and cannot cancel it.
  expect(await get(`${s.url}/v1/jobs/${submitted.json.id}`, { 'x-api-key': B })).toMatchObject({ status: 404, json: { code: 'NOT_FOUND', field: 'id' } });
  expect((await del(`${s.url}/v1/jobs/${submitted.json.id}`, B)).status).toBe(404);
  expect((await get(`${s.url}/v1/jobs/${submitted.json.id}`)).status).toBe(401);
  // Bad input: a body that is not JSON is refused at once; instances the model cannot take fail the job, in the error shape.
  expect((await post(`${s.url}/v1/models/sepsis/jobs`, '{"instances": [', { 'x-api-key': A })).status).toBe(400);
  const bad = await post(`${s.url}/v1/models/sepsis/jobs`, { instances: [[1, 2]] }, { 'x-api-key': A });
  const refused = await post(`${s.url}/v1/models/sepsis/predict`, { instances: [[1, 2]] }, { 'x-api-key': A });
  expect(refused.status).toBe(400);
  expect(await done(bad.json.id)).toMatchObject({ state: 'failed', error: refused.json });
});

it('under synchronous load answers every request and finishes every job', async () => {
  const ids: string[] = [];
  const syncs: Array<Promise<number>> = [];
  for (let i = 0; i < 40; i++) {
    syncs.push(post(`${s.url}/v1/models/sepsis/predict`, { instances: mlpInputs(100 + i, 20) }, { 'x-api-key': A }).then((r) => r.status));
    if (i % 2 === 0) ids.push((await post(`${s.url}/v1/models/sepsis/jobs`, { instances: mlpInputs(200 + i, 50) }, { 'x-api-key': A })).json.id);
  }
  expect(await Promise.all(syncs)).toEqual(new Array(40).fill(200));
  // A finished job cannot be cancelled (a queued one can: the job store's unit test holds one queued).
  expect(await del(`${s.url}/v1/jobs/${ids[0]}`, A)).toMatchObject({ status: 409, json: { code: 'CONFLICT', error: 'the job is done: only a queued job can be cancelled' } });
  const finished = await Promise.all(ids.map((id) => done(id)));
  expect(finished.map((j) => j.state)).toEqual(new Array(20).fill('done'));
  expect(finished.every((j) => j.result.predictions.length === 50)).toBe(true);
});
