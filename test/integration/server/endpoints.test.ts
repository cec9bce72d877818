// The inference server over real HTTP on loopback: every endpoint, answers checked against an
// independent computation of the model, and the monitoring window's sequence semantics.
import { jest } from '@jest/globals';
import { mlpForward, mlpWeights, rng } from '../../models/generate.js';
import { get, post, type Served, serve } from './support.js';

jest.setTimeout(60_000);

let s: Served;
beforeAll(async () => {
  s = await serve({ args: ['--window-size', '50', '--model-card', JSON.stringify({ intendedUse: 'Sepsis risk triage', owner: 'ICU AI team' })] });
});
afterAll(async () => {
  await s?.stop();
});

const W = mlpWeights();
const instance = (seed: number) => {
  const r = rng(seed);
  return Array.from({ length: 8 }, () => r() * 4 - 2);
};

describe('health', () => {
  it('answers the seeds\' /health, the Kubernetes probes and the OIP health endpoints', async () => {
    expect(await get(`${s.url}/health`)).toEqual({ status: 200, json: { status: 'healthy', modelLoaded: true, model: { name: 'sepsis', version: '1.0.0' } } });
    expect(await get(`${s.url}/health/live`)).toEqual({ status: 200, json: { live: true } });
    const open = { authentication: 'none', warning: 'serving without API keys (--allow-unauthenticated): anyone who can reach this port may predict' };
    expect(await get(`${s.url}/health/ready`)).toEqual({ status: 200, json: { ready: true, ...open, executionProvider: 'cpu', requestedExecutionProvider: 'cpu' } });
    expect(await get(`${s.url}/v2/health/live`)).toEqual({ status: 200, json: { live: true } });
    expect(await get(`${s.url}/v2/health/ready`)).toEqual({ status: 200, json: { ready: true, ...open } });
  });
});

describe('Open Inference Protocol v2', () => {
  it('describes the server and the model, with the signature read from the ONNX file', async () => {
    expect((await get(`${s.url}/v2`)).json).toMatchObject({ name: 'clinops', extensions: [] });
    expect((await get(`${s.url}/v2/models/sepsis`)).json).toEqual({
      name: 'sepsis', versions: ['1.0.0'], platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 8] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
    });
    expect((await get(`${s.url}/v2/models/sepsis/versions/1.0.0`)).status).toBe(200);
    expect(await get(`${s.url}/v2/models/sepsis/ready`)).toEqual({ status: 200, json: { name: 'sepsis', ready: true } });
  });

  it('infers a batch, matching the model computed independently', async () => {
    const xs = [instance(1), instance(2), instance(3)];
    const r = await post(`${s.url}/v2/models/sepsis/infer`, { id: 'req-1', inputs: [{ name: 'input', shape: [3, 8], datatype: 'FP32', data: xs.flat() }] });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ model_name: 'sepsis', model_version: '1.0.0', id: 'req-1' });
    const out = r.json.outputs[0];
    expect(out).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 2] });
    xs.forEach((x, i) => {
      const want = mlpForward(W, x);
      expect(out.data[i * 2]).toBeCloseTo(want[0]!, 6);
      expect(out.data[i * 2 + 1]).toBeCloseTo(want[1]!, 6);
    });
  });

  it('accepts nested row-major data and a requested output list', async () => {
    const xs = [instance(4), instance(5)];
    const r = await post(`${s.url}/v2/models/sepsis/infer`, { inputs: [{ name: 'input', shape: [2, 8], datatype: 'FP32', data: xs }], outputs: [{ name: 'probabilities' }] });
    expect(r.status).toBe(200);
    expect(r.json.outputs[0].data[0]).toBeCloseTo(mlpForward(W, xs[0]!)[0]!, 6);
  });
});

describe('POST /v1/models/{m}/predict', () => {
  it('labels each instance with its confidence and probabilities, with request id, model and timestamp', async () => {
    const xs = [instance(6), instance(7)];
    const r = await post(`${s.url}/v1/models/sepsis/predict`, { instances: xs });
    expect(r.status).toBe(200);
    expect(r.json.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get('x-request-id')).toBeTruthy();
    expect(r.json.model).toEqual({ name: 'sepsis', version: '1.0.0' });
    expect(Date.parse(r.json.timestamp)).not.toBeNaN();
    r.json.predictions.forEach((p: { id: string; label: string; confidence: number; probabilities: Record<string, number> }, i: number) => {
      const want = mlpForward(W, xs[i]!);
      const best = want[1]! > want[0]! ? 1 : 0;
      expect(p.id).toBe(`${r.json.requestId}.${i}`);
      expect(p.label).toBe(['No sepsis', 'Sepsis'][best]);
      expect(p.confidence).toBeCloseTo(want[best]!, 6);
      expect(p.probabilities['No sepsis']).toBeCloseTo(want[0]!, 6);
    });
  });
});

