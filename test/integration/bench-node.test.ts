// The real-node benchmark of `make bench` in a short smoke run (see bench-smoke.test.ts): a pod from
// our image on the real node, answered through its Service and on loopback. It starts a control plane
// with a real node of its own, so it runs beside the real-node tests, in their jest run.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { runBenchInto } from './bench-run.js';

jest.setTimeout(600_000);

it('node: a pod through its Service against the same server on loopback', async () => {
  const results = mkdtempSync(join(tmpdir(), 'clinops-bench-node-'));
  await runBenchInto(results, 'node/main.js', ['--requests', '50']);
  const r = JSON.parse(readFileSync(join(results, 'node.json'), 'utf8'));
  // Two pods became ready, and every request (each one a 200, or the benchmark fails) was answered both ways.
  expect(r.podReadyMs).toHaveLength(2);
  expect([r.predictThroughClusterIP.requests, r.predictOnLoopback.requests]).toEqual([50, 50]);
  expect(r.predictThroughClusterIP.p50 > 0 && r.predictOnLoopback.p50 > 0).toBe(true);
});
