// A benchmark double, not the product: it answers GET /m/NAME/v1/monitoring/window as N busy replicas
// would — each model's ring takes SAMPLES predictions per INTERVAL, paged as the server pages them — so
// the drift-at-scale benchmark measures the operator's checks without running a thousand servers.
// Confidences come from one seeded distribution (the reference's): the checks find no drift, and do
// all of a check's work. GET /stats: each model's window reads (the first page of each read), for
// the benchmark's lag figures.
//   node dist/bench/operator/window-double.js --samples 10000 --interval-ms 300000
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { confidenceOf } from './window-distribution.js';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '10000' }, 'interval-ms': { type: 'string', default: '300000' } } });
const SAMPLES = Number(values.samples);
const INTERVAL_MS = Number(values['interval-ms']);
const CAPACITY = SAMPLES;
const EPOCH = new Date().toISOString();


interface Model { reads: number[]; lastAt: number; requests: number }
/** Every ring fills from the double's start, as replicas serving all along would. */
const T0 = Date.now();
const models = new Map<string, Model>();

function page(after: number, limit: number): string {
  const now = Date.now();
  const seq = Math.floor(((now - T0) * SAMPLES) / INTERVAL_MS);
  const first = Math.max(after + 1, seq - CAPACITY + 1, 1);
  const last = Math.min(seq, first + limit - 1);
  const parts: string[] = [];
  const time = new Date(now).toISOString();
  for (let s = first; s <= last; s++) {
    const c = confidenceOf(s);
    const label = s % 2 === 0 ? 'Normal' : 'Pneumonia';
    const probabilities = label === 'Normal' ? [c, 1 - c] : [1 - c, c];
    parts.push(`{"seq":${s},"time":"${time}","id":"p-${s}","confidence":${c},"label":"${label}","probabilities":[${probabilities[0]},${probabilities[1]}],"inputMean":0.5,"inputStd":0.2}`);
  }
  return `{"model":{"name":"m","version":"1.0.0"},"epoch":"${EPOCH}","seq":${seq},"samples":[${parts.join(',')}],"dropped":${after > 0 && after < seq - CAPACITY},"capacity":${CAPACITY}}`;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(Object.fromEntries([...models].map(([k, m]) => [k, { reads: m.reads, requests: m.requests }]))));
    return;
  }
  const m = /^\/m\/([^/]+)\/v1\/monitoring\/window$/.exec(url.pathname);
  if (!m) {
    res.statusCode = 404;
    res.end('{"error":"not a window"}');
    return;
  }
  const name = m[1]!;
  let model = models.get(name);
  const now = Date.now();
  if (!model) models.set(name, (model = { reads: [], lastAt: 0, requests: 0 }));
  // Pages of one read follow each other within a second; a request after a quiet spell starts a read.
  if (now - model.lastAt > 1000) model.reads.push(now);
  model.lastAt = now;
  model.requests++;
  const after = Number(url.searchParams.get('after') ?? 0);
  const limit = Math.min(Number(url.searchParams.get('limit') ?? 2000), 2000);
  res.setHeader('content-type', 'application/json');
  res.end(page(after, limit));
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
