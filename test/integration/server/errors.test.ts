// Someone else's malformed requests get clean 4xx answers in one JSON shape, naming the field —
// never a 5xx, never a stack trace. The last test throws thousands of generated bodies at it.
import { jest } from '@jest/globals';
import fc from 'fast-check';
import { mlpForward, mlpWeights } from '../../models/generate.js';
import { get, post, type Served, serve } from './support.js';

jest.setTimeout(120_000);

let s: Served;
beforeAll(async () => {
  s = await serve({ args: ['--body-limit', '64kb'] });
});
afterAll(async () => {
  await s?.stop();
});

const infer = (inputs: unknown) => post(`${s.url}/v2/models/sepsis/infer`, { inputs });
const row = [1, 2, 3, 4, 5, 6, 7, 8];

it.each([
  ['a wrong input name', [{ name: 'pixels', shape: [1, 8], datatype: 'FP32', data: row }], 'INVALID_INPUT_NAME', 'inputs[0].name', /no input named "pixels"; this model takes "input"/],
  ['a wrong datatype', [{ name: 'input', shape: [1, 8], datatype: 'INT64', data: row }], 'INVALID_DATATYPE', 'inputs[0].datatype', /is FP32, got "INT64"/],
  ['a wrong rank', [{ name: 'input', shape: [8], datatype: 'FP32', data: row }], 'INVALID_SHAPE', 'inputs[0].shape', /needs 2 dimensions/],
  ['a wrong feature count', [{ name: 'input', shape: [1, 9], datatype: 'FP32', data: [...row, 9] }], 'INVALID_SHAPE', 'inputs[0].shape', /dimension 1 must be 8/],
  ['a zero batch', [{ name: 'input', shape: [0, 8], datatype: 'FP32', data: [] }], 'INVALID_SHAPE', 'inputs[0].shape', /positive whole numbers/],
  ['too few values', [{ name: 'input', shape: [2, 8], datatype: 'FP32', data: row }], 'INVALID_DATA', 'inputs[0].data', /needs 16 values, got 8/],
  ['a string value', [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: [...row.slice(1), 'NaN'] }], 'INVALID_DATA', 'inputs[0].data', /must be a number/],
  ['a missing data field', [{ name: 'input', shape: [1, 8], datatype: 'FP32' }], 'MISSING_FIELD', 'inputs[0].data', /has no data/],
  ['an unknown tensor field', [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: row, extra: 1 }], 'UNKNOWN_FIELD', 'inputs[0].extra', /unknown field "extra"/],
  ['an empty input list', [], 'MISSING_FIELD', 'inputs', /non-empty array/],
])('rejects %s with 400', async (_what, inputs, code, field, message) => {
  const r = await infer(inputs);
  expect(r.status).toBe(400);
  expect(r.json).toEqual({ error: expect.stringMatching(message), code, field });
});

it('rejects numbers that overflow to Infinity', async () => {
  const r = await post(`${s.url}/v2/models/sepsis/infer`, `{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,1e999]}]}`);
  expect(r).toMatchObject({ status: 400, json: { code: 'NON_FINITE', field: 'inputs[0].data' } });
  const big = await infer([{ name: 'input', shape: [1, 8], datatype: 'FP32', data: [...row.slice(1), 1e300] }]);
  expect(big).toMatchObject({ status: 400, json: { code: 'NON_FINITE' } });
});

