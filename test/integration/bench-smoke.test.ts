// Every benchmark of `make bench` in a short smoke run, so none rots unseen: each is run as `make bench`
// runs it, with the smallest load that still exercises all of its parts, its results written to a
// directory of this test's own. A run passes when it exits 0 and its results hold successful answers
// (no errors: a benchmark counts only successful answers) and the figures it reports. Speed is judged
// by `make bench`, never here. The real-node benchmark runs beside the real-node tests (bench-node.test.ts).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { runBenchInto } from './bench-run.js';

jest.setTimeout(600_000);

const results = mkdtempSync(join(tmpdir(), 'clinops-bench-smoke-'));

const runBench = (script: string, args: string[]) => runBenchInto(results, script, args);

/** Every `errors` count in a results file, and every `requests` count: none of the first, some of the second. */
function answers(file: string): { errors: number[]; requests: number[] } {
  const found = { errors: [] as number[], requests: [] as number[] };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'errors' && typeof x === 'number') found.errors.push(x);
        else if (k === 'requests' && typeof x === 'number') found.requests.push(x);
        else walk(x);
      }
    }
  };
  walk(JSON.parse(readFileSync(join(results, file), 'utf8')));
  return found;
}

const served = (file: string) => {
  const a = answers(file);
  expect(a.errors.filter((e) => e > 0)).toEqual([]);
  expect(a.requests.length).toBeGreaterThan(0);
  expect(a.requests.every((n) => n > 0)).toBe(true);
};

it('server: raw onnxruntime, ours unbatched and batched, the FastAPI baseline', async () => {
  await runBench('server/main.js', ['--requests', '12', '--seconds', '2']);
  served('server.json');
});

it('tabular: ours and the FastAPI baseline on the sepsis MLP', async () => {
  await runBench('server/tabular.js', ['--requests', '100', '--seconds', '2']);
  served('tabular.json');
});

it('shadow: copying every prediction to a candidate, on and off', async () => {
  await runBench('server/shadow.js', ['--requests', '100', '--seconds', '2']);
  served('shadow.json');
});

it('jobs: asynchronous jobs beside synchronous predictions', async () => {
  await runBench('server/jobs.js', ['--seconds', '2']);
  const r = JSON.parse(readFileSync(join(results, 'jobs.json'), 'utf8'));
  for (const k of ['syncAlone', 'jobsAlone', 'syncBeside', 'jobsBeside']) {
    expect([k, r[k].done > 0, r[k].lost, r[k].refused]).toEqual([k, true, 0, 0]);
  }
});

it('dicom: our decoding against pydicom + numpy', async () => {
  await runBench('server/dicom.js', ['--runs', '2']);
  const r = JSON.parse(readFileSync(join(results, 'dicom.json'), 'utf8'));
  expect(Object.keys(r.rows)).toEqual(['xray-explicit.dcm', 'xray-deflated.dcm', 'xray-rle.dcm']);
  for (const row of Object.values(r.rows) as Array<{ oursMs: number; pydicomMs: number }>) expect(row.oursMs > 0 && row.pydicomMs > 0).toBe(true);
});

it('statistics: KS and PSI against scipy', async () => {
  await runBench('statistics/main.js', ['--sizes', '20000,200000']);
  const r = JSON.parse(readFileSync(join(results, 'statistics.json'), 'utf8'));
  expect(r.rows.map((x: { n: number }) => x.n)).toEqual([20000, 200000]);
  for (const row of r.rows) expect(Math.abs(row.pValue - row.scipyPValue)).toBeLessThan(1e-6 + 1e-3 * row.scipyPValue);
});

it('pacs: studies through Orthanc and back as SRs, beside a direct /predict', async () => {
  await runBench('server/pacs.js', ['--studies', '3', '--single', '2']);
  served('pacs.json');
  const r = JSON.parse(readFileSync(join(results, 'pacs.json'), 'utf8'));
  expect(r.throughput).toMatchObject({ requests: 3, studies: 3 });
  expect(r.latency.pacsP50).toBeGreaterThan(0);
  expect(r.latency.directP50).toBeGreaterThan(0);
});

it('peers: ours, MLServer and FastAPI over OIP v2 JSON, the tiny MLP and the CNN at c=1 and c=32', async () => {
  await runBench('server/peers.js', ['--requests', '60', '--seconds', '2', '--rounds', '1']);
  const r = JSON.parse(readFileSync(join(results, 'peers.json'), 'utf8'));
  expect(Object.keys(r.results)).toEqual(['tiny MLP', 'CNN']);
  for (const m of Object.values(r.results) as Array<Record<string, unknown>>) expect(Object.keys(m)).toEqual(['ours', 'MLServer', 'FastAPI']);
  expect(r.ratios['tiny MLP, c=1, ours / MLServer, p99']).toBeGreaterThan(0);
  served('peers.json');
});

it('side by side: this server against a base (itself, in a smoke run)', async () => {
  await runBench('server/ab.js', ['--requests', '60', '--seconds', '2']);
  const r = JSON.parse(readFileSync(join(results, 'server-ab.json'), 'utf8'));
  expect(Object.keys(r.cases)).toEqual(['CNN, a PNG upload, c=1', 'tiny MLP, JSON, c=1', 'tiny MLP, JSON, c=32']);
  for (const c of Object.values(r.cases) as Array<{ throughputRatio: number }>) expect(c.throughputRatio).toBeGreaterThan(0);
  served('server-ab.json');
});

it('operator: against kube-controller-manager, cold and on resync', async () => {
  await runBench('operator/main.js', ['--count', '20']);
  const r = JSON.parse(readFileSync(join(results, 'operator.json'), 'utf8'));
  expect(r.writesPerModelCold).toBeGreaterThan(0);
  expect(r.writesPerModelResync).toBe(0);
  // The floor made the same five writes a model (Secret, Deployment, Service, status, Event).
  expect(r.floor.writesPerModel).toBe(5);
  // A pass's own status write queues no pass for its watch echo: about two passes a new model, not three.
  const passes = Object.values(r.reconcilePassesCold as Record<string, number>).reduce((a, b) => a + b, 0);
  expect(passes / r.count).toBeLessThan(2.8);
  expect(r.floorRatio).toBeGreaterThan(0);
});

it('drift at scale: every model checked on schedule from its double-served window, CPU, lag and memory reported', async () => {
  await runBench('operator/drift-scale.js', ['--count', '10', '--samples', '2000', '--interval', '10s', '--checks', '2']);
  const r = JSON.parse(readFileSync(join(results, 'drift-scale.json'), 'utf8'));
  // Failures name the model, its reads and its status's verdict, so a failed run says why.
  expect({ errors: r.errors, failures: r.failures }).toEqual({ errors: 0, failures: [] });
  // Every model read at least three times (its first check and two more), each read a window of pages.
  expect(r.checks).toBeGreaterThanOrEqual(30);
  expect(r.requests).toBeGreaterThanOrEqual(r.checks);
  expect(r.lagMs.checks).toBeGreaterThanOrEqual(20);
  expect(r.cpuCores.mean).toBeGreaterThan(0);
  expect(r.memory.endMiB).toBeGreaterThan(0);
});
