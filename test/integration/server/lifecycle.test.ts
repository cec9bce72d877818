// The server's lifecycle and guards: an artifact that fails its sha256 is never served; API keys
// (several, reloaded from their file); the hash-chained audit file and its verifier; timeouts; a
// bounded queue; unbatched concurrency; and a SIGTERM that loses no accepted request.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { mlpForward, mlpWeights, rng } from '../../models/generate.js';
import { get, post, serve } from './support.js';

jest.setTimeout(60_000);
const run = promisify(execFile);
const cli = join(resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..'), 'dist', 'cli', 'main.js');
const x = (seed: number) => {
  const r = rng(seed);
  return Array.from({ length: 8 }, () => r() * 4 - 2);
};

it('never becomes ready when the artifact does not match its sha256, and says why', async () => {
  const s = await serve({ sha256: 'f'.repeat(64), ready: false });
  try {
    await new Promise((r) => setTimeout(r, 500));
    expect((await get(`${s.url}/health/live`)).status).toBe(200);
    const ready = await get(`${s.url}/health/ready`);
    expect(ready).toMatchObject({ status: 503, json: { code: 'NOT_READY' } });
    expect(ready.json.error).toMatch(/sha256 of .*mlp\.onnx is [0-9a-f]{64}, expected f{64}; refusing to serve it/);
    expect(await post(`${s.url}/v1/models/sepsis/predict`, { instances: [x(1)] })).toMatchObject({ status: 503, json: { code: 'NOT_READY' } });
    expect(s.logs.some((l) => l.includes('"msg":"model artifact rejected"'))).toBe(true);
  } finally {
    await s.stop();
  }
});

it('with --exit-on-load-failure, exits 3 and leaves the reason as its termination message (as in a pod)', async () => {
  const log = join(mkdtempSync(join(tmpdir(), 'clinops-term-')), 'termination-log');
  const s = await serve({ sha256: 'f'.repeat(64), ready: false, args: ['--exit-on-load-failure'], env: { CLINOPS_TERMINATION_LOG: log } });
  const code = s.proc.exitCode ?? await new Promise<number | null>((r) => s.proc.once('exit', (c) => r(c)));
  expect(code).toBe(3);
  expect(readFileSync(log, 'utf8')).toMatch(/^DigestMismatch: sha256 of .*mlp\.onnx is [0-9a-f]{64}, expected f{64}; refusing to serve it$/);
});

it('falls back to CPU, saying why, when CUDA is asked for but not available', async () => {
  const s = await serve({ args: ['--execution-provider', 'cuda'] });
  try {
    expect((await post(`${s.url}/v1/models/sepsis/predict`, { instances: [x(1)] })).status).toBe(200);
    // onnxruntime itself also prints its failed attempt (not JSON); read only our log records.
    const ready = s.logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; provider?: string }).find((l) => l.msg === 'model ready');
    expect(ready?.provider).toBe('cpu');
    expect(s.logs.some((l) => l.includes('"msg":"CUDA execution provider not available; serving on CPU"'))).toBe(true);
    // Readiness says so too: the operator reads it to report a GPU model served on CPU in status.
    const body = (await (await fetch(`${s.url}/health/ready`)).json()) as Record<string, string>;
    expect(body).toMatchObject({ ready: true, executionProvider: 'cpu', requestedExecutionProvider: 'cuda' });
    expect(body.executionProviderNote).toBeTruthy();
  } finally {
    await s.stop();
  }
});

it('exits non-zero naming the setting when the configuration is bad', async () => {
  await expect(run(process.execPath, [cli, 'serve', '--model', '/nonexistent.onnx', '--name', 'Bad_Name', '--model-version', '1', '--sha256', 'a'.repeat(64), '--labels', 'a,b']))
    .rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('invalid setting --name (CLINOPS_MODEL_NAME)') });
  await expect(run(process.execPath, [cli, 'serve'], { env: { PATH: process.env.PATH ?? '' } }))
    .rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--model (CLINOPS_MODEL_PATH): is required') });
});

