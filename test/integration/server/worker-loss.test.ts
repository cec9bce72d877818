// A worker thread that exits after start-up (here: terminated) is not a silent outage: while no worker
// lives the pool says so (readiness fails), a new worker takes its place (a bounded number of times),
// requests wait for it within their timeout, and a drain never waits past its deadline.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { jest } from '@jest/globals';
import type { Scheduler as SchedulerType } from '../../../inference-server/model/scheduler.js';
import type { Tensor } from '../../../inference-server/model/signature.js';
import { mlpInputs } from '../../models/generate.js';
import { testModels } from './support.js';
import { until } from '../../../hack/cluster/wait.js';

// The compiled scheduler (make test builds it first): its workers are the compiled worker.js beside it.
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const { Scheduler } = (await import(join(root, 'dist', 'inference-server', 'model', 'scheduler.js'))) as typeof import('../../../inference-server/model/scheduler.js');
type Scheduler = SchedulerType;

jest.setTimeout(60_000);

const feeds = (n = 1): Tensor[] => [{ name: 'input', datatype: 'FP32', shape: [n, 8], data: Float32Array.from(mlpInputs(3, n).flat()) }];
const workersOf = (s: Scheduler) => (s as unknown as { slots: Array<{ worker: Worker }> }).slots.map((x) => x.worker);

let s: Scheduler;
const events: string[] = [];

beforeAll(async () => {
  s = await Scheduler.start({
    modelPath: testModels().mlp!.path, executionProvider: 'cpu', intraOpThreads: 1, allowSpinning: false,
    workers: 2, maxBatchSize: 1, maxQueueDelayMs: 0, maxQueue: 64, timeoutMs: 10_000,
    onPoolEvent: (msg) => events.push(msg),
  });
});
afterAll(() => s.close());

it('replaces a worker that died, and serves meanwhile on the others', async () => {
  expect(s.liveWorkers).toBe(2);
  // Killed while idle: terminating a thread inside onnxruntime's native run aborts the whole process
  // (a Napi::Error in the torn-down environment), which is no test of ours.
  await workersOf(s)[0]!.terminate();
  expect(s.liveWorkers).toBe(1);
  expect((await s.infer(feeds(2))).probabilities?.dims).toEqual([2, 2]);
  await until('a worker respawned', () => s.liveWorkers === 2);
  expect(events).toEqual(['worker lost; respawning', 'worker respawned']);
  const out = await Promise.all([s.infer(feeds(3)), s.infer(feeds(1))]);
  expect(out.map((o) => o.probabilities?.dims)).toEqual([[3, 2], [1, 2]]);
});

it('has no live worker while all are gone, queues meanwhile, and serves again once replaced', async () => {
  const all = workersOf(s);
  await Promise.all(all.map((w) => w.terminate()));
  expect(s.liveWorkers).toBe(0);
  // Accepted while none lives: served by a respawned worker, well within its timeout.
  const waiting = s.infer(feeds());
  await until('workers respawned', () => s.liveWorkers === 2);
  expect((await waiting).probabilities?.dims).toEqual([1, 2]);
});

it('stops respawning past its bound; a drain then gives up at its deadline and refuses what waits', async () => {
  const own: string[] = [];
  const one = await Scheduler.start({
    modelPath: testModels().mlp!.path, executionProvider: 'cpu', intraOpThreads: 1, allowSpinning: false,
    workers: 1, maxBatchSize: 1, maxQueueDelayMs: 0, maxQueue: 64, timeoutMs: 10_000, maxRespawnsPerMinute: 0,
    onPoolEvent: (msg) => own.push(msg),
  });
  try {
    await workersOf(one)[0]!.terminate();
    expect(one.liveWorkers).toBe(0);
    expect(own).toEqual(['worker lost; not respawned (too many this minute)']);
    const waiting = one.infer(feeds()).then(() => 'answered', (e: { code?: string }) => e.code);
    const t0 = Date.now();
    await one.drain(300);
    expect(await waiting).toBe('SHUTTING_DOWN');
    expect(Date.now() - t0).toBeLessThan(2_000);
  } finally {
    await one.close();
  }
});