it('rejects invalid JSON, a wrong content type and unknown top-level fields', async () => {
  expect(await post(`${s.url}/v1/models/sepsis/predict`, '{"instances": [')).toMatchObject({ status: 400, json: { code: 'INVALID_JSON', field: 'body' } });
  expect(await post(`${s.url}/v1/models/sepsis/predict`, 'instances=1', { 'content-type': 'text/plain' })).toMatchObject({ status: 415, json: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  expect(await post(`${s.url}/v1/models/sepsis/predict`, { instances: [row], extra: true })).toMatchObject({ status: 400, json: { code: 'UNKNOWN_FIELD', field: 'extra' } });
  expect(await post(`${s.url}/v1/models/sepsis/predict`, {})).toMatchObject({ status: 400, json: { code: 'MISSING_FIELD', field: 'instances' } });
  expect(await post(`${s.url}/v1/models/sepsis/predict`, { instances: [[1, 2]] })).toMatchObject({ status: 400, json: { code: 'INVALID_DATA', field: 'instances[0]' } });
  expect(await post(`${s.url}/v1/models/sepsis/predict`, [row])).toMatchObject({ status: 400, json: { code: 'INVALID_JSON' } });
});

it('treats __proto__ and constructor keys as plain unknown fields', async () => {
  const r = await post(`${s.url}/v1/models/sepsis/predict`, '{"__proto__": {"polluted": true}, "instances": [[1,2,3,4,5,6,7,8]]}');
  expect(r).toMatchObject({ status: 400, json: { code: 'UNKNOWN_FIELD', field: '__proto__' } });
  const c = await post(`${s.url}/v2/models/sepsis/infer`, '{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8],"constructor":{"prototype":{}}}]}');
  expect(c).toMatchObject({ status: 400, json: { code: 'UNKNOWN_FIELD', field: 'inputs[0].constructor' } });
  expect((await post(`${s.url}/v1/models/sepsis/predict`, { instances: [row] })).status).toBe(200);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

it('answers 413 over the body limit, 404 for unknown models and routes, 405 for wrong methods', async () => {
  const huge = { instances: Array.from({ length: 10_000 }, () => row) };
  expect(await post(`${s.url}/v1/models/sepsis/predict`, huge)).toMatchObject({ status: 413, json: { code: 'PAYLOAD_TOO_LARGE', field: 'body' } });
  expect(await post(`${s.url}/v1/models/other/predict`, { instances: [row] })).toMatchObject({ status: 404, json: { code: 'MODEL_NOT_FOUND', field: 'model' } });
  expect(await get(`${s.url}/v2/models/sepsis/versions/9.9.9`)).toMatchObject({ status: 404, json: { code: 'MODEL_NOT_FOUND', field: 'version' } });
  expect(await get(`${s.url}/nope`)).toMatchObject({ status: 404, json: { code: 'NOT_FOUND' } });
  expect(await get(`${s.url}/v1/models/sepsis/predict`)).toMatchObject({ status: 405, json: { code: 'METHOD_NOT_ALLOWED' } });
});

it('never answers a generated request body with a 5xx or a body outside the error shape', async () => {
  const json = fc.jsonValue({ maxDepth: 4 });
  const tensor = fc.record({
    name: fc.oneof(fc.constant('input'), fc.string()),
    shape: fc.oneof(fc.constant([1, 8]), fc.array(fc.oneof(fc.integer({ min: -2, max: 10 }), fc.double()), { maxLength: 4 }), json),
    datatype: fc.oneof(fc.constantFrom('FP32', 'INT64', 'BOOL', 'FP16', 'BYTES'), json),
    data: fc.oneof(fc.array(fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string()), { maxLength: 20 }), json),
  }, { requiredKeys: [] });
  const bodies = fc.oneof(
    json,
    fc.record({ inputs: fc.oneof(fc.array(tensor, { maxLength: 3 }), json), id: json, outputs: json }, { requiredKeys: [] }),
    fc.record({ instances: fc.oneof(fc.array(fc.array(fc.oneof(fc.double(), fc.string(), fc.constant(null)), { maxLength: 10 }), { maxLength: 4 }), json) }, { requiredKeys: [] }),
  );
  await fc.assert(fc.asyncProperty(bodies, fc.constantFrom('/v2/models/sepsis/infer', '/v1/models/sepsis/predict', '/v1/feedback'), async (body, path) => {
    const r = await post(`${s.url}${path}`, JSON.stringify(body) ?? 'null');
    if (r.status >= 500) throw new Error(`${r.status} for ${JSON.stringify(body).slice(0, 200)}: ${JSON.stringify(r.json)}`);
    if (r.status >= 400) {
      expect(typeof r.json.error).toBe('string');
      expect(typeof r.json.code).toBe('string');
      expect(JSON.stringify(r.json)).not.toMatch(/\bat .+\.(js|ts):\d+/);
    }
  }), { numRuns: 400, seed: 42 });
});

it('checks binary tensors (the OIP binary extension) against their declared sizes', async () => {
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', parameters: { binary_data_size: 32 } }] }));
  const send = (body: Buffer, len: number) => fetch(`${s.url}/v2/models/sepsis/infer`, {
    method: 'POST', headers: { 'inference-header-content-length': String(len) }, body,
  }).then(async (r) => ({ status: r.status, json: await r.json() as any })); // eslint-disable-line @typescript-eslint/no-explicit-any
  const good = await send(Buffer.concat([header, Buffer.from(new Float32Array(row).buffer)]), header.length);
  expect(good.status).toBe(200);
  // The tensor is read in place when its bytes can be, and copied when not: the answer is the same —
  // with a header of any length (aligned or not), and with a chunked body (no Content-Length).
  const expected = mlpForward(mlpWeights(), row);
  for (const pad of [0, 1, 2, 3]) {
    const padded = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', parameters: { binary_data_size: 32 } }] }) + ' '.repeat(pad));
    const r = await send(Buffer.concat([padded, Buffer.from(new Float32Array(row).buffer)]), padded.length);
    r.json.outputs[0].data.forEach((v: number, k: number) => expect(v).toBeCloseTo(expected[k]!, 6));
  }
  const chunked = await fetch(`${s.url}/v2/models/sepsis/infer`, {
    method: 'POST', headers: { 'inference-header-content-length': String(header.length) }, duplex: 'half',
    body: new ReadableStream({ start(c) { c.enqueue(header); c.enqueue(new Uint8Array(new Float32Array(row).buffer)); c.close(); } }),
  } as RequestInit).then(async (r) => r.json() as any); // eslint-disable-line @typescript-eslint/no-explicit-any
  chunked.outputs[0].data.forEach((v: number, k: number) => expect(v).toBeCloseTo(expected[k]!, 6));
  expect(await send(Buffer.concat([header, Buffer.alloc(16)]), header.length)).toMatchObject({ status: 400, json: { code: 'INVALID_DATA', field: 'inputs[0].parameters.binary_data_size' } });
  expect(await send(Buffer.concat([header, Buffer.alloc(40)]), header.length)).toMatchObject({ status: 400, json: { code: 'INVALID_DATA', field: 'body' } });
  const nan = Buffer.from(new Float32Array([1, 2, 3, NaN, 5, 6, 7, 8]).buffer);
  expect(await send(Buffer.concat([header, nan]), header.length)).toMatchObject({ status: 400, json: { code: 'NON_FINITE' } });
  expect(await send(Buffer.concat([header, nan]), 9999)).toMatchObject({ status: 400, json: { field: 'inference-header-content-length' } });
});