describe('API keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-'));
  const file = join(dir, 'keys.json');
  const A = 'pacs-key-0123456789abcdef';
  const B = 'ehr-key-0123456789abcdef';

  it('accepts any listed key by X-API-Key or Bearer, answers 401 without one and 403 with a wrong one, and reloads the file', async () => {
    writeFileSync(file, JSON.stringify({ keys: [{ id: 'pacs', key: A }] }));
    const s = await serve({ args: ['--api-keys', file, '--audit-file', join(dir, 'audit.log')] });
    try {
      const url = `${s.url}/v1/models/sepsis/predict`;
      const body = { instances: [x(2)] };
      expect(await post(url, body)).toMatchObject({ status: 401, json: { code: 'UNAUTHENTICATED', field: 'x-api-key' } });
      expect(await post(url, body, { 'x-api-key': 'wrong-key-0123456789' })).toMatchObject({ status: 403, json: { code: 'FORBIDDEN' } });
      expect((await post(url, body, { 'x-api-key': A })).status).toBe(200);
      expect((await post(url, body, { authorization: `Bearer ${A}` })).status).toBe(200);
      expect((await get(`${s.url}/health/ready`)).status).toBe(200);
      // /metrics on the serving port is an API key holder's when keys are configured.
      expect((await get(`${s.url}/metrics`)).status).toBe(401);
      expect((await get(`${s.url}/metrics`, { 'x-api-key': A })).status).toBe(200);
      // Without a monitoring key of its own, the monitoring signals need an API key like predictions.
      expect((await get(`${s.url}/v1/monitoring/window`)).status).toBe(401);
      expect((await get(`${s.url}/v1/monitoring/window`, { 'x-api-key': A })).status).toBe(200);
      expect((await get(`${s.url}/v2/models/sepsis`)).status).toBe(401);

      writeFileSync(file, JSON.stringify({ keys: [{ id: 'ehr', sha256: (await import('node:crypto')).createHash('sha256').update(B).digest('hex') }] }));
      const deadline = Date.now() + 10_000;
      while ((await post(url, body, { 'x-api-key': B })).status !== 200) {
        if (Date.now() > deadline) throw new Error('new key not picked up');
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await post(url, body, { 'x-api-key': A })).status).toBe(403);
      // A broken file keeps the last good keys.
      writeFileSync(file, '{"keys": ');
      await new Promise((r) => setTimeout(r, 2500));
      expect((await post(url, body, { 'x-api-key': B })).status).toBe(200);
      // The audit trail names the key id, never the key, and no input.
      const audit = readFileSync(join(dir, 'audit.log'), 'utf8');
      expect(audit).toContain('"keyId":"pacs"');
      expect(audit).toContain('"keyId":"ehr"');
      expect(audit).not.toContain(A);
      expect(audit).not.toContain(String(x(2)[0]));
    } finally {
      await s.stop();
    }
  });
});

