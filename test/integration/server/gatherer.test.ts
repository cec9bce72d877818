// Gathering for drift checks against real inference servers and a real API server: the window
// collector counts every prediction once across reads and replicas, reads a restarted server from its
// new start and reports overflow; the gatherer reads the reference ConfigMap, accumulates predictions
// until a judgement commits them, and a new process skips what earlier checks covered; with declared
// features, the feature and label references from the same ConfigMap and the replicas' bin counts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, jest } from '@jest/globals';
import { featureReference } from '../../../contract/feature-reference.js';
import type { ClinicalModel } from '../../../operator/api/types.js';
import { DriftGatherer } from '../../../operator/gathering/gatherer.js';
import { type FeaturesRead } from '../../../operator/drift/input.js';
import { WindowCollector } from '../../../operator/gathering/window-collector.js';
import { adminClient, deleteNamespaces, getJson, kubectl, model, newNamespace } from '../support.js';
import { post, type Served, serve } from './support.js';

jest.setTimeout(60_000);
afterAll(deleteNamespaces);

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

it('gathers the reference and every replica\'s predictions, keeps them until a judgement commits them, and reports what it could not read', async () => {
  const ns = await newNamespace('gather');
  await kubectl(['-n', ns, 'create', 'configmap', 'ref', '--from-literal=reference.json=[0.6, 0.7, 0.8, 0.9]']);
  const cr = (status: ClinicalModel['status'] = {}): ClinicalModel => ({
    apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name: 'sepsis', namespace: ns },
    spec: { model: { uri: 'pvc://c/m.onnx', sha256: 'a'.repeat(64), version: '1', labels: ['No sepsis', 'Sepsis'] },
      monitoring: { reference: { configMapRef: { name: 'ref' } } } },
    status,
  });
  const a = await serve();
  const b = await serve();
  try {
    const g = new DriftGatherer(adminClient());
    const key = `${ns}/sepsis`;
    await predict(a, 3);
    await predict(b, 2);
    const first = await g.gather(key, cr(), [a.url, b.url], Date.now());
    expect(first.reference).toEqual({ values: [0.6, 0.7, 0.8, 0.9] });
    expect(first.window).toMatchObject({ unreadable: [], dropped: false });
    expect(first.window!.samples).toHaveLength(5);
    expect(first.feedback).toBeUndefined(); // no performance baseline declared
    // Not committed (too few for a verdict, say): the next check sees them again, with the new ones.
    await predict(a, 4);
    expect((await g.gather(key, cr(), [a.url, b.url], Date.now())).window!.samples).toHaveLength(9);
    g.commit(key, { window: 9, feedback: 0, features: false });
    expect((await g.gather(key, cr(), [a.url, b.url], Date.now())).window!.samples).toHaveLength(0);
    expect(g.lastCheck(key)).toBeGreaterThan(0);

    // A replica that does not answer is named; the others are still read.
    await predict(b, 2);
    const closed = 'http://127.0.0.1:9';
    const partial = await g.gather(key, cr(), [a.url, b.url, closed], Date.now());
    expect(partial.window!.samples).toHaveLength(2);
    expect(partial.window!.unreadable).toEqual([expect.stringContaining(closed)]);

    // A new process (a restarted operator) skips the predictions made before the check in status.
    const fresh = new DriftGatherer(adminClient());
    const checked = cr({ drift: { lastCheckTime: new Date(Date.now() + 1000).toISOString().replace(/\.\d+Z$/, 'Z') } });
    expect((await fresh.gather(key, checked, [a.url, b.url], Date.now())).window!.samples).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 1500));
    await predict(a, 2);
    expect((await fresh.gather(key, checked, [a.url, b.url], Date.now())).window!.samples).toHaveLength(2);

    // A reference edited in place is read again; one that cannot be used says why, and no window is read.
    await kubectl(['-n', ns, 'create', 'configmap', 'ref', '--from-literal=reference.json=[0.5]', '--dry-run=client', '-o', 'yaml'])
      .then((y) => kubectl(['-n', ns, 'replace', '-f', '-'], y));
    expect((await g.gather(key, cr(), [a.url], Date.now())).reference).toEqual({ values: [0.5] });
    await kubectl(['-n', ns, 'delete', 'configmap', 'ref']);
    const gone = await g.gather(key, cr(), [a.url], Date.now());
    expect(gone.reference).toEqual({ error: `reference ConfigMap ${ns}/ref does not exist` });
    expect(gone.window).toBeUndefined();
  } finally {
    await a.stop();
    await b.stop();
  }
});

