// Inline runs: a CPU model whose lone runs average under inlineBelowUs answers a request that finds the
// pool idle on the calling thread, the same answer a worker gives; a slow model, a busy pool or a
// setting of 0 keeps every run on the workers.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import type { Tensor } from '../../../inference-server/model/signature.js';
import { mlpForward, mlpInputs, mlpWeights } from '../../models/generate.js';
import { testModels } from './support.js';
import { until } from '../../../hack/cluster/wait.js';

// The compiled scheduler (make test builds it first): its workers are the compiled worker.js beside it.
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const { Scheduler } = (await import(join(root, 'dist', 'inference-server', 'model', 'scheduler.js'))) as typeof import('../../../inference-server/model/scheduler.js');

jest.setTimeout(60_000);

const rows = (n: number, seed = 3) => mlpInputs(seed, n);
const feeds = (xs: number[][]): Tensor[] => [{ name: 'input', datatype: 'FP32', shape: [xs.length, 8], data: Float32Array.from(xs.flat()) }];
const options = (inlineBelowUs: number, model = testModels().mlp!.path) => ({
  modelPath: model, executionProvider: 'cpu' as const, intraOpThreads: 1, allowSpinning: false,
  workers: 1, maxBatchSize: 8, maxQueueDelayMs: 2, maxQueue: 64, timeoutMs: 10_000, inlineBelowUs,
});

it('a cheap model moves lone requests onto the calling thread, with the workers\' answers', async () => {
  const s = await Scheduler.start(options(50_000));
  try {
    // Through the worker until its runs have been timed and the inline session is loaded.
    await until('inline runs', async () => {
      await s.infer(feeds(rows(1)));
      return s.inlineRuns > 0;
    }, 20_000);
    const xs = rows(5, 11);
    const out = await s.infer(feeds(xs));
    expect(out.probabilities!.dims).toEqual([5, 2]);
    xs.forEach((x, i) => expect(out.probabilities!.data[i * 2 + 1]).toBeCloseTo(mlpForward(mlpWeights(), x)[1]!, 6));
    // Concurrent requests: the first may run inline, the rest go to the worker as before; all answered.
    const before = s.inlineRuns;
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => s.infer(feeds(rows(1, 100 + i)))));
    many.forEach((o, i) => expect(o.probabilities!.data[1]).toBeCloseTo(mlpForward(mlpWeights(), rows(1, 100 + i)[0]!)[1]!, 6));
    expect(s.inlineRuns - before).toBeLessThan(20);
  } finally {
    await s.close();
  }
});

it('never with inlineBelowUs 0, nor for a model slower than the bound', async () => {
  const off = await Scheduler.start(options(0));
  try {
    for (let i = 0; i < 30; i++) await off.infer(feeds(rows(1)));
    expect(off.inlineRuns).toBe(0);
  } finally {
    await off.close();
  }
  // A 1 µs bound: no model's run through a worker is that fast.
  const slow = await Scheduler.start(options(1));
  try {
    for (let i = 0; i < 30; i++) await slow.infer(feeds(rows(1)));
    expect(slow.inlineRuns).toBe(0);
  } finally {
    await slow.close();
  }
});