describe('monitoring key', () => {
  it('opens the monitoring signals, on their own port, to the operator\'s key alone, and follows the key when its Secret changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'monitoring-key-'));
    const keys = join(dir, 'keys.json');
    const file = join(dir, 'key');
    const API = 'pacs-key-0123456789abcdef';
    const OPERATOR = 'operator-key-0123456789abcdef';
    writeFileSync(keys, JSON.stringify({ keys: [{ id: 'pacs', key: API }] }));
    writeFileSync(file, `${OPERATOR}\n`);
    const s = await serve({ args: ['--api-keys', keys, '--monitoring-key-file', file, '--monitoring-port', '0'] });
    try {
      const m = s.monitoringUrl;
      expect(m).not.toBe(s.url);
      for (const path of ['/v1/monitoring/window', '/v1/monitoring/feedback']) {
        expect(await get(`${m}${path}`)).toMatchObject({ status: 401, json: { code: 'UNAUTHENTICATED' } });
        expect((await get(`${m}${path}`, { authorization: `Bearer ${API}` })).status).toBe(403); // a client's key is not enough
        expect((await get(`${m}${path}`, { authorization: `Bearer ${OPERATOR}` })).status).toBe(200);
        // Not served beside predictions at all: a NetworkPolicy can open the monitoring port to the operator alone.
        expect((await get(`${s.url}${path}`, { authorization: `Bearer ${OPERATOR}` })).status).toBe(404);
      }
      expect((await get(`${m}/v1/models/sepsis`, { 'x-api-key': API })).status).toBe(404);
      expect((await get(`${s.url}/health/ready`)).status).toBe(200);
      // /metrics: a key's on the serving port; open on the monitoring port, which a NetworkPolicy gives to the operator and scrapers.
      expect((await get(`${s.url}/metrics`)).status).toBe(401);
      expect((await get(`${m}/metrics`)).status).toBe(200);
      // A new key (its Secret replaced) is picked up; the old one stops working.
      writeFileSync(file, 'rotated-key-0123456789abcdef');
      const deadline = Date.now() + 10_000;
      while ((await get(`${m}/v1/monitoring/feedback`, { authorization: 'Bearer rotated-key-0123456789abcdef' })).status !== 200) {
        if (Date.now() > deadline) throw new Error('new monitoring key not picked up');
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await get(`${m}/v1/monitoring/feedback`, { authorization: `Bearer ${OPERATOR}` })).status).toBe(403);
    } finally {
      await s.stop();
    }
  });
});

describe('audit file', () => {
  it('chains every record to the one before; `clinops audit verify` names the first tampered record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const file = join(dir, 'audit.log');
    const s = await serve({ args: ['--audit-file', file] });
    try {
      for (let i = 0; i < 5; i++) await post(`${s.url}/v1/models/sepsis/predict`, { instances: [x(10 + i)] });
    } finally {
      await s.stop();
    }
    // A restart continues the same chain.
    const again = await serve({ args: ['--audit-file', file] });
    try {
      await post(`${again.url}/v1/models/sepsis/predict`, { instances: [x(20)] });
    } finally {
      await again.stop();
    }
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(6);
    const rec = JSON.parse(lines[0]!);
    expect(Object.keys(rec).sort()).toEqual(['confidence', 'inputSha256', 'keyId', 'latencyMs', 'model', 'modelVersion', 'prediction', 'predictionId', 'prev', 'requestId', 'time']);
    expect((await run(process.execPath, [cli, 'audit', 'verify', file])).stdout).toContain('6 records, chain intact');

    const edited = [...lines];
    edited[2] = edited[2]!.replace(/"prediction":"[^"]+"/, '"prediction":"No sepsis-edited"');
    writeFileSync(file, edited.join('\n') + '\n');
    await expect(run(process.execPath, [cli, 'audit', 'verify', file])).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('record 4 does not carry the hash of the record before it') });
    const removed = lines.filter((_, i) => i !== 1);
    writeFileSync(file, removed.join('\n') + '\n');
    await expect(run(process.execPath, [cli, 'audit', 'verify', file])).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('record 2 ') });
  });
});

