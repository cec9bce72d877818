// The operator's window collector against real inference servers: every prediction counted once
// across reads and replicas, a restarted server read from its new start, overflow reported.
import { jest } from '@jest/globals';
import { WindowCollector } from '../../../operator/drift/window-collector.js';
import { post, type Served, serve } from './support.js';

jest.setTimeout(60_000);

const predict = (s: Served, n: number) =>
  post(`${s.url}/v1/models/sepsis/predict`, { instances: Array.from({ length: n }, (_, i) => Array.from({ length: 8 }, (_, j) => (i + j) / 10)) });

it('counts each prediction once across reads and replicas, and starts a restarted replica afresh', async () => {
  const a = await serve({ args: ['--window-size', '20'] });
  const b = await serve();
  try {
    const c = new WindowCollector();
    await predict(a, 3);
    await predict(b, 2);
    expect(await c.collect([a.url, b.url])).toEqual({ added: 5, dropped: false, errors: [] });
    expect(await c.collect([a.url, b.url])).toMatchObject({ added: 0 });
    await predict(a, 4);
    expect(await c.collect([a.url, b.url])).toMatchObject({ added: 4 });
    expect(c.peek()).toHaveLength(9);
    c.clear();
    expect(c.size).toBe(0);
    // 30 predictions into a ring of 20 between two reads: the overflow is reported.
    await predict(a, 30);
    expect(await c.collect([a.url])).toMatchObject({ added: 20, dropped: true });
    c.clear();

    // A replica left out of a read (b, above) keeps its cursor: nothing is counted twice.
    // A replica that restarts at the same address comes back with a new epoch and a sequence from 1:
    // its 2 new predictions count although the collector's cursor for it was already past 2.
    await predict(b, 3);
    expect(await c.collect([b.url])).toMatchObject({ added: 3 });
    await b.stop();
    const unreachable = await c.collect([b.url]);
    expect(unreachable.errors[0]).toContain(b.url);
    const port = new URL(b.url).port;
    const b2 = await serve({ args: ['--port', port] });
    try {
      expect(b2.url).toBe(b.url);
      await predict(b2, 2);
      expect(await c.collect([b2.url])).toMatchObject({ added: 2, errors: [] });
    } finally {
      await b2.stop();
    }
  } finally {
    await a.stop();
    await b.stop();
  }
});
