// Shadow benchmark (make bench): what copying every prediction to a candidate version costs the
// patient-facing answer. The sepsis MLP served by `clinops serve`, loaded at c=1 and c=32 with shadow
// off, then with a second `clinops serve` (the candidate) as its shadow target — side by side in one
// run, on the same loopback and cores. On this 2-core machine the candidate's work competes for the
// same CPU as the serving server; in a cluster it runs in a pod of its own. So a third run puts a stub
// candidate (answers at once, no model) behind the copies: what the mirroring itself costs the server.
//   node dist/bench/server/shadow.js [--requests 3000] [--seconds 15]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../hack/cluster/controlplane.js';
import { mlpGraph, mlpInputs, mlpWeights, writeModel } from '../../test/models/generate.js';
import { fmt, load, poster, type Stats, startOurs, stopProc, target } from './load.js';
import { resultsDir } from '../results-dir.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '3000' }, seconds: { type: 'string', default: '15' } } });
const limits = { requests: Number(values.requests), ms: Number(values.seconds) * 1000 };
const LEVELS = [1, 32];
const MONITORING_KEY = 'shadow-bench-monitoring-key-0123456789';

/** Predictions a level sent: its measured requests and load()'s warm-up (max(c, 20) requests), all copied or dropped. */
const sentAt = (c: number, stats: Record<number, Stats>) => stats[c]!.requests + Math.max(c, 20);

interface Report { sent: number; dropped: number; failed: number; compared: number; agreed: number }

async function main(): Promise<void> {
  const results = resultsDir();
  const model = writeModel(join(repoRoot, '.clinops', 'models'), 'mlp.onnx', mlpGraph(mlpWeights()));
  const body = JSON.stringify({ instances: mlpInputs(5, 3) });
  const flags = ['--model', model.path, '--name', 'sepsis', '--model-version', '1.0.0', '--sha256', model.sha256, '--labels', 'no_sepsis,sepsis'];
  console.log(`shadow benchmark — sepsis MLP, 3 rows of JSON per request; up to ${limits.requests} requests or ${limits.ms / 1000} s per level; loopback\n`);
  console.log('                                   p50     p95     p99        throughput');
  // Shadow control and mirrored copies take the monitoring key alone.
  const keyFile = join(mkdtempSync(join(tmpdir(), 'clinops-shadow-bench-')), 'monitoring-key');
  writeFileSync(keyFile, MONITORING_KEY);
  const serving = await startOurs([...flags, '--monitoring-key-file', keyFile]);
  const candidate = await startOurs([...flags, '--monitoring-key-file', keyFile]);
  // The stub: reads the copy, answers three labels.
  const stub = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = '{"predictions":[{"label":"sepsis","confidence":0.7},{"label":"sepsis","confidence":0.7},{"label":"sepsis","confidence":0.7}]}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  const stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  const off: Record<number, Stats> = {};
  const on: Record<number, Stats> = {};
  const onStub: Record<number, Stats> = {};
  const reports: Record<string, Report> = {};
  const shadow = async (method: 'POST' | 'GET' | 'DELETE', b?: object): Promise<Report> => {
    const res = await fetch(`${serving.url}/v1/monitoring/shadow`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${MONITORING_KEY}` },
      ...(b ? { body: JSON.stringify(b) } : {}) });
    if (!res.ok) throw new Error(`shadow ${method} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Report;
  };
  try {
    const send = poster(`${serving.url}/v1/models/sepsis/predict`, body);
    for (const c of LEVELS) {
      off[c] = await load(c, send, limits);
      console.log(`shadow off, c=${String(c).padEnd(2)}                 ${fmt(off[c]!)}`);
    }
    const runs: Array<[string, string, Record<number, Stats>]> = [['stub candidate', stubUrl, onStub], ['real candidate', candidate.url, on]];
    for (const [what, url, into] of runs) {
      for (const c of LEVELS) {
        // A fresh target per run (a new sha256 starts the counts afresh).
        await shadow('POST', { sha256: `${what === 'stub candidate' ? 'a' : 'b'}${String(c).padStart(63, '0')}`, urls: [url], token: MONITORING_KEY, ttlSeconds: 3600 });
        into[c] = await load(c, send, limits);
        await new Promise((r) => setTimeout(r, 500)); // the last copies come back
        const r = (reports[`${what} c=${c}`] = await shadow('GET'));
        console.log(`shadow on, ${what}, c=${String(c).padEnd(2)}  ${fmt(into[c]!)}   copied ${r.sent} of ${sentAt(c, into)} (${r.dropped} dropped, ${r.failed} failed)`);
      }
    }
    await shadow('DELETE');
  } finally {
    await Promise.all([stopProc(serving.proc), stopProc(candidate.proc)]);
    stub.close();
  }
  const ratios = {
    stubP50OnVsOffAtC1: onStub[1]!.p50 / off[1]!.p50,
    stubThroughputOnVsOffAtC32: onStub[32]!.perSecond / off[32]!.perSecond,
    stubCopiedAtC1: reports['stub candidate c=1']!.sent / sentAt(1, onStub),
    p50OnVsOffAtC1: on[1]!.p50 / off[1]!.p50,
    throughputOnVsOffAtC32: on[32]!.perSecond / off[32]!.perSecond,
    copiedAtC1: reports['real candidate c=1']!.sent / sentAt(1, on),
    copiedAtC32: reports['real candidate c=32']!.sent / sentAt(32, on),
  };
  writeFileSync(join(results, 'shadow.json'), JSON.stringify({ model: 'sepsis MLP (8→16→2)', off, onStub, on, reports, ratios }, null, 2) + '\n');
  console.log(`
ratios                                            value   target
${target('stub candidate: on / off p50, c=1', ratios.stubP50OnVsOffAtC1, '≤', 1.2)}
${target('stub candidate: on / off throughput, c=32', ratios.stubThroughputOnVsOffAtC32, '≥', 0.8)}
${target('stub candidate: share copied, c=1', ratios.stubCopiedAtC1, '≥', 0.99)}
(a real candidate on the same 2 cores: p50 on/off at c=1 ${ratios.p50OnVsOffAtC1.toFixed(2)}, throughput on/off at c=32 ${ratios.throughputOnVsOffAtC32.toFixed(2)},
 share copied ${ratios.copiedAtC1.toFixed(2)} at c=1 and ${ratios.copiedAtC32.toFixed(2)} at c=32: copies beyond 8 in flight are dropped, not queued)
(results in ${results}/shadow.json)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