it('gathers the feature and label references from the same ConfigMap and the replicas\' bin counts, summed until committed', async () => {
  const ns = await newNamespace('gather-features');
  const names = ['heart_rate', 'resp_rate', 'temperature', 'map', 'lactate', 'wbc', 'creatinine', 'spo2'];
  const rows = Array.from({ length: 400 }, (_, i) => names.map((_, j) => ((i * (j + 3)) % 97) / 50 - 1));
  const reference = featureReference(rows, names, 10);
  const dir = mkdtempSync(join(tmpdir(), 'clinops-gather-'));
  writeFileSync(join(dir, 'features.json'), JSON.stringify(reference));
  await kubectl(['-n', ns, 'create', 'configmap', 'ref', '--from-literal=confidence.json=[0.6, 0.7, 0.8, 0.9]',
    `--from-file=features.json=${join(dir, 'features.json')}`, '--from-literal=labels.json={"No sepsis": 90, "Sepsis": 10}']);
  const cr = (features = names): ClinicalModel => ({
    apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name: 'sepsis', namespace: ns },
    spec: { model: { uri: 'pvc://c/m.onnx', sha256: 'a'.repeat(64), version: '1', labels: ['No sepsis', 'Sepsis'] },
      monitoring: { features, reference: { configMapRef: { name: 'ref', key: 'confidence.json' }, labelsKey: 'labels.json' } } },
  });
  const a = await serve({ args: ['--feature-reference', join(dir, 'features.json')] });
  const b = await serve({ args: ['--feature-reference', join(dir, 'features.json')] });
  try {
    const g = new DriftGatherer(adminClient());
    const key = `${ns}/sepsis`;
    await predict(a, 3);
    await predict(b, 4);
    const first = await g.gather(key, cr(), [a.url, b.url], Date.now());
    expect(first.labels).toEqual({ counts: { 'No sepsis': 90, Sepsis: 10 } });
    const f = first.features as FeaturesRead;
    expect(f.reference).toMatchObject({ names, counts: reference.features.map((x) => x.counts) });
    expect(f.samples).toBe(7);
    expect(f.counts!.map((c) => c.reduce((x, y) => x + y, 0))).toEqual(names.map(() => 7));
    expect(f.unreadable).toEqual([]);
    // Not committed: the next read adds to them; committed: gone.
    await predict(a, 2);
    expect(((await g.gather(key, cr(), [a.url, b.url], Date.now())).features as FeaturesRead).samples).toBe(9);
    g.commit(key, { window: 9, feedback: 0, features: true });
    expect(((await g.gather(key, cr(), [a.url, b.url], Date.now())).features as FeaturesRead).samples).toBe(0);

    // A process new to the model (status shows earlier checks) skips what the replicas counted before;
    // a process whose own first check found no ready replica does not skip what comes after.
    const checked = { ...cr(), status: { drift: { lastCheckTime: new Date().toISOString() } } };
    const restarted = new DriftGatherer(adminClient());
    expect(((await restarted.gather(key, checked, [a.url, b.url], Date.now())).features as FeaturesRead).samples).toBe(0);
    await predict(b, 2);
    expect(((await restarted.gather(key, checked, [a.url, b.url], Date.now())).features as FeaturesRead).samples).toBe(2);
    const early = new DriftGatherer(adminClient());
    await early.gather(key, cr(), [], Date.now()); // no replica ready yet; the check it wrote is its own
    await predict(a, 3);
    expect(((await early.gather(key, checked, [a.url], Date.now())).features as FeaturesRead).samples).toBe(5 + 3);

    // A spec whose features are not the reference's is told so, and the rest is still gathered.
    const wrong = await g.gather(key, cr(['lactate']), [a.url], Date.now());
    expect(wrong.features).toEqual({ error: `reference ConfigMap ${ns}/ref key features.json: the reference's features are [${names.join(', ')}], spec.monitoring.features is [lactate]; they must match, in input order` });
    expect(wrong.window).toBeDefined();
  } finally {
    await a.stop();
    await b.stop();
  }
});

