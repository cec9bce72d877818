// Per-feature drift counts from a real server: every prediction's row lands in the reference's bins,
// the counts equal a bincount of the values sent, and the endpoint's JSON carries none of those values.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { binOf } from '../../../contract/bins.js';
import { mlpInputs } from '../../models/generate.js';
import { FeatureCountsCollector } from '../../../operator/gathering/counts-collector.js';
import { repoRoot } from '../../../hack/cluster/controlplane.js';
import { get, post, serve, testModels } from './support.js';

jest.setTimeout(60_000);

const names = ['heart_rate', 'resp_rate', 'temperature', 'wbc', 'lactate', 'map', 'spo2', 'age'];
/** The reference as a user makes it: `clinops reference --features` on a holdout drawn like the traffic (10 bins). */
async function referenceFile(): Promise<{ file: string; edges: number[][] }> {
  const dir = mkdtempSync(join(tmpdir(), 'clinops-features-'));
  writeFileSync(join(dir, 'holdout.json'), JSON.stringify(mlpInputs(11, 2000)));
  const file = join(dir, 'features.json');
  await promisify(execFile)(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'reference', '--model', testModels().mlp!.path,
    '--holdout', join(dir, 'holdout.json'), '--out', join(dir, 'confidence.json'), '--features', names.join(','), '--features-out', file, '--bins', '10',
    '--labels', 'No sepsis,Sepsis', '--labels-out', join(dir, 'labels.json')]);
  // The label reference: how often each label was the top one, over every holdout row.
  const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as Record<string, number>;
  expect(Object.keys(labels)).toEqual(['No sepsis', 'Sepsis']);
  expect(labels['No sepsis']! + labels.Sepsis!).toBe(2000);
  const confidences = JSON.parse(readFileSync(join(dir, 'confidence.json'), 'utf8')) as number[];
  expect(confidences).toHaveLength(2000);
  const ref = JSON.parse(readFileSync(file, 'utf8')) as { features: Array<{ name: string; edges: number[]; counts: number[] }> };
  expect(ref.features.map((f) => f.name)).toEqual(names);
  ref.features.forEach((f) => expect(f.counts.reduce((a, b) => a + b, 0)).toBe(2000));
  return { file, edges: ref.features.map((f) => f.edges) };
}

it('counts each feature\'s bins over the predictions after the cursor, and never returns a value sent', async () => {
  const { file, edges } = await referenceFile();
  const s = await serve({ args: ['--feature-reference', file] });
  try {
    const rows = mlpInputs(12, 150, 1.3);
    for (let i = 0; i < rows.length; i += 30) {
      expect((await post(`${s.url}/v1/models/sepsis/predict`, { instances: rows.slice(i, i + 30) })).status).toBe(200);
    }
    const r = await get(`${s.url}/v1/monitoring/features`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ seq: 150, dropped: false });
    const sent = Float32Array.from(rows.flat()); // the server reads FP32
    r.json.features.forEach((f: { name: string; counts: number[] }, i: number) => {
      expect(f.name).toBe(names[i]);
      const expected = new Array<number>(edges[i]!.length + 1).fill(0);
      for (let k = 0; k < rows.length; k++) expected[binOf(edges[i]!, sent[k * 8 + i]!)]! += 1;
      expect(f.counts).toEqual(expected);
    });
    // No value that was sent appears in the answer (which holds only whole numbers) at any precision it
    // could be printed with, nor in the monitoring window (per-row summaries, long decimals: a value
    // as sent or as the FP32 the server read).
    const text = JSON.stringify(r.json);
    const window = JSON.stringify((await get(`${s.url}/v1/monitoring/window`)).json);
    expect(window).toContain('"seq":150');
    for (const v of rows.flat()) {
      for (const printed of [String(v), String(Math.fround(v))]) {
        expect(text).not.toContain(printed);
        expect(window).not.toContain(printed);
      }
      expect(text).not.toContain(v.toFixed(4));
    }
    // From a cursor: only what came after it.
    await post(`${s.url}/v1/models/sepsis/predict`, { instances: rows.slice(0, 2) });
    const next = await get(`${s.url}/v1/monitoring/features?after=150`);
    expect(next.json.features.map((f: { counts: number[] }) => f.counts.reduce((a, b) => a + b, 0))).toEqual(names.map(() => 2));
  } finally {
    await s.stop();
  }
});

it('refuses a model whose input does not have one column per feature, and a broken reference at start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clinops-features-'));
  const three = join(dir, 'three.json');
  writeFileSync(three, JSON.stringify({ features: ['a', 'b', 'c'].map((name) => ({ name, edges: [0] })) }));
  const s = await serve({ ready: false, args: ['--feature-reference', three] });
  try {
    let ready;
    for (let i = 0; i < 100 && !(ready = await get(`${s.url}/health/ready`)).json.error?.includes('feature'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(ready!.status).toBe(503);
    expect(ready!.json.error).toContain('the feature reference names 3 features, but the model\'s input "input" is [-1, 8]');
  } finally {
    await s.stop();
  }
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"features": [{"name": "a", "edges": [3, 1]}]}');
  await expect(serve({ args: ['--feature-reference', broken] })).rejects.toThrow(/feature reference .*broken\.json: features\[0\] \("a"\) needs 1 to 1000 finite edges in increasing order/);
});

