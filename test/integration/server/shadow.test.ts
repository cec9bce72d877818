// Shadow traffic between two real servers on loopback: the serving one, told on its monitoring port
// where the candidate is, copies every prediction (REST JSON, REST batches, OIP binary) to the
// candidate's /v1/monitoring/mirror after answering; the candidate predicts them as its own (same ids in
// its window) and the serving one reports how the answers compare. The mirror takes the monitoring key only.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mlpGraph, mlpInputs, mlpWeights, writeModel } from '../../models/generate.js';
import { get, post, serve, type Served, testModels } from './support.js';

const KEY = 'operator-key-0123456789abcdef';
const API = 'ehr-key-0123456789abcdef';
let serving: Served;
let same: Served;
let other: Served;
let otherSha: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shadow-'));
  writeFileSync(join(dir, 'keys.json'), JSON.stringify({ keys: [{ id: 'ehr', key: API }] }));
  writeFileSync(join(dir, 'key'), KEY);
  const args = ['--api-keys', join(dir, 'keys.json'), '--monitoring-key-file', join(dir, 'key'), '--monitoring-port', '0'];
  const m = testModels().mlp!;
  const differs = writeModel(dir, 'other.onnx', mlpGraph(mlpWeights(8, 16, 2, 999)));
  otherSha = differs.sha256;
  [serving, same, other] = await Promise.all([
    serve({ args }),
    serve({ args }),
    serve({ args, file: { path: differs.path, sha256: differs.sha256, name: 'sepsis', labels: ['No sepsis', 'Sepsis'] } }),
  ]);
  expect(m.sha256).not.toBe(otherSha);
}, 60_000);
afterAll(async () => {
  await Promise.all([serving, same, other].map((s) => s?.stop()));
});

const auth = { authorization: `Bearer ${KEY}` };
const report = async () => (await get(`${serving.monitoringUrl}/v1/monitoring/shadow`, auth)).json;
async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await report())}`);
}

it('copies every prediction to the candidate after answering, and compares the answers', async () => {
  const sha = testModels().mlp!.sha256;
  const set = await post(`${serving.monitoringUrl}/v1/monitoring/shadow`, { sha256: sha, urls: [same.monitoringUrl], token: KEY, ttlSeconds: 60 }, auth);
  expect(set.status).toBe(200);
  expect(set.json).toMatchObject({ sha256: sha, active: true, compared: 0 });

  const xs = mlpInputs(5, 30);
  // One instance a request, then a batch of 10, then OIP with the binary tensor extension.
  for (const x of xs.slice(0, 20)) expect((await post(`${serving.url}/v1/models/sepsis/predict`, { instances: [x], id: `one-${xs.indexOf(x)}` }, { 'x-api-key': API })).status).toBe(200);
  expect((await post(`${serving.url}/v1/models/sepsis/predict`, { instances: xs.slice(20), id: 'batch' }, { 'x-api-key': API })).status).toBe(200);
  const header = Buffer.from(JSON.stringify({ id: 'oip', inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', parameters: { binary_data_size: 32 } }] }));
  const oip = await fetch(`${serving.url}/v2/models/sepsis/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length), 'x-api-key': API },
    body: Buffer.concat([header, Buffer.from(new Float32Array(xs[0]!).buffer)]),
  });
  expect(oip.status).toBe(200);

  await until('31 compared', async () => (await report()).compared === 31);
  const r = await report();
  expect(r).toMatchObject({ sent: 22, dropped: 0, failed: 0, compared: 31, agreed: 31 });
  expect(r.confidenceDifferenceSum).toBeLessThan(1e-5);
  expect(r.confidences).toHaveLength(31);

  // The candidate predicted them as its own, under the same ids — in the order its copies arrived, which
  // for copies in flight side by side (up to 8) need not be the order they were answered in.
  const window = (await get(`${same.monitoringUrl}/v1/monitoring/window`, auth)).json as { samples: Array<{ id: string }> };
  expect(window.samples.map((s) => s.id).sort()).toEqual([...xs.slice(0, 20).map((_, i) => `one-${i}`), ...Array.from({ length: 10 }, (_, i) => `batch.${i}`), 'oip'].sort());
});

it('a different candidate disagrees; clearing stops the copies; the mirror takes the monitoring key only', async () => {
  const set = await post(`${serving.monitoringUrl}/v1/monitoring/shadow`, { sha256: otherSha, urls: [other.monitoringUrl], token: KEY }, auth);
  expect(set.json).toMatchObject({ sha256: otherSha, compared: 0 });
  const xs = mlpInputs(6, 100);
  for (let i = 0; i < 100; i += 20) expect((await post(`${serving.url}/v1/models/sepsis/predict`, { instances: xs.slice(i, i + 20) }, { 'x-api-key': API })).status).toBe(200);
  await until('100 compared', async () => (await report()).compared === 100);
  const r = await report();
  expect(r.agreed).toBeLessThan(100);
  expect(r.confidenceDifferenceSum / r.compared).toBeGreaterThan(0.01);

  expect((await fetch(`${serving.monitoringUrl}/v1/monitoring/shadow`, { method: 'DELETE', headers: auth })).status).toBe(200);
  expect((await post(`${serving.url}/v1/models/sepsis/predict`, { instances: [xs[0]] }, { 'x-api-key': API })).status).toBe(200);
  await new Promise((res) => setTimeout(res, 200));
  expect(await report()).toMatchObject({ active: false, sent: 5 });

  const mirror = `${other.monitoringUrl}/v1/monitoring/mirror`;
  expect((await post(mirror, { inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: xs[0] }] })).status).toBe(401);
  expect((await post(mirror, { inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: xs[0] }] }, { 'x-api-key': API })).status).toBe(403);
  expect((await post(`${serving.monitoringUrl}/v1/monitoring/shadow`, { sha256: 'nope', urls: [] }, auth))).toMatchObject({ status: 400, json: { field: 'sha256' } });
  // Not on the serving port.
  expect((await post(`${serving.url}/v1/monitoring/shadow`, { sha256: otherSha, urls: [] }, { 'x-api-key': API })).status).toBe(404);
});
