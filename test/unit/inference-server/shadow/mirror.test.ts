// The shadow mirror against a stand-in candidate on loopback: copies go out after the answer, at most
// maxInFlight at a time (the rest dropped and counted), are compared, and stop when the target lapses.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServerError } from '../../../../inference-server/errors.js';
import type { Tensor } from '../../../../inference-server/model/signature.js';
import { ShadowMirror } from '../../../../inference-server/shadow/mirror.js';

const SHA = 'c'.repeat(64);
let server: Server;
let url: string;
let answer: (req: IncomingMessage, body: Buffer) => { status: number; json: unknown } | Promise<{ status: number; json: unknown }>;
const received: Array<{ headers: IncomingMessage['headers']; body: Buffer }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      received.push({ headers: req.headers, body });
      const a = await answer(req, body);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  received.length = 0;
  answer = () => ({ status: 200, json: { predictions: [{ label: 'Sepsis', confidence: 0.7 }] } });
});

const feed = (): Tensor => ({ name: 'input', datatype: 'FP32', shape: [1, 3], data: new Float32Array([1, 2, 3]) });
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
};

it('copies the input after the answer, as the binary tensor extension with the bearer, and compares', async () => {
  const m = new ShadowMirror();
  expect(m.capture([feed()])).toBeUndefined(); // no target: nothing copied
  m.set({ sha256: SHA, urls: [url], token: 'monitoring-key', ttlSeconds: 60 });
  const c = m.capture([feed()])!;
  c.send('req-1', [{ label: 'Sepsis', confidence: 0.9 }]);
  const d = m.capture([feed()])!;
  d.send('req-2', [{ label: 'No sepsis', confidence: 0.6 }]);
  await until(() => m.report().compared === 2);
  const r = m.report();
  expect(r).toMatchObject({ sha256: SHA, active: true, sent: 2, compared: 2, agreed: 1, failed: 0, labels: { serving: { Sepsis: 1, 'No sepsis': 1 }, candidate: { Sepsis: 2 } }, confidences: [0.7, 0.7] });
  expect(r.confidenceDifferenceSum).toBeCloseTo(0.3, 9);
  const first = received[0]!;
  expect(first.headers.authorization).toBe('Bearer monitoring-key');
  const len = Number(first.headers['inference-header-content-length']);
  expect(JSON.parse(first.body.subarray(0, len).toString())).toEqual({ id: 'req-1', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } }] });
  expect([...new Float32Array(first.body.buffer.slice(first.body.byteOffset + len, first.body.byteOffset + len + 12))]).toEqual([1, 2, 3]);
});

it('never holds up the answer: with maxInFlight copies waiting on a slow candidate, the next is dropped and counted', async () => {
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  answer = async () => {
    await slow;
    return { status: 200, json: { predictions: [{ label: 'Sepsis', confidence: 0.7 }] } };
  };
  const outcomes: string[] = [];
  const m = new ShadowMirror({ maxInFlight: 2, onOutcome: (o) => outcomes.push(o) });
  m.set({ sha256: SHA, urls: [url] });
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) m.capture([feed()])?.send(`r${i}`, [{ label: 'Sepsis', confidence: 0.7 }]);
  expect(performance.now() - t0).toBeLessThan(50);
  // Nothing goes out in the turn that answers; the copies leave on the next.
  expect(m.report()).toMatchObject({ sent: 0, dropped: 3 });
  await new Promise((r) => setImmediate(r));
  expect(m.report()).toMatchObject({ sent: 2, dropped: 3 });
  release();
  await until(() => m.report().compared === 2);
  // Room again once they came back.
  m.capture([feed()])!.send('r5', [{ label: 'Sepsis', confidence: 0.7 }]);
  await until(() => m.report().compared === 3);
  expect(outcomes.filter((o) => o === 'dropped')).toHaveLength(3);
});

it('a failed prediction gives its place back; a candidate that errs is counted as failed, with why', async () => {
  answer = () => ({ status: 503, json: { error: 'not ready' } });
  const m = new ShadowMirror({ maxInFlight: 1 });
  m.set({ sha256: SHA, urls: [url] });
  m.capture([feed()])!.drop();
  const c = m.capture([feed()]);
  expect(c).toBeDefined();
  c!.send('r', [{ label: 'Sepsis', confidence: 0.7 }]);
  await until(() => m.report().failed === 1);
  expect(m.report().lastError).toMatch(/^HTTP 503/);
});

it('lapses unless renewed; a new candidate starts its counts afresh; bad targets are 400s naming the field', async () => {
  let now = 1_000_000;
  const m = new ShadowMirror({ clock: () => now });
  m.set({ sha256: SHA, urls: [url], ttlSeconds: 5 });
  m.capture([feed()])!.send('r', [{ label: 'Sepsis', confidence: 0.7 }]);
  await until(() => m.report().compared === 1);
  now += 6000;
  expect(m.report().active).toBe(false);
  expect(m.capture([feed()])).toBeUndefined();
  m.set({ sha256: SHA, urls: [url] });
  expect(m.report()).toMatchObject({ active: true, compared: 1 });
  m.set({ sha256: 'd'.repeat(64), urls: [url] });
  expect(m.report()).toMatchObject({ compared: 0, sha256: 'd'.repeat(64) });
  expect(m.clear().active).toBe(false);
  const field = (body: unknown) => {
    try {
      m.set(body);
    } catch (e) {
      return (e as ServerError).toJSON();
    }
    return undefined;
  };
  expect(field({ sha256: 'x', urls: [] })).toMatchObject({ code: 'BAD_REQUEST', field: 'sha256' });
  expect(field({ sha256: SHA, urls: ['ftp://x'] })).toMatchObject({ field: 'urls[0]' });
  expect(field({ sha256: SHA, urls: [], ttlSeconds: 0 })).toMatchObject({ field: 'ttlSeconds' });
  expect(field({ sha256: SHA, urls: [], extra: 1 })).toMatchObject({ code: 'UNKNOWN_FIELD', field: 'extra' });
});