describe('load limits', () => {
  it('answers 504 when inference does not finish in time', async () => {
    const s = await serve({ args: ['--timeout', '1', '--batch-delay', '200', '--batch-wait', 'always', '--max-batch', '64'] });
    try {
      expect(await post(`${s.url}/v1/models/sepsis/predict`, { instances: [x(1)] })).toMatchObject({ status: 504, json: { code: 'INFERENCE_TIMEOUT' } });
    } finally {
      await s.stop();
    }
  });

  it('answers 503 with Retry-After when the queue is full', async () => {
    const s = await serve({ args: ['--max-queue', '2', '--batch-delay', '300', '--batch-wait', 'always', '--max-batch', '64'] });
    try {
      const first = post(`${s.url}/v1/models/sepsis/predict`, { instances: [x(1), x(2)] });
      await new Promise((r) => setTimeout(r, 50));
      const second = await post(`${s.url}/v1/models/sepsis/predict`, { instances: [x(3)] });
      expect(second).toMatchObject({ status: 503, json: { code: 'QUEUE_FULL' } });
      expect(second.headers.get('retry-after')).toBe('1');
      expect((await first).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('runs a request that finds the pool idle at once, however long --batch-delay is', async () => {
    // The delay is a wait for company while another batch runs; with nothing running, no one waits.
    const s = await serve({ args: ['--batch-delay', '1000', '--max-batch', '64'] });
    try {
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        expect((await post(`${s.url}/v1/models/sepsis/predict`, { instances: [x(i)] })).status).toBe(200);
        expect(Date.now() - t0).toBeLessThan(900);
      }
    } finally {
      await s.stop();
    }
  });

  it('gives each of 100 concurrent requests its own correct answer without batching', async () => {
    const s = await serve({ args: ['--max-batch', '1', '--workers', '2', '--intra-op-threads', '1'] });
    try {
      const xs = Array.from({ length: 100 }, (_, i) => x(500 + i));
      const rs = await Promise.all(xs.map((v) => post(`${s.url}/v1/models/sepsis/predict`, { instances: [v] })));
      rs.forEach((r, i) => expect(r.json.predictions[0].probabilities.Sepsis).toBeCloseTo(mlpForward(mlpWeights(), xs[i]!)[1]!, 6));
    } finally {
      await s.stop();
    }
  });
});

it('on SIGTERM stops being ready, answers every request it accepted, and exits 0', async () => {
  const s = await serve({ args: ['--batch-delay', '1000', '--batch-wait', 'always', '--max-batch', '256'] });
  const xs = Array.from({ length: 50 }, (_, i) => x(900 + i));
  const inflight = xs.map((v) => post(`${s.url}/v1/models/sepsis/predict`, { instances: [v] }));
  // All 50 accepted and waiting for their batch when SIGTERM arrives.
  const deadline = Date.now() + 5000;
  while (!/clinops_inference_queue_depth\{model="sepsis"\} 50\b/.test((await get(`${s.url}/metrics`)).json)) {
    if (Date.now() > deadline) throw new Error('requests did not queue');
    await new Promise((r) => setTimeout(r, 20));
  }
  // The autoscaler's in-flight signal counts them (and the scrape asking, on this one port).
  const metrics = (await get(`${s.url}/metrics`)).json as unknown as string;
  expect(Number(/^clinops_inference_requests_in_flight\{model="sepsis"\} (\d+)$/m.exec(metrics)?.[1])).toBe(51);
  expect(metrics).toMatch(/^clinops_jobs_waiting\{model="sepsis"\} 0$/m);
  const code = s.stop('SIGTERM');
  const results = await Promise.allSettled(inflight);
  const answered = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ status: number; json: any }>).value); // eslint-disable-line @typescript-eslint/no-explicit-any
  // Every request that reached the server before SIGTERM was answered, and correctly.
  expect(answered.length).toBe(50);
  answered.forEach((r, i) => {
    expect(r.status).toBe(200);
    expect(r.json.predictions[0].probabilities.Sepsis).toBeCloseTo(mlpForward(mlpWeights(), xs[i]!)[1]!, 6);
  });
  expect(await code).toBe(0);
  expect(s.logs.some((l) => l.includes('"msg":"draining"'))).toBe(true);
});

it('with a drain delay, keeps serving after SIGTERM while readiness fails, then exits 0', async () => {
  const s = await serve({ args: ['--drain-delay', '1500'] });
  const stopped = Date.now();
  const code = s.stop('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  expect((await get(`${s.url}/health/ready`)).status).toBe(503);
  const late = await post(`${s.url}/v1/models/sepsis/predict`, { instances: [x(3)] });
  expect(late.status).toBe(200);
  expect(late.headers.get('connection')).toBe('close');
  expect(await code).toBe(0);
  expect(Date.now() - stopped).toBeGreaterThanOrEqual(1500);
});