it('answers 404 naming the setting when no feature reference is configured', async () => {
  const s = await serve();
  try {
    expect(await get(`${s.url}/v1/monitoring/features`)).toMatchObject({ status: 404, json: { code: 'NOT_FOUND', error: expect.stringContaining('--feature-reference') } });
  } finally {
    await s.stop();
  }
});

it('the operator\'s collector sums the counts of every replica once, from where it stopped, and starts a restarted one afresh', async () => {
  const { file } = await referenceFile();
  const a = await serve({ args: ['--feature-reference', file] });
  const b = await serve({ args: ['--feature-reference', file] });
  const predict = (s: { url: string }, n: number, seed: number) => post(`${s.url}/v1/models/sepsis/predict`, { instances: mlpInputs(seed, n) });
  const total = (c: FeatureCountsCollector) => c.peek()!.counts[0]!.reduce((x, y) => x + y, 0);
  try {
    const c = new FeatureCountsCollector();
    await predict(a, 5, 1);
    await predict(b, 3, 2);
    expect(await c.collect([a.url, b.url])).toEqual({ added: 8, dropped: false, errors: [] });
    expect(c.peek()!.names).toEqual(names);
    c.peek()!.counts.forEach((perFeature) => expect(perFeature.reduce((x, y) => x + y, 0)).toBe(8));
    await predict(a, 4, 3);
    expect(await c.collect([a.url, b.url])).toMatchObject({ added: 4 });
    expect(total(c)).toBe(12);
    c.clear();
    expect(c.peek()).toBeUndefined();

    // A new process that knows earlier checks ran sets its cursors without counting what they judged.
    const fresh = new FeatureCountsCollector();
    expect(await fresh.collect([a.url, b.url], true)).toMatchObject({ added: 0 });
    await predict(b, 2, 4);
    expect(await fresh.collect([a.url, b.url], true)).toMatchObject({ added: 2 });

    // A replica counting over other bins than the operator's reference (started before it changed) is named, not summed.
    const other = new FeatureCountsCollector();
    const wrong = await other.collect([a.url], false, '0123456789abcdef');
    expect(wrong.added).toBe(0);
    expect(wrong.errors[0]).toMatch(/counts over other bins \([0-9a-f]{16}\) than the reference's \(0123456789abcdef\): the pod started with an older feature reference; restart the model's pods/);
    expect(other.peek()).toBeUndefined();
    // The operator's reference changed: what was summed over the old bins is dropped, not mixed in.
    await predict(a, 1, 6);
    expect(await c.collect([a.url])).toMatchObject({ added: 1 });
    expect(c.peek()).toBeDefined();
    await c.collect([a.url], false, 'fedcba9876543210');
    expect(c.peek()).toBeUndefined();

    // A restarted replica at the same address is read from its new start.
    const port = new URL(b.url).port;
    await b.stop();
    expect((await c.collect([b.url])).errors[0]).toContain(b.url);
    const b2 = await serve({ args: ['--feature-reference', file, '--port', port] });
    try {
      await predict(b2, 3, 5);
      expect(await c.collect([b2.url])).toMatchObject({ added: 3, errors: [] });
    } finally {
      await b2.stop();
    }
  } finally {
    await a.stop();
    await b.stop();
  }
});

it('`clinops drift-features` names the one shifted feature from the server\'s counts, and only it', async () => {
  const { file } = await referenceFile();
  const s = await serve({ args: ['--feature-reference', file] });
  try {
    // Lactate (column 4) shifted by a third of its range; every other column as in the holdout.
    const rows = mlpInputs(21, 600).map((r) => r.map((v, f) => (names[f] === 'lactate' ? v + 0.6 : v)));
    for (let i = 0; i < rows.length; i += 100) await post(`${s.url}/v1/models/sepsis/predict`, { instances: rows.slice(i, i + 100) });
    const current = join(mkdtempSync(join(tmpdir(), 'clinops-features-')), 'current.json');
    writeFileSync(current, JSON.stringify((await get(`${s.url}/v1/monitoring/features`)).json));
    const run = (args: string[]) => promisify(execFile)(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'drift-features', ...args])
      .then((r) => ({ code: 0, stdout: r.stdout }), (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }));
    const json = await run(['--reference', file, '--current', current, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { verdict: string; drivers: string[]; signals: Array<{ signal: string; psi: number }> };
    expect(report.drivers).toEqual(['lactate']);
    expect(report.verdict).toBe('Significant');
    const text = await run(['--reference', file, '--current', current]);
    expect(text.stdout).toMatch(/^verdict\s+Significant \(lactate\)$/m);
  } finally {
    await s.stop();
  }
});