it('joins ground truth reported to any replica with the prediction any replica made, and keeps them in the cluster across a restart', async () => {
  const ns = await newNamespace('gather-labels');
  // A real ClinicalModel (no operator runs here): the label store's Secret is owned by it.
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, 'sepsis', {
    model: { uri: 'pvc://c/m.onnx', sha256: 'a'.repeat(64), version: '1', labels: ['No sepsis', 'Sepsis'] },
    monitoring: { performance: { minLabels: 5, window: 50, baseline: { sensitivity: 0.9 } } },
  })));
  const cr = await getJson<ClinicalModel>(['-n', ns, 'get', 'clm', 'sepsis']);
  const a = await serve();
  const b = await serve();
  const made = async (s: Served, n: number) => ((await predict(s, n)).json.predictions as Array<{ id: string; label: string }>);
  const label = async (s: Served, id: string, truth = 'Sepsis') => expect((await post(`${s.url}/v1/feedback`, { predictionId: id, label: truth })).status).toBe(202);
  try {
    const key = `${ns}/sepsis`;
    const g = new DriftGatherer(adminClient());
    const onA = await made(a, 6);
    const onB = await made(b, 6);
    // Each replica hears ground truth for the other's predictions; one label names a prediction never made.
    for (const p of onA.slice(0, 4)) await label(b, p.id);
    for (const p of onB.slice(0, 4)) await label(a, p.id, 'No sepsis');
    await label(a, 'never-made');
    const first = (await g.gather(key, cr, [a.url, b.url], Date.now())).feedback!;
    expect(first).toMatchObject({ fresh: 8, awaiting: 4, waitingLabels: 1, unreadable: [], dropped: false });
    expect(first.labelled.map((p) => p.id).sort()).toEqual([...onA.slice(0, 4), ...onB.slice(0, 4)].map((p) => p.id).sort());
    expect(first.labelled.find((p) => p.id === onB[0]!.id)).toMatchObject({ predicted: onB[0]!.label, truth: 'No sepsis' });
    g.commit(key, { window: 0, feedback: first.labelled[first.labelled.length - 1]!.labelledAt!, features: false });
    await g.save(key, cr);

    // A restarted operator: status says the check ran, so the replicas' windows are read only from then
    // on; the predictions made before come from the Secret, and labels arriving now still find them.
    const checked = { ...cr, status: { drift: { lastCheckTime: new Date(Date.now() + 1000).toISOString().replace(/\.\d+Z$/, 'Z') } } };
    await new Promise((r) => setTimeout(r, 1500));
    for (const p of onA.slice(4)) await label(a, p.id);
    for (const p of onB.slice(4)) await label(a, p.id);
    const restarted = new DriftGatherer(adminClient());
    const second = (await restarted.gather(key, checked, [a.url, b.url], Date.now())).feedback!;
    expect(second).toMatchObject({ fresh: 4, awaiting: 0, waitingLabels: 1 });
    expect(second.labelled).toHaveLength(12);
    const secret = await getJson(['-n', ns, 'get', 'secret', 'sepsis-feedback']);
    expect(secret.metadata.ownerReferences[0]).toMatchObject({ kind: 'ClinicalModel', name: 'sepsis', uid: cr.metadata.uid });
  } finally {
    await a.stop();
    await b.stop();
  }
});

it('cuts off a pod that answers a 1 GB window at the bound, names it, and still reads the others', async () => {
  // A "replica" that streams a window without end (a pod's image is the spec editor's choice).
  let written = 0;
  const hostile = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.from(`{"epoch":"x","seq":1,"dropped":false,"samples":[${'{"seq":1,"time":"2026-12-01T00:00:00Z","confidence":0.5,"label":"Sepsis"},'.repeat(8000)}`);
    const pump = () => {
      while (written < 1024 ** 3) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end(']}');
    };
    pump();
  });
  await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  const a = await serve();
  try {
    await predict(a, 3);
    const c = new WindowCollector();
    const r = await c.collect([a.url, url]);
    expect(r.added).toBe(3);
    expect(r.errors).toEqual([`${url}: the answer is larger than ${8 * 1024 ** 2} bytes; cut off`]);
    // It was cut off near the bound, not read to its end.
    expect(written).toBeLessThan(64 * 1024 ** 2);
  } finally {
    hostile.closeAllConnections();
    hostile.close();
    await a.stop();
  }
});

it('never reads, adopts or overwrites a label-store Secret someone else made, and says so', async () => {
  const ns = await newNamespace('gather-squat');
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, 'sepsis', {
    model: { uri: 'pvc://c/m.onnx', sha256: 'a'.repeat(64), version: '1', labels: ['No sepsis', 'Sepsis'] },
    monitoring: { performance: { minLabels: 5, window: 50, baseline: { sensitivity: 0.9 } } },
  })));
  const cr = await getJson<ClinicalModel>(['-n', ns, 'get', 'clm', 'sepsis']);
  // Someone's Secret of the store's name, before the operator made one (a gzip bomb, had it been read).
  await kubectl(['-n', ns, 'create', 'secret', 'generic', 'sepsis-feedback', '--from-literal=store.json.gz=not ours']);
  const before = await getJson(['-n', ns, 'get', 'secret', 'sepsis-feedback']);
  const a = await serve();
  try {
    const g = new DriftGatherer(adminClient());
    const key = `${ns}/sepsis`;
    const [p] = (await predict(a, 1)).json.predictions as Array<{ id: string }>;
    expect((await post(`${a.url}/v1/feedback`, { predictionId: p!.id, label: 'Sepsis' })).status).toBe(202);
    const read = (await g.gather(key, cr, [a.url], Date.now())).feedback!;
    expect(read.problem).toContain('Secret sepsis-feedback exists and was not made by clinops for this model');
    expect(read.labelled).toHaveLength(1); // kept in memory
    await g.save(key, cr);
    const after = await getJson(['-n', ns, 'get', 'secret', 'sepsis-feedback']);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.ownerReferences).toBeUndefined();
  } finally {
    await a.stop();
  }
});