describe('model card and feedback', () => {
  it('serves the model card from the configuration', async () => {
    expect((await get(`${s.url}/v1/models/sepsis/card`)).json).toEqual({
      name: 'sepsis', version: '1.0.0', labels: ['No sepsis', 'Sepsis'], intendedUse: 'Sepsis risk triage', owner: 'ICU AI team',
    });
  });

  it('accepts ground truth for any prediction id (another replica may have made it), saying what it predicted when it made it', async () => {
    const p = (await post(`${s.url}/v1/models/sepsis/predict`, { instances: [instance(8)] })).json.predictions[0];
    const other = p.label === 'Sepsis' ? 'No sepsis' : 'Sepsis';
    expect(await post(`${s.url}/v1/feedback`, { predictionId: p.id, label: other })).toMatchObject({
      status: 202, json: { predictionId: p.id, label: other, predicted: p.label, correct: false },
    });
    expect(await post(`${s.url}/v1/feedback`, { predictionId: 'made-by-another-replica', label: 'Sepsis' })).toEqual(expect.objectContaining({
      status: 202, json: { predictionId: 'made-by-another-replica', label: 'Sepsis' },
    }));
    expect(await post(`${s.url}/v1/feedback`, { predictionId: p.id, label: 'Flu' })).toMatchObject({
      status: 400, json: { code: 'INVALID_DATA', field: 'label' },
    });
    expect(await post(`${s.url}/v1/feedback`, { predictionId: 'has spaces/and slashes', label: 'Sepsis' })).toMatchObject({
      status: 400, json: { code: 'INVALID_DATA', field: 'predictionId' },
    });
    expect(await post(`${s.url}/v1/feedback`, { label: 'Sepsis' })).toMatchObject({
      status: 400, json: { code: 'MISSING_FIELD', field: 'predictionId' },
    });
  });
});

describe('GET /v1/monitoring/window', () => {
  it('returns each sample once by sequence number, and says when samples were evicted', async () => {
    const first = (await get(`${s.url}/v1/monitoring/window`)).json;
    expect(first).toMatchObject({ model: { name: 'sepsis', version: '1.0.0' }, capacity: 50 });
    await post(`${s.url}/v1/models/sepsis/predict`, { instances: [instance(9), instance(10)] });
    const next = (await get(`${s.url}/v1/monitoring/window?after=${first.seq}`)).json;
    expect(next.samples.map((x: { seq: number }) => x.seq)).toEqual([first.seq + 1, first.seq + 2]);
    expect(next.dropped).toBe(false);
    const sample = next.samples[0];
    expect(Object.keys(sample).sort()).toEqual(['confidence', 'id', 'inputMean', 'inputStd', 'label', 'probabilities', 'seq', 'time']);
    expect(sample.probabilities).toHaveLength(2);
    expect(Math.max(...sample.probabilities)).toBe(sample.confidence);
    const x = instance(9);
    const mean = x.reduce((a, b) => a + b, 0) / 8;
    expect(sample.inputMean).toBeCloseTo(mean, 5);
    expect((await get(`${s.url}/v1/monitoring/window?after=${next.seq}`)).json.samples).toEqual([]);
    // Overflow the 50-sample ring: a reader that last saw `next.seq` learns it missed some.
    await post(`${s.url}/v1/models/sepsis/predict`, { instances: Array.from({ length: 60 }, (_, i) => instance(100 + i)) });
    const after = (await get(`${s.url}/v1/monitoring/window?after=${next.seq}`)).json;
    expect(after.dropped).toBe(true);
    expect(after.samples).toHaveLength(50);
    expect((await get(`${s.url}/v1/monitoring/window?after=${after.seq}&limit=5`)).json.samples).toHaveLength(0);
    expect((await get(`${s.url}/v1/monitoring/window?after=-1`)).json).toMatchObject({ code: 'BAD_REQUEST', field: 'after' });
  });
});

describe('GET /v1/monitoring/feedback', () => {
  it('lists every ground-truth report once: the prediction id and the true label, no input and no prediction', async () => {
    const before = (await get(`${s.url}/v1/monitoring/feedback`)).json;
    const preds = (await post(`${s.url}/v1/models/sepsis/predict`, { instances: [instance(21), instance(22)] })).json.predictions;
    await post(`${s.url}/v1/feedback`, { predictionId: preds[0].id, label: 'Sepsis' });
    await post(`${s.url}/v1/feedback`, { predictionId: preds[0].id, label: 'No sepsis' }); // a correction: the operator keeps the latest
    await post(`${s.url}/v1/feedback`, { predictionId: 'elsewhere-1', label: 'No sepsis' });
    const after = (await get(`${s.url}/v1/monitoring/feedback?after=${before.seq}`)).json;
    expect(after.samples).toEqual([
      { seq: before.seq + 1, time: expect.any(String), predictionId: preds[0].id, groundTruth: 'Sepsis' },
      { seq: before.seq + 2, time: expect.any(String), predictionId: preds[0].id, groundTruth: 'No sepsis' },
      { seq: before.seq + 3, time: expect.any(String), predictionId: 'elsewhere-1', groundTruth: 'No sepsis' },
    ]);
    expect((await get(`${s.url}/v1/monitoring/feedback?after=${after.seq}`)).json.samples).toEqual([]);
  });
});

describe('metrics', () => {
  it('exports request, latency, confidence and prediction metrics with units in their names', async () => {
    const text = (await get(`${s.url}/metrics`)).json as string;
    for (const name of ['clinops_inference_request_duration_seconds_bucket', 'clinops_inference_requests_total', 'clinops_prediction_confidence_bucket',
      'clinops_predictions_total', 'nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes']) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/clinops_inference_requests_total\{model="sepsis",route="\/v1\/models\/:model\/predict",code="200"\} \d+/);
  });
});

describe('concurrency', () => {
  it('gives each of 100 concurrent requests its own correct answer (micro-batched)', async () => {
    const xs = Array.from({ length: 100 }, (_, i) => instance(1000 + i));
    const rs = await Promise.all(xs.map((x) => post(`${s.url}/v1/models/sepsis/predict`, { instances: [x] })));
    rs.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.json.predictions[0].probabilities.Sepsis).toBeCloseTo(mlpForward(W, xs[i]!)[1]!, 6);
    });
  });
});
