// API key scopes over real HTTP on loopback: a key does what its scopes allow. Ground truth (which the
// operator judges performance on, and which can pause a model) needs the "feedback" scope, which a key
// without scopes lacks; a key for labels alone cannot predict or run jobs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { mlpInputs } from '../../models/generate.js';
import { post, type Served, serve } from './support.js';

jest.setTimeout(60_000);

const PACS = 'pacs-key-0123456789abcdef';
const EHR = 'ehr-key-0123456789abcdef';
const LAB = 'lab-key-0123456789abcdef';
let s: Served;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clinops-scopes-'));
  writeFileSync(join(dir, 'keys.json'), JSON.stringify({ keys: [
    { id: 'pacs', key: PACS }, { id: 'ehr', key: EHR, scopes: ['predict', 'feedback'] }, { id: 'lab', key: LAB, scopes: ['feedback'] }] }));
  s = await serve({ args: ['--api-keys', join(dir, 'keys.json'), '--workers', '1'] });
});
afterAll(async () => {
  await s?.stop();
});

it('takes ground truth only from a key with the feedback scope', async () => {
  const [p] = (await post(`${s.url}/v1/models/sepsis/predict`, { instances: mlpInputs(1, 7) }, { 'x-api-key': PACS })).json.predictions;
  const label = { predictionId: p.id, label: p.label === 'Sepsis' ? 'No sepsis' : 'Sepsis' };
  const refused = await post(`${s.url}/v1/feedback`, label, { 'x-api-key': PACS });
  expect(refused).toMatchObject({ status: 403, json: { code: 'FORBIDDEN', field: 'x-api-key',
    error: 'the API key "pacs" may not report ground truth: it lacks the "feedback" scope (its scopes: predict, jobs)' } });
  expect((await post(`${s.url}/v1/feedback`, label, { 'x-api-key': EHR })).status).toBe(202);
  expect((await post(`${s.url}/v1/feedback`, label, { 'x-api-key': LAB })).status).toBe(202);
});

it('lets a labels-only key neither predict (REST or OIP) nor run jobs', async () => {
  const instances = mlpInputs(1, 8);
  for (const [url, body] of [[`${s.url}/v1/models/sepsis/predict`, { instances }], [`${s.url}/v1/models/sepsis/jobs`, { instances }],
    [`${s.url}/v2/models/sepsis/infer`, { inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: instances[0] }] }]] as const) {
    const r = await post(url, body, { 'x-api-key': LAB });
    expect([url, r.status, r.json.code]).toEqual([url, 403, 'FORBIDDEN']);
    expect(r.json.error).toContain('it lacks the');
  }
  expect((await post(`${s.url}/v1/models/sepsis/predict`, { instances }, { 'x-api-key': EHR })).status).toBe(200);
});

it('never opens shadow control or mirrored copies without a monitoring key: no API key may send inputs elsewhere', async () => {
  for (const [method, path] of [['POST', '/v1/monitoring/shadow'], ['GET', '/v1/monitoring/shadow'], ['DELETE', '/v1/monitoring/shadow'], ['POST', '/v1/monitoring/mirror']]) {
    const res = await fetch(`${s.url}${path}`, { method, headers: { 'content-type': 'application/json', 'x-api-key': EHR },
      ...(method === 'POST' ? { body: JSON.stringify({ sha256: 'e'.repeat(64), urls: ['http://203.0.113.7:8081'] }) } : {}) });
    const json = await res.json() as { code: string; error: string };
    expect([method, path, res.status, json.code]).toEqual([method, path, 403, 'FORBIDDEN']);
    expect(json.error).toContain('this route takes the monitoring key alone, and this server has none (--monitoring-key-file)');
  }
});
