// The whole product in real pods, on a control plane of its own with the real node (containerd, runc,
// kubelet, kube-proxy) and our own images built from the Dockerfiles:
//   the chart installs the operator image (2 replicas, Pod Security restricted); it leads and reconciles
//   a sepsis model on a hostPath volume pinned to the node → server pods Ready by their real probes
//   predictions through the Service's ClusterIP equal the plain-JS forward pass (REST and OIP v2)
//   drift traffic through the Service → level 1 → Pause: pods terminate, an in-flight request answered
//   → an acknowledgement in another's name refused by the chart's admission policy; the reviewer's own:
//   pods back and serving → safety event: Shutdown
//   the model card edited without restarting a pod; the audit file on a volume, hash chain intact
//   ground truth through the Service for predictions both replicas made: every label joined; each pod's
//   monitoring port answers the operator's key alone (401 without, 403 with a client's key)
//   a model declaring its input features: the pod mounts the feature reference, counts bins, a check judges them
//   a GPU model on a node where CUDA cannot be used: served on CPU, GPUAccelerated=False in status
//   kube-proxy stopped: a ClusterIP does not answer and its route stays on this machine
//   the leader's pod deleted: another operator pod takes over and reconciles
//   acceptance: a version that passes its Job serves; a worse update is rejected (the operator's leader deleted
//   while its Job runs) and the accepted one keeps serving
//   rollout: a new version in shadow (copies of live predictions compared), a canary behind the one Service,
//   promoted through a change of the operator's leader; a worse one rolled back in shadow while the version before serves
//   TLS from a Secret: HTTPS probes, the Service's https port, predictions and the operator's reads verified against its CA
//   a PACS (Orthanc) in the workflow: storescu → Orthanc → STOW-RS to the Service → the pod's SR stored back in the
//   study with the destination Secret's credentials; a re-sent study makes no second SR, a CT is ignored; status counts
//   a wrong sha256, a missing image: named in status and Events
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { featureReference } from '../../contract/feature-reference.js';
import type { ClinicalModel } from '../../operator/api/types.js';
import { type ControlPlane, repoRoot, startControlPlane } from '../../hack/cluster/controlplane.js';
import { helm, helmInstall } from '../../hack/cluster/helm.js';
import { assertLocalRoute, clusterFetch, NODE_IP, NODE_NAME, POD_BRIDGE, routeDevice, SINK } from '../../hack/cluster/network.js';
import { startPacs, storescu } from '../../hack/cluster/pacs.js';
import { startObjectStore } from '../../hack/cluster/s3.js';
import { REAL_NODE_LABEL } from '../../hack/cluster/node.js';
import { sepsisConfidences, sepsisReference, sepsisTraffic, sepsisWeights } from '../models/drift-traffic.js';
import { cnnGraph, cnnWeights, mlpForward, mlpGraph, mlpInputs, mlpWeights, rng, SMALL_CNN, SMALL_CNN_SIZE, writeModel } from '../models/generate.js';
import { acceptance } from '../../operator/acceptance/report.js';
import { eventually } from './support.js';

jest.setTimeout(900_000);
const execFileP = promisify(execFile);

const NAME = 'sepsis';
const FEATURES = ['heart_rate', 'resp_rate', 'temperature', 'map', 'lactate', 'wbc', 'creatinine', 'spo2'];
const API_KEY = 'pods-test-key';
const weights = sepsisWeights;
const confidences = sepsisConfidences;
const reference = sepsisReference;
const traffic = sepsisTraffic;

let cp: ControlPlane;
let ns: string;
let modelDir: string;
let auditDir: string;
let sha256: string;

async function json<T = any>(args: string[]): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(await cp.kubectl([...args, '-o', 'json'])) as T;
}

const clm = (name = NAME) => json<ClinicalModel>(['-n', ns, 'get', 'clm', name]);
const condition = (c: ClinicalModel, type: string) => c.status?.conditions?.find((x) => x.type === type);

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { podIP?: string; phase?: string; conditions?: Array<{ type: string; status: string }> };
}

async function pods(name = NAME): Promise<Pod[]> {
  return (await json<{ items: Pod[] }>(['-n', ns, 'get', 'pods', '-l', `app.kubernetes.io/instance=${name}`])).items;
}
const ready = (p: Pod) => !p.metadata.deletionTimestamp && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function clusterIP(name = NAME): Promise<string> {
  return (await json<{ spec: { clusterIP: string } }>(['-n', ns, 'get', 'service', name])).spec.clusterIP;
}

async function events(name: string): Promise<Array<{ type: string; reason: string; message: string }>> {
  return (await json<{ items: Array<{ type: string; reason: string; message: string }> }>(['-n', ns, 'get', 'events',
    '--field-selector', `involvedObject.name=${name},involvedObject.kind=ClinicalModel`])).items;
}

/** Predict through the Service, 20 instances a request; resolves the top-class confidences. */
async function predict(xs: number[][]): Promise<number[]> {
  const url = `http://${await clusterIP()}:8080/v1/models/${NAME}/predict`;
  const out: number[] = [];
  for (let i = 0; i < xs.length; i += 20) {
    const res = await clusterFetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ instances: xs.slice(i, i + 20) }),
    });
    if (res.status !== 200) throw new Error(`predict answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { predictions: Array<{ confidence: number }> };
    out.push(...body.predictions.map((p) => p.confidence));
  }
  return out;
}

beforeAll(async () => {
  // No CRD up front: the chart installs it, as on a platform team's cluster.
  cp = await startControlPlane({ realNode: true, autoscaling: true, gpuNodes: 1, cpuNodes: 0 });
  // Host folders behind the hostPath volumes. The harness's dir is private (0700); the pods' user
  // 65532 must traverse it. hostPath volumes ignore fsGroup: the files' own modes must let 65532 in.
  chmodSync(cp.dir, 0o711);
  modelDir = join(cp.dir, 'models');
  auditDir = join(cp.dir, 'audit');
  const model = writeModel(join(modelDir, 'sepsis'), 'model.onnx', mlpGraph(weights));
  sha256 = model.sha256;
  writeFileSync(join(modelDir, 'sepsis', 'not-onnx.onnx'), 'this is not an ONNX model\n');
  for (const d of [modelDir, join(modelDir, 'sepsis')]) chmodSync(d, 0o755);
  mkdirSync(auditDir, { mode: 0o777 });
  chmodSync(auditDir, 0o777);

  await helmInstall(cp, { args: ['--wait', '--timeout=5m'] });
  ns = `icu-${randomBytes(3).toString('hex')}`;
  const pinned = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE_NAME] }] }] } };
  const volume = (name: string, path: string, mode: string) => [
    {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `${ns}-${name}` },
      spec: { capacity: { storage: '1Gi' }, accessModes: [mode], storageClassName: '', hostPath: { path, type: 'Directory' },
        nodeAffinity: pinned, claimRef: { namespace: ns, name } },
    },
    {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: ns },
      spec: { accessModes: [mode], storageClassName: '', volumeName: `${ns}-${name}`, resources: { requests: { storage: '1Gi' } } },
    },
  ];
  await cp.kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
      ...volume('models', modelDir, 'ReadOnlyMany'),
      ...volume('audit', auditDir, 'ReadWriteMany'),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sepsis-api-keys', namespace: ns },
        stringData: { 'keys.json': JSON.stringify({ keys: [{ id: 'ehr', sha256: createHash('sha256').update(API_KEY).digest('hex'), scopes: ['predict', 'feedback', 'jobs'] }] }) } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sepsis-reference', namespace: ns },
        data: { 'confidence.json': JSON.stringify(reference), 'features.json': JSON.stringify(featureReference(mlpInputs(101, 2000), FEATURES, 100)) } },
    ],
  }));
}, 1_800_000);

afterAll(async () => {
  await cp?.stop();
});

it('the node is real: Ready, running containerd, with the chart\'s operator pods on it', async () => {
  const node = await json(['get', 'node', NODE_NAME]);
  expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
  expect(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
  expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: '10.245.0.1' });
  const wide = await cp.kubectl(['get', 'nodes', '-o', 'wide']);
  expect(wide).toMatch(new RegExp(`${NODE_NAME}\\s+Ready.*containerd://`));
  const ops = (await json<{ items: Pod[] }>(['-n', 'clinops-system', 'get', 'pods', '-l', 'app.kubernetes.io/component=operator'])).items;
  expect(ops.filter(ready).map((p) => p.spec.nodeName)).toEqual([NODE_NAME, NODE_NAME]);
});

it('serves a ClinicalModel from pods the in-cluster operator created, through the Service', async () => {
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({
    apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name: NAME, namespace: ns },
    spec: {
      model: { uri: 'pvc://models/sepsis/model.onnx', sha256, version: '2.0.0', labels: ['No sepsis', 'Sepsis'] },
      serving: {
        replicas: 2,
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } },
        apiKeySecretRef: { name: 'sepsis-api-keys' },
        audit: { claimName: 'audit' },
      },
      monitoring: { interval: '10s', minSamples: 200, reference: { configMapRef: { name: 'sepsis-reference', key: 'confidence.json' } } },
      escalation: { consecutiveBreaches: 1, level1: { action: 'Alert', reviewWithin: '48h' }, level2: { action: 'Pause' }, level3: { action: 'Shutdown' } },
      modelCard: { intendedUse: 'Early warning for adult ICU patients', owner: 'Critical care informatics' },
    },
  }));
  const c = await eventually('Serving with 2 ready pods', async () => {
    const x = await clm();
    return x.status?.phase === 'Serving' && x.status.readyReplicas === 2 ? x : undefined;
  }, 240_000);
  expect(condition(c, 'ArtifactVerified')).toMatchObject({ status: 'True', reason: 'VerifiedByServer' });
  const ps = (await pods()).filter(ready);
  expect(ps.map((p) => p.spec.nodeName)).toEqual([NODE_NAME, NODE_NAME]);
  for (const p of ps) await assertLocalRoute(p.status.podIP!);
  expect(await routeDevice(ps[0]!.status.podIP!)).toBe(POD_BRIDGE);

  // The container's CPU limit (1) sizes the server, not the node's cores.
  const logs = await cp.kubectl(['-n', ns, 'logs', ps[0]!.metadata.name]);
  const readyLine = JSON.parse(logs.split('\n').find((l) => l.includes('"msg":"model ready"'))!) as Record<string, unknown>;
  expect(readyLine).toMatchObject({ provider: 'cpu', workers: 1, intraOpThreads: 1 });

  // REST through the ClusterIP equals the plain-JS forward pass of the same weights.
  const xs = mlpInputs(42, 40);
  const got = await predict(xs);
  got.forEach((conf, i) => expect(conf).toBeCloseTo(confidences([xs[i]!])[0]!, 5));
  // OIP v2 too.
  const ip = await clusterIP();
  const res = await clusterFetch(`http://${ip}:8080/v2/models/${NAME}/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ inputs: [{ name: 'input', shape: [2, 8], datatype: 'FP32', data: [...xs[0]!, ...xs[1]!] }] }),
  });
  expect(res.status).toBe(200);
  const oip = (await res.json()) as { outputs: Array<{ data: number[]; shape: number[] }> };
  expect(oip.outputs[0]!.shape).toEqual([2, 2]);
  mlpForward(weights, xs[0]!).forEach((v, i) => expect(oip.outputs[0]!.data[i]).toBeCloseTo(v, 5));
  // No key, no prediction.
  const anon = await clusterFetch(`http://${ip}:8080/v1/models/${NAME}/predict`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [xs[0]] }),
  });
  expect(anon.status).toBe(401);
});

it('keeps the audit trail in a file per pod on the volume, written as uid 65532, its hash chain intact', async () => {
  const files = await eventually('audit files', async () => {
    const fs = readdirSync(auditDir).filter((f) => f.endsWith('.audit.jsonl'));
    return fs.length === 2 ? fs : undefined;
  });
  const names = (await pods()).filter(ready).map((p) => `${p.metadata.name}.audit.jsonl`).sort();
  expect(files.sort()).toEqual(names);
  // The Service spreads requests at random: together the files hold every prediction so far (40 + 2).
  let records = 0;
  for (const f of files) {
    expect(statSync(join(auditDir, f)).uid).toBe(65532);
    const { stdout } = await execFileP(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'audit', 'verify', join(auditDir, f)]);
    const m = /: (\d+) records, chain intact/.exec(stdout);
    expect(m).not.toBeNull();
    records += Number(m![1]);
  }
  expect(records).toBe(42);
});

it('updates the model card without restarting a pod', async () => {
  const before = (await pods()).filter(ready).map((p) => p.metadata.uid).sort();
  await cp.kubectl(['-n', ns, 'patch', 'clm', NAME, '--type=merge', '-p', JSON.stringify({ spec: { modelCard: { owner: 'Sepsis AI team' } } })]);
  const url = `http://${await clusterIP()}:8080/v1/models/${NAME}/card`;
  // Every replica shows the new card (the kubelet refreshes the mounted ConfigMap within its sync period).
  await eventually('the new card on every replica', async () => {
    for (const p of (await pods()).filter(ready)) {
      const card = (await (await clusterFetch(`http://${p.status.podIP}:8080/v1/models/${NAME}/card`, { headers: { 'x-api-key': API_KEY } })).json()) as { owner?: string };
      if (card.owner !== 'Sepsis AI team') return false;
    }
    return true;
  }, 120_000);
  const card = (await (await clusterFetch(url, { headers: { 'x-api-key': API_KEY } })).json()) as Record<string, string>;
  expect(card).toMatchObject({ owner: 'Sepsis AI team', intendedUse: 'Early warning for adult ICU patients' });
  expect((await pods()).filter(ready).map((p) => p.metadata.uid).sort()).toEqual(before);
});

/** POST JSON on a connection of its own (kube-proxy picks a pod per connection), after checking the route stays here. */
async function postFresh(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  await assertLocalRoute(new URL(url).hostname);
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(url, { method: 'POST', agent: false, timeout: 10_000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(data);
  });
}

it('ground truth through the Service reaches whichever replica, and every label is joined; the monitoring signals open to the operator\'s key alone', async () => {
  await cp.kubectl(['-n', ns, 'patch', 'clm', NAME, '--type=merge', '-p', JSON.stringify({
    spec: { monitoring: { performance: { minLabels: 40, window: 100, baseline: { sensitivity: 0.5, specificity: 0.5 } } } },
  })]);
  const ip = await clusterIP();
  // 40 predictions, each on a connection of its own, so both replicas make some.
  const made: Array<{ id: string; label: string }> = [];
  for (const x of mlpInputs(77, 40)) {
    const r = await postFresh(`http://${ip}:8080/v1/models/${NAME}/predict`, { instances: [x] }, { 'x-api-key': API_KEY });
    expect(r.status).toBe(200);
    made.push(r.json.predictions[0]);
  }
  // Each pod's monitoring port: 401 without a key, 403 with a client's key, its window with the operator's.
  const secret = await json<{ data: { key: string } }>(['-n', ns, 'get', 'secret', `${NAME}-monitoring`]);
  const operatorKey = Buffer.from(secret.data.key, 'base64').toString('utf8');
  const byPod: string[][] = [];
  for (const p of (await pods()).filter(ready)) {
    const base = `http://${p.status.podIP}:8081/v1/monitoring`;
    expect((await clusterFetch(`${base}/feedback`)).status).toBe(401);
    expect((await clusterFetch(`${base}/window`, { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(403);
    const w = await clusterFetch(`${base}/window`, { headers: { authorization: `Bearer ${operatorKey}` } });
    expect(w.status).toBe(200);
    const ids = new Set(((await w.json()) as { samples: Array<{ id: string }> }).samples.map((x) => x.id));
    byPod.push(made.map((m) => m.id).filter((id) => ids.has(id)));
    // Not on the serving port, which the Service exposes.
    expect((await clusterFetch(`http://${p.status.podIP}:8080/v1/monitoring/window`, { headers: { authorization: `Bearer ${operatorKey}` } })).status).toBe(404);
  }
  expect(byPod).toHaveLength(2);
  expect(byPod.every((ids) => ids.length > 0)).toBe(true); // both replicas served some
  expect(byPod[0]!.length + byPod[1]!.length).toBe(40);
  // The clinicians' labels through the Service: each lands on either replica, whichever made the prediction.
  for (const m of made) {
    const r = await postFresh(`http://${ip}:8080/v1/feedback`, { predictionId: m.id, label: m.label }, { 'x-api-key': API_KEY });
    expect(r.status).toBe(202);
  }
  const c = await eventually('all 40 labels joined and judged', async () => {
    const x = await clm();
    return x.status?.drift?.performance?.labelled === 40 ? x : undefined;
  }, 60_000);
  expect(c.status?.drift?.performance).toMatchObject({ labelled: 40, dip: 0, unmatchedLabels: 0 });
  expect(c.status?.escalation?.level ?? 0).toBe(0);
});

it('counts the declared features inside the pod, from the reference ConfigMap it mounts; a check judges them; the counts carry no input value', async () => {
  const name = 'sepsis-features';
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({
    apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: ns },
    spec: {
      model: { uri: 'pvc://models/sepsis/model.onnx', sha256, version: '2.0.0', labels: ['No sepsis', 'Sepsis'] },
      serving: { replicas: 1, allowUnauthenticated: true, resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } } },
      monitoring: { interval: '10s', minSamples: 400, features: FEATURES, reference: { configMapRef: { name: 'sepsis-reference', key: 'confidence.json' } } },
    },
  }));
  await eventually('Serving with a ready pod', async () => {
    const x = await clm(name);
    return x.status?.phase === 'Serving' && x.status.readyReplicas === 1;
  }, 240_000);
  const pod = (await pods(name)).filter(ready)[0]!;
  await assertLocalRoute(pod.status.podIP!);
  const base = `http://${pod.status.podIP}:8080`;
  const rows = traffic.clean;
  for (let i = 0; i < rows.length; i += 100) {
    const res = await clusterFetch(`${base}/v1/models/${name}/predict`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows.slice(i, i + 100) }),
    });
    expect(res.status).toBe(200);
  }
  // The operator's view: the monitoring port, with the model's monitoring key.
  const key = Buffer.from((await json<{ data: { key: string } }>(['-n', ns, 'get', 'secret', `${name}-monitoring`])).data.key, 'base64').toString('utf8');
  const counts = (await (await clusterFetch(`http://${pod.status.podIP}:8081/v1/monitoring/features`, { headers: { authorization: `Bearer ${key}` } })).json()) as
    { features: Array<{ name: string; counts: number[] }> };
  expect(counts.features.map((f) => f.name)).toEqual(FEATURES);
  counts.features.forEach((f) => expect(f.counts.reduce((a, b) => a + b, 0)).toBe(rows.length));
  const text = JSON.stringify(counts);
  for (const v of rows.slice(0, 50).flat()) expect(text).not.toContain(String(v).slice(0, 8));
  const c = await eventually('a check over the features', async () => {
    const x = await clm(name);
    return x.status?.drift?.features === FEATURES.length ? x : undefined;
  }, 60_000);
  expect(c.status?.drift).toMatchObject({ verdict: 'NoDrift', samples: rows.length, features: FEATURES.length });
  await cp.kubectl(['-n', ns, 'delete', 'clm', name, '--wait=true']);
});

/** A POST to one pod whose body arrives in two parts; resolves once the first part is sent. */
function slowPredict(podIP: string, instances: number[][]): { sentHead: Promise<void>; finish: () => void; response: Promise<{ status: number; body: string }> } {
  const body = JSON.stringify({ instances });
  const half = Math.floor(body.length / 2);
  let finish!: () => void;
  let sentHead!: () => void;
  const head = new Promise<void>((r) => (sentHead = r));
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({
      host: podIP, port: 8080, method: 'POST', path: `/v1/models/${NAME}/predict`, agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-api-key': API_KEY },
    }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.write(body.slice(0, half), () => sentHead());
    finish = () => req.end(body.slice(half));
  });
  return { sentHead: head, finish: () => finish(), response };
}

it('drift through the Service: level 1, then Pause stops the pods (an in-flight request answered), a reviewer brings them back, a safety event shuts them down', async () => {
  const since = Date.now();
  await predict(traffic.clean);
  await eventually('a NoDrift check over both replicas', async () => {
    const d = (await clm()).status?.drift;
    return d?.lastCheckTime && Date.parse(d.lastCheckTime) >= Math.floor(since / 1000) * 1000 && d.verdict === 'NoDrift' && d.replicasRead === 2;
  }, 60_000);

  await predict(traffic.moderate);
  await eventually('level 1', async () => (await clm()).status?.escalation?.level === 1, 60_000);
  expect((await pods()).filter(ready)).toHaveLength(2);

  // A request in flight when the pod is told to stop: its head sent before, its body after SIGTERM.
  const victim = (await pods()).filter(ready)[0]!;
  await assertLocalRoute(victim.status.podIP!);
  const inflight = slowPredict(victim.status.podIP!, mlpInputs(7, 10));
  await inflight.sentHead;
  await predict(traffic.strong);
  await eventually('level 2 and Paused', async () => {
    const x = await clm();
    return x.status?.escalation?.level === 2 && x.status.phase === 'Paused';
  }, 60_000);
  await eventually('the pod terminating', async () => (await pods()).find((p) => p.metadata.uid === victim.metadata.uid)?.metadata.deletionTimestamp);
  // The rest of the body arrives after SIGTERM, within the server's drain delay: still answered.
  await new Promise((r) => setTimeout(r, 1000));
  inflight.finish();
  const answered = await inflight.response;
  expect(answered.status).toBe(200);
  expect((JSON.parse(answered.body) as { predictions: unknown[] }).predictions).toHaveLength(10);
  await eventually('no pods left', async () => (await pods()).length === 0, 90_000);
  const stopped = await clusterFetch(`http://${await clusterIP()}:8080/health/live`).then(() => 'answered', (e: Error) => e.message);
  expect(stopped).not.toBe('answered');

  // The chart's admission policy: the cluster admin cannot acknowledge in dr-lee's name; dr-lee can.
  const acknowledge = ['-n', ns, 'patch', 'clm', NAME, '--type=merge', '-p',
    JSON.stringify({ spec: { escalation: { acknowledgement: { reviewer: 'dr-lee', level: 2, note: 'assay change reviewed' } } } })];
  const refused = await cp.kubectl(acknowledge).then(() => 'accepted', (e: { stderr?: string }) => e.stderr ?? String(e));
  expect(refused).toContain('you are clinops-admin, the acknowledgement names dr-lee');
  await cp.kubectl(['--as=dr-lee', '--as-group=clinical-reviewers', '--as-group=system:masters', ...acknowledge]);
  await eventually('Serving again with 2 ready pods', async () => {
    const x = await clm();
    return x.status?.phase === 'Serving' && x.status.readyReplicas === 2;
  }, 180_000);
  expect(await predict(traffic.clean.slice(0, 20))).toHaveLength(20);

  await cp.kubectl(['-n', ns, 'annotate', 'clm', NAME, 'clinops.dev/safety-event=INC-7: missed deterioration']);
  await eventually('ShutDown with no pods', async () => {
    const x = await clm();
    return x.status?.phase === 'ShutDown' && x.status.escalation?.incident && (await pods()).length === 0;
  }, 90_000);
  // The version shut down is revoked in the namespace (the operator's record, in the operator's pods);
  // the cluster administrator, a governance administrator by default, lifts it with a reason so the
  // tests below may declare the same file again.
  const sha = (await clm()).status!.escalation!.shutdownSha256!;
  const revoked = await eventually('the version revoked', () => json(['-n', ns, 'get', 'revokedversion', sha]).catch(() => undefined));
  expect(revoked.spec).toMatchObject({ sha256: sha, model: NAME, reason: expect.stringContaining('INC-7') });
  await cp.kubectl(['-n', ns, 'patch', 'revokedversion', sha, '--type=merge', '-p',
    JSON.stringify({ spec: { lift: { by: 'clinops-admin', reason: 'INC-7 reviewed; the file is reused by the tests below' } } })]);
});

/**
 * Load through a model's Service until `stop` resolves, bounded by `maxMs`: `loops` clients, each sending
 * 5 instances of `inputs` in turn and pausing `pauseMs` between requests. Counts answers by outcome.
 */
async function loadThrough(name: string, inputs: number[][], stop: Promise<unknown>, maxMs: number, loops = 2, pauseMs = 50): Promise<{ ok: number; failed: number }> {
  const ip = await clusterIP(name);
  await assertLocalRoute(ip);
  const url = `http://${ip}:8080/v1/models/${name}/predict`;
  let stopped = false;
  void stop.then(() => (stopped = true));
  const end = Date.now() + maxMs;
  const counts = { ok: 0, failed: 0 };
  let next = 0;
  await Promise.all(Array.from({ length: loops }, async () => {
    while (!stopped && Date.now() < end) {
      const instances = Array.from({ length: 5 }, () => inputs[next++ % inputs.length]!);
      try {
        const res = await fetch(url, {
          method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
          body: JSON.stringify({ instances }), signal: AbortSignal.timeout(5000),
        });
        await res.text();
        counts[res.status === 200 ? 'ok' : 'failed']++;
      } catch {
        counts.failed++;
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }));
  return counts;
}

it('autoscaling: load through the Service raises the replicas 1 → 3 and they fall back after; Pause under load keeps 0 for a minute of load; the acknowledgement brings the autoscaler back; removed with the model', async () => {
  const name = 'sepsis-scaled';
  const deployment = () => json<{ spec: { replicas?: number }; status: { readyReplicas?: number } }>(['-n', ns, 'get', 'deployment', name]);
  const hpa = () => json<{ spec: Record<string, unknown>; metadata: { ownerReferences?: Array<{ kind: string; name: string }> } }>(['-n', ns, 'get', 'hpa', name]).catch(() => undefined);
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({
    apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: ns },
    spec: {
      model: { uri: 'pvc://models/sepsis/model.onnx', sha256, version: '2.0.0', labels: ['No sepsis', 'Sepsis'] },
      serving: {
        autoscaling: { minReplicas: 1, maxReplicas: 3, metric: 'requestsPerSecond', target: 5, scaleDownDelay: '30s' },
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } },
        apiKeySecretRef: { name: 'sepsis-api-keys' },
      },
      monitoring: { interval: '10s', minSamples: 200, reference: { configMapRef: { name: 'sepsis-reference', key: 'confidence.json' } } },
      escalation: { consecutiveBreaches: 1, level1: { action: 'Alert', reviewWithin: '48h' }, level2: { action: 'Pause' }, level3: { action: 'Shutdown' } },
    },
  }));
  await eventually('Serving with 1 ready pod', async () => {
    const x = await clm(name);
    return x.status?.phase === 'Serving' && x.status.readyReplicas === 1 && x.status.desiredReplicas === 1;
  }, 240_000);
  const made = await eventually('its HPA', hpa);
  expect(made.spec).toMatchObject({ minReplicas: 1, maxReplicas: 3, scaleTargetRef: { kind: 'Deployment', name } });
  expect(made.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ClinicalModel', name })]);
  // kubectl get clm: the replicas asked for and the current ones.
  const table = await cp.kubectl(['-n', ns, 'get', 'clm', name]);
  expect(table.split('\n')[0]).toMatch(/DESIRED\s+CURRENT\s+READY/);

  // Load (~30 requests a second through the ClusterIP, 5 a replica wanted): three replicas.
  const clean = mlpInputs(811, 4000);
  let release!: () => void;
  let stop = new Promise<void>((r) => (release = r));
  const t0 = Date.now();
  const first = loadThrough(name, clean, stop, 300_000);
  await eventually('3 ready replicas under load', async () => {
    const d = await deployment();
    return d.spec.replicas === 3 && d.status.readyReplicas === 3;
  }, 180_000);
  const upS = (Date.now() - t0) / 1000;
  expect((await clm(name)).status).toMatchObject({ desiredReplicas: 3, replicas: 3 });
  release();
  const served = await first;
  expect(served.ok).toBeGreaterThan(100);
  const t1 = Date.now();
  await eventually('back to 1 replica after the load', async () => (await deployment()).spec.replicas === 1, 240_000);
  const downS = (Date.now() - t1) / 1000;
  console.log(`autoscaling: 1 → 3 replicas ${upS.toFixed(0)} s after the load began; back to 1 ${downS.toFixed(0)} s after it stopped (scaleDownDelay 30s)`);

  // Drifted inputs under load: level 2 pauses the model; no autoscaler, 0 replicas however much load arrives.
  stop = new Promise<void>((r) => (release = r));
  const strong = mlpInputs(912, 4000, 2);
  const second = loadThrough(name, strong, stop, 400_000);
  await eventually('level 2 under load', async () => (await clm(name)).status?.escalation?.level === 2, 180_000);
  await eventually('0 replicas and no HPA', async () => (await deployment()).spec.replicas === 0 && (await hpa()) === undefined, 60_000);
  const paused = Date.now();
  while (Date.now() - paused < 60_000) {
    expect((await deployment()).spec.replicas).toBe(0);
    expect(await hpa()).toBeUndefined();
    await new Promise((r) => setTimeout(r, 5000));
  }
  expect((await pods(name)).filter(ready)).toHaveLength(0);
  release();
  const refused = await second;
  expect(refused.failed).toBeGreaterThan(0);

  // The reviewer's acknowledgement: the autoscaler is back and sizes the Deployment again.
  await cp.kubectl(['--as=dr-lee', '--as-group=clinical-reviewers', '--as-group=system:masters', '-n', ns, 'patch', 'clm', name, '--type=merge', '-p',
    JSON.stringify({ spec: { escalation: { acknowledgement: { reviewer: 'dr-lee', level: 2, note: 'drift reviewed under load' } } } })]);
  await eventually('the HPA back and a replica serving', async () => {
    const x = await clm(name);
    return (await hpa()) !== undefined && x.status?.phase === 'Serving' && (x.status.readyReplicas ?? 0) >= 1;
  }, 180_000);

  // Removed with the model (the garbage collector, by its owner reference).
  await cp.kubectl(['-n', ns, 'delete', 'clm', name, '--wait=false']);
  await eventually('the HPA gone with the model', async () => (await hpa()) === undefined, 120_000);
});

it('a GPU model that lands where CUDA cannot be used serves on CPU, and status says so', async () => {
  // One GPU advertised on the real node (as an administrator advertises an extended resource), so a GPU
  // model runs where a process really runs; onnxruntime finds no CUDA there and falls back to CPU.
  await cp.kubectl(['patch', 'node', NODE_NAME, '--subresource=status', '--type=json', '-p',
    JSON.stringify([{ op: 'add', path: '/status/capacity/nvidia.com~1gpu', value: '1' }])]);
  await eventually('the GPU allocatable', async () => (await json(['get', 'node', NODE_NAME])).status.allocatable['nvidia.com/gpu'] === '1');
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({
    apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name: 'sepsis-gpu', namespace: ns },
    spec: {
      model: { uri: 'pvc://models/sepsis/model.onnx', sha256, version: '2.0.0', labels: ['No sepsis', 'Sepsis'] },
      serving: { replicas: 1, allowUnauthenticated: true, gpu: { count: 1 }, nodeSelector: { [REAL_NODE_LABEL]: 'true' }, resources: { requests: { cpu: '100m' } } },
    },
  }));
  // The replica's report can reach status a pass before the Deployment's ready count does: wait for both.
  const c = await eventually('GPUAccelerated=False and Serving', async () => {
    const x = await clm('sepsis-gpu');
    return condition(x, 'GPUAccelerated')?.status === 'False' && x.status?.phase === 'Serving' ? x : undefined;
  }, 180_000);
  expect(c.status?.executionProvider).toBe('cpu');
  expect(condition(c, 'GPUAccelerated')).toMatchObject({ reason: 'CUDAUnavailable' });
  expect(condition(c, 'GPUAccelerated')!.message).toMatch(/^1 of 1 reporting replicas serve on cpu, not CUDA \(pod sepsis-gpu-/);
  await cp.kubectl(['-n', ns, 'delete', 'clm', 'sepsis-gpu']);
});

it('with kube-proxy stopped and its rules gone, a ClusterIP does not answer and its route stays on this machine', async () => {
  await cp.kubectl(['-n', ns, 'create', 'service', 'clusterip', 'probe', '--tcp=8080:8080']);
  const ip = await clusterIP('probe');
  await cp.stopComponent('kube-proxy');
  try {
    await execFileP(join(cp.binDir, 'kube-proxy'), ['--cleanup']).catch(() => undefined);
    expect(await routeDevice(ip)).toBe(SINK);
    const err = await clusterFetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(3000) }).then(() => undefined, (e: Error) => e);
    expect(err).toBeDefined();
    expect(await routeDevice('10.96.0.1')).toBe(SINK);
  } finally {
    await cp.startComponent('kube-proxy');
  }
});

it('the leader\'s pod deleted: another operator pod takes over within seconds and reconciles', async () => {
  const lease = () => json<{ spec: { holderIdentity?: string } }>(['-n', 'clinops-system', 'get', 'lease', 'clinops']);
  const operatorPods = async () => (await json<{ items: Pod[] }>(['-n', 'clinops-system', 'get', 'pods', '-l', 'app.kubernetes.io/component=operator'])).items;
  const leader = (await lease()).spec.holderIdentity!;
  expect((await operatorPods()).map((p) => p.metadata.name)).toContain(leader);
  const deleted = Date.now();
  await cp.kubectl(['-n', 'clinops-system', 'delete', 'pod', leader, '--wait=false']);
  // The leader releases the Lease as it stops; the standby replica or the Deployment's replacement pod,
  // whichever asks first, takes it.
  const next = await eventually('a new leader', async () => {
    const h = (await lease()).spec.holderIdentity;
    return h && h !== leader ? h : undefined;
  }, 60_000);
  expect(Date.now() - deleted).toBeLessThan(15_000);
  const pod = (await operatorPods()).find((p) => p.metadata.name === next);
  expect(pod?.metadata.deletionTimestamp).toBeUndefined();
  // The new leader reconciles: a new model gets its Deployment.
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(badModel('sepsis-wrong-sha', { sha256: 'b'.repeat(64) })));
  await eventually('the Deployment of a model created after the takeover', () => json(['-n', ns, 'get', 'deployment', 'sepsis-wrong-sha']), 60_000);
});

function badModel(name: string, opts: { sha256?: string; image?: string; file?: string }): object {
  return {
    apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: ns },
    spec: {
      model: { uri: `pvc://models/sepsis/${opts.file ?? 'model.onnx'}`, sha256: opts.sha256 ?? sha256, version: '2.0.0', labels: ['No sepsis', 'Sepsis'] },
      serving: { replicas: 1, allowUnauthenticated: true, ...(opts.image ? { image: opts.image, imagePullPolicy: 'Never' } : {}) },
    },
  };
}

it('acceptance gates serving: a version that passes on the holdout serves; a worse update is rejected by its Job and the accepted version keeps serving', async () => {
  const name = 'sepsis-gated';
  // A labelled holdout: the good model's decisions with one in ten flipped (seeded), as clinicians' diagnoses.
  const flip = rng(4242);
  const instances = mlpInputs(900, 300);
  const labels = instances.map((x) => {
    const sepsis = mlpForward(weights, x)[1]! > 0.5;
    return (flip() < 0.1 ? !sepsis : sepsis) ? 'Sepsis' : 'No sepsis';
  });
  // A worse version: other weights, the same shape.
  const bad = writeModel(join(modelDir, 'sepsis-bad'), 'model.onnx', mlpGraph(mlpWeights(8, 16, 2, 999)));
  chmodSync(join(modelDir, 'sepsis-bad'), 0o755);
  // The premise, computed here from the same forward pass: the threshold sits between the two models' AUROC.
  const aurocOf = (w: typeof weights) => acceptance(instances.map((x, i) => {
    const p = mlpForward(w, x);
    return { score: p[1]!, predictedPositive: p[1]! > p[0]!, actuallyPositive: labels[i] === 'Sepsis' };
  }), 'Sepsis').metrics.find((m) => m.name === 'auroc')!.value;
  const good = aurocOf(weights);
  const worse = aurocOf(mlpWeights(8, 16, 2, 999));
  expect(good - worse).toBeGreaterThan(0.15);
  const minAuroc = Number(((good + worse) / 2).toFixed(3));
  await cp.kubectl(['-n', ns, 'create', 'configmap', 'gate-holdout', `--from-literal=holdout.json=${JSON.stringify({ instances, labels })}`]);
  const spec = (uri: string, sha: string, version: string) => ({
    apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: ns },
    spec: {
      model: { uri, sha256: sha, version, labels: ['No sepsis', 'Sepsis'] },
      serving: { replicas: 1, allowUnauthenticated: true, resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } } },
      acceptance: { holdout: { configMapRef: { name: 'gate-holdout' } }, minAuroc, minSensitivity: 0, maxEce: 1 },
    },
  });
  const applied = Date.now();
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(spec('pvc://models/sepsis/model.onnx', sha256, '1.0.0')));
  const explain = async (err: unknown) => {
    const x = await clm(name);
    const jobPods = await cp.kubectl(['-n', ns, 'get', 'pods', '-l', `clinops.dev/acceptance-of=${name}`, '-o', 'wide']).catch((e: Error) => e.message);
    throw new Error(`${(err as Error).message}; phase ${x.status?.phase}, acceptance ${JSON.stringify(x.status?.acceptance)}, ` +
      `conditions ${JSON.stringify(x.status?.conditions)}; events ${JSON.stringify((await events(name)).map((e) => e.message))}; job pods:\n${jobPods}`);
  };
  const passed = await eventually('accepted and Serving', async () => {
    const x = await clm(name);
    return x.status?.phase === 'Serving' && x.status.acceptance?.accepted?.sha256 === sha256 ? x : undefined;
  }, 120_000).catch(explain);
  const toServe = (Date.now() - applied) / 1000;
  expect(passed.status?.acceptance?.candidate).toMatchObject({ state: 'Passed', cases: 300, holdout: { source: 'ConfigMap gate-holdout key holdout.json' } });
  expect(passed.status?.acceptance?.candidate?.metrics?.auroc).toBeCloseTo(good, 4);
  const started = Date.parse(passed.status!.acceptance!.candidate!.startedAt!);
  const finished = Date.parse(passed.status!.acceptance!.candidate!.finishedAt!);
  process.stdout.write(`acceptance: Job ${(finished - started) / 1000} s; applied → serving ${toServe.toFixed(1)} s\n`);
  expect(condition(passed, 'Accepted')).toMatchObject({ status: 'True', reason: 'Passed' });

  // The worse version: its Job fails it; the accepted version keeps serving, and kubectl says so. The
  // operator's leader is deleted while the Job runs: the next leader reads the same Job, nothing repeated.
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(spec('pvc://models/sepsis-bad/model.onnx', bad.sha256, '2.0.0')));
  // The candidate's Job, recorded by its uid in status (the only Job believed for it).
  await eventually('the candidate\'s Job recorded', async () => {
    const c = (await clm(name)).status?.acceptance?.candidate;
    return c?.sha256 === bad.sha256 && c.jobUid ? c : undefined;
  }, 60_000);
  const leader = (await json<{ spec: { holderIdentity: string } }>(['-n', 'clinops-system', 'get', 'lease', 'clinops'])).spec.holderIdentity;
  await cp.kubectl(['-n', 'clinops-system', 'delete', 'pod', leader, '--wait=false']);
  const rejected = await eventually('the update rejected', async () => {
    const x = await clm(name);
    return x.status?.acceptance?.candidate?.sha256 === bad.sha256 && x.status.acceptance.candidate.state === 'Failed' ? x : undefined;
  }, 120_000).catch(explain);
  expect(rejected.status?.acceptance?.candidate?.failures?.[0]).toMatch(new RegExp(`^auroc 0\\.\\d+ < ${minAuroc}$`));
  expect(condition(rejected, 'Accepted')).toMatchObject({ status: 'False', reason: 'Rejected' });
  expect(condition(rejected, 'Accepted')!.message).toContain(`version 1.0.0 (sha256 ${sha256.slice(0, 12)}…) keeps serving`);
  const serving = await eventually('Serving 1.0.0', async () => {
    const x = await clm(name);
    return x.status?.phase === 'Serving' ? x : undefined;
  }, 60_000);
  expect(serving.status?.acceptance?.accepted?.version).toBe('1.0.0');
  const deploy = await json<any>(['-n', ns, 'get', 'deployment', name]); // eslint-disable-line @typescript-eslint/no-explicit-any
  const env = deploy.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>;
  expect(env.find((e) => e.name === 'CLINOPS_MODEL_SHA256')!.value).toBe(sha256);
  const wide = await cp.kubectl(['-n', ns, 'get', 'clm', name, '-o', 'wide']);
  expect(wide).toMatch(/ACCEPTED\s+CANDIDATE/);
  expect(wide).toMatch(/Serving.*2\.0\.0\s+1\.0\.0\s+Failed/);
  const described = await cp.kubectl(['-n', ns, 'describe', 'clm', name]);
  expect(described).toContain('failed acceptance: auroc');
  expect((await events(name)).map((e) => e.reason)).toEqual(expect.arrayContaining(['AcceptanceStarted', 'Accepted', 'Rejected']));
  // One Job per version, one verdict each, through the change of leader.
  const jobs = await json<{ items: Array<{ metadata: { name: string; uid: string } }> }>(['-n', ns, 'get', 'jobs', '-l', `clinops.dev/acceptance-of=${name}`]);
  expect(jobs.items.map((j) => j.metadata.name.replace(/-[a-z0-9]{5}$/, '')).sort()).toEqual([`${name}-accept-${bad.sha256.slice(0, 10)}`, `${name}-accept-${sha256.slice(0, 10)}`].sort());
  expect(jobs.items.map((j) => j.metadata.uid)).toContain(rejected.status?.acceptance?.candidate?.jobUid);
  const evs = await json<{ items: Array<{ reason: string; count?: number; message: string }> }>(['-n', ns, 'get', 'events',
    '--field-selector', `involvedObject.name=${name},involvedObject.kind=ClinicalModel`]);
  const once = (reason: string, version: string) => evs.items.filter((e) => e.reason === reason && e.message.includes(`version ${version}`))
    .reduce((n, e) => n + (e.count ?? 1), 0);
  expect([once('AcceptanceStarted', '2.0.0'), once('Rejected', '2.0.0'), once('Accepted', '1.0.0')]).toEqual([1, 1, 1]);
});

it('rolls a new version out in shadow, then as a canary behind the one Service, then promotes it (the operator\'s leader deleted mid-canary); a worse one is rolled back in shadow while the version before serves', async () => {
  const name = 'sepsis-rollout';
  // 1.1.0: the same weights nudged by 1e-4 (the same decisions); 2.0.0: other weights of the same shape.
  const nudged = { ...weights, w1: weights.w1.map((v) => v + 1e-4) };
  const worse = mlpWeights(8, 16, 2, 4711);
  const v11 = writeModel(join(modelDir, 'rollout-1.1'), 'model.onnx', mlpGraph(nudged));
  const v20 = writeModel(join(modelDir, 'rollout-2.0'), 'model.onnx', mlpGraph(worse));
  for (const d of ['rollout-1.1', 'rollout-2.0']) chmodSync(join(modelDir, d), 0o755);
  const xs = mlpInputs(77, 120);
  const label = (w: typeof weights, x: number[]) => { const p = mlpForward(w, x); return p[1]! > p[0]! ? 1 : 0; };
  // The premise, from the same forward pass: 1.1.0 decides as 1.0.0 does; 2.0.0 differs on over a fifth.
  expect(xs.filter((x) => label(nudged, x) !== label(weights, x))).toHaveLength(0);
  expect(xs.filter((x) => label(worse, x) !== label(weights, x)).length / xs.length).toBeGreaterThan(0.2);
  const spec = (dir: string, sha: string, version: string) => ({
    apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: ns },
    spec: {
      model: { uri: `pvc://models/${dir}/model.onnx`, sha256: sha, version, labels: ['No sepsis', 'Sepsis'] },
      serving: { replicas: 1, apiKeySecretRef: { name: 'sepsis-api-keys' }, resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } } },
      rollout: { shadow: { requests: 100 }, canary: { replicas: 1, duration: '30s' } },
    },
  });
  const apply = (o: object) => cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(o));
  const explain = async (err: unknown) => {
    const x = await clm(name);
    const cand = await cp.kubectl(['-n', ns, 'get', 'pods', '-l', `clinops.dev/candidate-of=${name}`, '-o', 'wide']).catch((e: Error) => e.message);
    throw new Error(`${(err as Error).message}; phase ${x.status?.phase}, rollout ${JSON.stringify(x.status?.rollout)}, ` +
      `events ${JSON.stringify((await events(name)).map((e) => e.message))}; candidate pods:\n${cand}`);
  };
  const candidatePods = async () => (await json<{ items: Array<Pod & { metadata: { labels: Record<string, string> } }> }>(['-n', ns, 'get', 'pods', '-l', `clinops.dev/candidate-of=${name}`])).items;
  const endpointIPs = async () => ((await json<{ subsets?: Array<{ addresses?: Array<{ ip: string }> }> }>(['-n', ns, 'get', 'endpoints', name])).subsets ?? [])
    .flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
  const servedSha = async () => ((await json<any>(['-n', ns, 'get', 'deployment', name])).spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>) // eslint-disable-line @typescript-eslint/no-explicit-any
    .find((e) => e.name === 'CLINOPS_MODEL_SHA256')!.value;
  const send = async () => {
    const url = `http://${await clusterIP(name)}:8080/v1/models/${name}/predict`;
    for (let i = 0; i < xs.length; i += 20) {
      const res = await clusterFetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY }, body: JSON.stringify({ instances: xs.slice(i, i + 20) }) });
      expect(res.status).toBe(200);
    }
  };
  const inShadow = async (sha: string) => eventually('the candidate in shadow, its pod ready', async () => {
    const x = await clm(name);
    const ps = (await candidatePods()).filter(ready);
    return x.status?.rollout?.sha256 === sha && x.status.rollout.step === 'Shadow' && ps.length === 1 ? ps[0] : undefined;
  }, 120_000).catch(explain);

  // The first version serves at once: there is nothing to roll out beside.
  await apply(spec('sepsis', sha256, '1.0.0'));
  await eventually('1.0.0 serving', async () => {
    const x = await clm(name);
    return x.status?.phase === 'Serving' && x.status.acceptance?.accepted?.sha256 === sha256 ? x : undefined;
  }, 120_000).catch(explain);

  // 1.1.0 in shadow: its pod is outside the Service; the serving pod copies each prediction to it.
  const applied = Date.now();
  await apply(spec('rollout-1.1', v11.sha256, '1.1.0'));
  const shadowPod = await inShadow(v11.sha256);
  const shadowReady = (Date.now() - applied) / 1000;
  expect(shadowPod.metadata.labels['app.kubernetes.io/instance']).toBeUndefined();
  expect(await endpointIPs()).not.toContain(shadowPod.status.podIP);
  await assertLocalRoute(shadowPod.status.podIP!);
  // The status says Shadow once the candidate's pod is ready; the operator tells the serving pod where to
  // copy at its next pass. Predictions sent before that are not copied: wait for the serving pod to say so.
  const key = Buffer.from((await json<{ data: { key: string } }>(['-n', ns, 'get', 'secret', `${name}-monitoring`])).data.key, 'base64').toString('utf8');
  await eventually('the serving pod copying to the candidate', async () => {
    const serving = (await pods(name)).filter((p) => ready(p) && !p.metadata.deletionTimestamp);
    if (serving.length === 0) return false;
    const reports = await Promise.all(serving.map(async (p) => (await (await clusterFetch(`http://${p.status.podIP}:8081/v1/monitoring/shadow`, { headers: { authorization: `Bearer ${key}` } })).json()) as { active?: boolean }));
    return reports.every((r) => r.active === true);
  }, 60_000).catch(explain);
  await send();
  const canary = await eventually('the shadow passed: a canary', async () => {
    const x = await clm(name);
    return x.status?.rollout?.step === 'Canary' ? x : undefined;
  }, 90_000).catch(explain);
  const shadowDone = (Date.now() - applied) / 1000;
  // Judged once 100 were compared: the check may come before the last copies are.
  expect(canary.status?.rollout?.shadow).toMatchObject({ agreement: 1, labelRateDifference: 0, failed: 0 });
  expect(canary.status!.rollout!.shadow!.compared).toBeGreaterThanOrEqual(100);
  expect(canary.status!.rollout!.shadow!.compared).toBeLessThanOrEqual(120);
  expect(canary.status?.rollout?.shadow?.confidenceDifference).toBeLessThan(0.01);
  expect(await servedSha()).toBe(sha256);
  // As a canary its pod joins the Service beside the serving one. Then the operator's leader goes.
  const canaryPod = await eventually('the canary behind the Service', async () => {
    const p = (await candidatePods()).filter((c) => ready(c) && c.metadata.labels['app.kubernetes.io/instance'] === name);
    return p.length === 1 && (await endpointIPs()).includes(p[0]!.status.podIP!) ? p[0] : undefined;
  }, 90_000).catch(explain);
  expect((await endpointIPs()).length).toBe(2);
  expect(canaryPod.metadata.name).not.toBe(shadowPod.metadata.name);
  const leader = (await json<{ spec: { holderIdentity: string } }>(['-n', 'clinops-system', 'get', 'lease', 'clinops'])).spec.holderIdentity;
  await cp.kubectl(['-n', 'clinops-system', 'delete', 'pod', leader, '--wait=false']);
  const promoted = await eventually('1.1.0 promoted', async () => {
    const x = await clm(name);
    return x.status?.rollout?.step === 'Promoted' ? x : undefined;
  }, 180_000).catch(explain);
  const toServe = (Date.now() - applied) / 1000;
  expect(promoted.status?.acceptance?.accepted).toMatchObject({ sha256: v11.sha256, version: '1.1.0', promotedAt: expect.any(String) });
  expect(promoted.status?.rollout?.history).toEqual([expect.objectContaining({ sha256: v11.sha256, outcome: 'Promoted' })]);
  expect(condition(promoted, 'RolledOut')).toMatchObject({ status: 'True', reason: 'Promoted' });
  expect(await servedSha()).toBe(v11.sha256);
  await eventually('the candidate Deployment gone', async () => (await cp.kubectl(['-n', ns, 'get', 'deployments', '-o', 'name'])).includes(`${name}-candidate`) ? undefined : true, 60_000);
  const r = promoted.status!.rollout!;
  process.stdout.write(`rollout: applied → candidate ready in shadow ${shadowReady.toFixed(1)} s → shadow passed (≥ 100 of 120 predictions compared) ${shadowDone.toFixed(1)} s → ` +
    `promoted ${toServe.toFixed(1)} s (canary 30 s; status: started ${r.startedAt}, finished ${r.finishedAt})\n`);
  const evs = await json<{ items: Array<{ reason: string; count?: number; message: string }> }>(['-n', ns, 'get', 'events',
    '--field-selector', `involvedObject.name=${name},involvedObject.kind=ClinicalModel`]);
  const count = (reason: string) => evs.items.filter((e) => e.reason === reason && e.message.includes('version 1.1.0')).reduce((n, e) => n + (e.count ?? 1), 0);
  // Through the change of leader: each step once.
  expect(['RolloutStarted', 'ShadowPassed', 'Promoting', 'Promoted'].map(count)).toEqual([1, 1, 1, 1]);

  // 2.0.0 disagrees with the serving version in shadow: rolled back; 1.1.0 never stopped serving.
  await apply(spec('rollout-2.0', v20.sha256, '2.0.0'));
  await inShadow(v20.sha256);
  await send();
  const back = await eventually('2.0.0 rolled back', async () => {
    const x = await clm(name);
    return x.status?.rollout?.sha256 === v20.sha256 && x.status.rollout.step === 'RolledBack' ? x : undefined;
  }, 90_000).catch(explain);
  expect(back.status?.rollout?.message).toMatch(/^version 2\.0\.0 rolled back in shadow: labels differ on \d+(\.\d+)?% of 1\d\d predictions \(at most 10%\).*; version 1\.1\.0 keeps serving$/);
  expect(back.status?.phase).toBe('Serving');
  expect(await servedSha()).toBe(v11.sha256);
  await eventually('the candidate Deployment gone', async () => (await cp.kubectl(['-n', ns, 'get', 'deployments', '-o', 'name'])).includes(`${name}-candidate`) ? undefined : true, 60_000);
  const wide = await cp.kubectl(['-n', ns, 'get', 'clm', name, '-o', 'wide']);
  expect(wide).toMatch(/ROLLOUT/);
  expect(wide).toMatch(/Serving.*2\.0\.0\s+1\.1\.0\s+\S*\s*RolledBack/);
  const described = await cp.kubectl(['-n', ns, 'describe', 'clm', name]);
  expect(described).toContain('rolled back in shadow: labels differ');
  expect(described).toMatch(/Promoted\s+.*version 1\.1\.0 promoted/);
});

it('serves HTTPS with the certificate of its Secret: probes, the Service and the operator\'s own reads verified against the Secret\'s CA', async () => {
  const name = 'sepsis-tls';
  // A CA made here and a certificate it signed for the model's Service name (the operator reaches pods by IP and checks that name).
  const dir = join(cp.dir, 'tls');
  mkdirSync(dir, { recursive: true });
  const ossl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-subj', '/CN=hospital test CA', '-days', '1']);
  ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.csr'), '-subj', `/CN=${name}`]);
  writeFileSync(join(dir, 'ext'), `subjectAltName=DNS:${name}.${ns}.svc,DNS:${name}.${ns}.svc.cluster.local\n`);
  ossl(['x509', '-req', '-in', join(dir, 'tls.csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', join(dir, 'tls.crt'), '-days', '1', '-extfile', join(dir, 'ext')]);
  const ca = readFileSync(join(dir, 'ca.crt'));
  await cp.kubectl(['-n', ns, 'create', 'secret', 'generic', `${name}-cert`, '--type=kubernetes.io/tls',
    `--from-file=tls.crt=${join(dir, 'tls.crt')}`, `--from-file=tls.key=${join(dir, 'tls.key')}`, `--from-file=ca.crt=${join(dir, 'ca.crt')}`]);
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({
    apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: ns },
    spec: {
      model: { uri: 'pvc://models/sepsis/model.onnx', sha256, version: '2.0.0', labels: ['No sepsis', 'Sepsis'] },
      serving: { replicas: 1, tls: { secretRef: { name: `${name}-cert` } }, apiKeySecretRef: { name: 'sepsis-api-keys' },
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } } },
      monitoring: { interval: '10s', minSamples: 50, reference: { configMapRef: { name: 'sepsis-reference', key: 'confidence.json' } } },
    },
  }));
  const serving = await eventually('Serving over HTTPS (its probes pass)', async () => {
    const x = await clm(name);
    return x.status?.phase === 'Serving' ? x : undefined;
  }, 180_000);
  expect(serving.status?.endpoint).toBe(`https://${name}.${ns}.svc:8080`);
  const svc = await json<{ spec: { clusterIP: string; ports: Array<{ name: string; appProtocol?: string }> } }>(['-n', ns, 'get', 'service', name]);
  expect(svc.spec.ports[0]).toMatchObject({ name: 'https', appProtocol: 'https' });
  // Through the ClusterIP over HTTPS, verified against the CA for the Service's name; plain HTTP gets nothing.
  await assertLocalRoute(svc.spec.clusterIP);
  const post = (body: string) => new Promise<{ status: number; cn: string; body: string }>((resolve, reject) => {
    const req = httpsRequest({ host: svc.spec.clusterIP, port: 8080, path: `/v1/models/${name}/predict`, method: 'POST', ca, servername: `${name}.${ns}.svc`,
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'content-length': Buffer.byteLength(body) }, timeout: 10_000, agent: false }, (res) => {
      // Read while the socket is the response's (a kept-alive one goes back to its pool at the end).
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN);
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cn, body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.end(body);
  });
  // kube-proxy programs the ClusterIP once the endpoint slice names the ready pod, a moment after Serving.
  const xs = mlpInputs(31, 80);
  const first = await eventually('the first prediction over HTTPS through the ClusterIP', () => post(JSON.stringify({ instances: xs.slice(0, 20) })).catch(() => undefined), 30_000);
  expect(first).toMatchObject({ status: 200, cn: name });
  for (let i = 20; i < xs.length; i += 20) {
    const r = await post(JSON.stringify({ instances: xs.slice(i, i + 20) }));
    expect(r).toMatchObject({ status: 200, cn: name });
  }
  await expect(clusterFetch(`http://${svc.spec.clusterIP}:8080/health/live`, { signal: AbortSignal.timeout(3000) }).then((r) => r.status)).rejects.toThrow();
  // The operator read the pod's window over HTTPS: a check with the 80 predictions, from one replica.
  const checked = await eventually('a drift check that read the replica over HTTPS', async () => {
    const x = await clm(name);
    return (x.status?.drift?.samples ?? 0) >= 50 ? x : undefined;
  }, 90_000);
  expect(checked.status?.drift).toMatchObject({ replicasRead: 1 });
  expect(checked.status?.drift?.message ?? '').not.toMatch(/unreadable/);
});

it('a PACS in the workflow: a study storescu sends to Orthanc reaches the model\'s pods, and its SR comes back into the study; a re-sent study makes no second SR, a CT is ignored, status counts each; paused, the model takes a study and sends its SR only after the acknowledgement', async () => {
  // Debian's Orthanc on this machine (its HTTP port open to the pods' bridge, with a password; a guard
  // drops anything else), forwarding what modalities store to the model's Service by STOW-RS.
  const studies = join(cp.dir, 'studies');
  const python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'test'], { encoding: 'utf8' }).trim();
  execFileSync(python, [join(repoRoot, 'hack', 'python', 'pacs_fixtures.py'), studies]);
  const fixtures = JSON.parse(readFileSync(join(studies, 'fixtures.json'), 'utf8')) as Record<string, { uids: { study: string; instance: string }; phi: string[] }>;
  const pacs = await startPacs({ dir: join(cp.dir, 'orthanc'), forwardTo: ['pneumonia'], podBridge: POD_BRIDGE });
  try {
    const cnn = writeModel(join(modelDir, 'pacs'), 'model.onnx', cnnGraph(cnnWeights(SMALL_CNN_SIZE, SMALL_CNN), 'cnn-small'));
    chmodSync(join(modelDir, 'pacs'), 0o755);
    const name = 'pneumonia-pacs';
    // Its confidences' reference lies below any two-label confidence (≥ 0.5): twenty predictions drift, significantly.
    const reference = Array.from({ length: 200 }, (_, i) => 0.2 + (i % 100) / 500);
    await cp.kubectl(['-n', ns, 'create', 'configmap', 'pacs-reference', `--from-literal=confidence.json=${JSON.stringify(reference)}`]);
    await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pacs-destination', namespace: ns }, stringData: { username: pacs.user.username, password: pacs.user.password } },
        {
          apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: ns },
          spec: {
            model: { uri: 'pvc://models/pacs/model.onnx', sha256: cnn.sha256, version: '1.0.0', labels: ['Normal', 'Pneumonia'],
              preprocessing: { image: { width: SMALL_CNN_SIZE, height: SMALL_CNN_SIZE, channels: 1, mean: [0.485], std: [0.229] } } },
            serving: { replicas: 1, apiKeySecretRef: { name: 'sepsis-api-keys' }, nodeSelector: { [REAL_NODE_LABEL]: 'true' }, resources: { requests: { cpu: '100m' } } },
            integration: { dicom: {
              accept: { modalities: ['CR', 'DX'], bodyParts: ['CHEST'] },
              destination: { url: `http://${NODE_IP}:${new URL(pacs.http).port}/dicom-web`, credentialsSecretRef: { name: 'pacs-destination' } },
            } },
            monitoring: { interval: '10s', minSamples: 20, reference: { configMapRef: { name: 'pacs-reference', key: 'confidence.json' } } },
            escalation: { consecutiveBreaches: 1 },
          },
        },
      ],
    }));
    await eventually('the PACS model Serving', async () => (await clm(name)).status?.phase === 'Serving', 180_000);
    const ip = await clusterIP(name);
    await assertLocalRoute(ip);
    // The router's side: Orthanc knows the model's Service as a DICOMweb server, with the API key.
    await pacs.defineServer('pneumonia', `http://${ip}:8080/dicomweb`, { 'x-api-key': API_KEY });

    const cr = fixtures['cr.dcm']!;
    const started = Date.now();
    await storescu(pacs, [join(studies, 'cr.dcm')]);
    const series = await eventually('the SR in the study at Orthanc', async () => {
      const s = (await pacs.get(`/dicom-web/studies/${cr.uids.study}/series?Modality=SR`)) as Array<Record<string, { Value: string[] }>>;
      return s.length > 0 ? s : undefined;
    }, 60_000);
    const elapsed = Date.now() - started;
    expect(series).toHaveLength(1);
    expect(series[0]!['0008103E']!.Value[0]).toBe('AI result: pneumonia-pacs 1.0.0');
    // The SR's finding and probability are what the model answers through its Service for the same file.
    const seriesUid = series[0]!['0020000E']!.Value[0]!;
    const [instance] = (await pacs.get(`/dicom-web/studies/${cr.uids.study}/series/${seriesUid}/instances`)) as Array<Record<string, { Value: string[] }>>;
    const srTags = (await pacs.get(`/dicom-web/studies/${cr.uids.study}/series/${seriesUid}/instances/${instance!['00080018']!.Value[0]}/metadata`)) as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const finding = srTags[0]!['0040A730'].Value.find((i: any) => i['0040A040'].Value[0] === 'CONTAINER')['0040A730'].Value[0]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const probability = Number(finding['0040A730'].Value.find((i: any) => i['0040A040'].Value[0] === 'NUM')['0040A300'].Value[0]['0040A30A'].Value[0]); // eslint-disable-line @typescript-eslint/no-explicit-any
    const direct = await clusterFetch(`http://${ip}:8080/v1/models/${name}/predict`, { method: 'POST', headers: { 'content-type': 'application/dicom', 'x-api-key': API_KEY }, body: readFileSync(join(studies, 'cr.dcm')) });
    const p = ((await direct.json()) as { predictions: Array<{ label: string; probabilities: Record<string, number> }> }).predictions[0]!;
    expect(finding['0040A168'].Value[0]['00080104'].Value[0]).toBe(p.label);
    expect(probability).toBeCloseTo(p.probabilities[p.label]!, 5);
    // The SR as Orthanc returns it (WADO-RS): a Comprehensive SR that highdicom reads, naming the model, its
    // version and sha256; dcmtk's dsrdump reads it and dicom3tools' dciodvfy finds no error in it.
    const wado = await fetch(`${pacs.dicomweb}/studies/${cr.uids.study}/series/${seriesUid}/instances/${instance!['00080018']!.Value[0]}`, {
      headers: { authorization: `Basic ${Buffer.from(`${pacs.user.username}:${pacs.user.password}`).toString('base64')}`, accept: 'multipart/related; type="application/dicom"' },
    });
    expect(wado.status).toBe(200);
    const multipart = Buffer.from(await wado.arrayBuffer());
    const srFile = join(studies, 'sr-from-pod.dcm');
    writeFileSync(srFile, multipart.subarray(multipart.indexOf('\r\n\r\n') + 4, multipart.lastIndexOf(Buffer.from('\r\n--'))));
    const sr = JSON.parse(execFileSync(python, [join(repoRoot, 'hack', 'python', 'sr_check.py'), srFile], { encoding: 'utf8' })) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(sr).toMatchObject({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.88.33', modality: 'SR', study: cr.uids.study, observer: 'Device', finding: p.label, references: cr.uids.instance,
      text: { 'Algorithm Name': name, 'Algorithm Version': '1.0.0', 'Algorithm Parameters': `sha256 ${cnn.sha256}` },
    });
    expect(sr.probability).toBeCloseTo(p.probabilities[p.label]!, 5);
    expect((await promisify(execFile)('dsrdump', [srFile])).stdout).toContain('Comprehensive SR Document');
    const verify = await promisify(execFile)('dciodvfy', [srFile]).then((r) => r.stdout + r.stderr, (e: { stdout: string; stderr: string }) => e.stdout + e.stderr);
    expect(verify.split('\n').filter((l) => l.startsWith('Error'))).toEqual([]);

    // Sent again, with a CT study: acknowledged; no second SR, the CT not the model's; status counts both.
    await storescu(pacs, [join(studies, 'cr.dcm'), join(studies, 'ct.dcm')]);
    const counted = await eventually('status.integration.dicom', async () => {
      const d = (await clm(name)).status?.integration?.dicom;
      return d && d.duplicate === 1 && d.ignored === 1 ? d : undefined;
    }, 60_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; status ${JSON.stringify((await clm(name)).status)}`);
    });
    expect(counted).toMatchObject({ received: 3, inferred: 1, delivered: 1, duplicate: 1, ignored: 1, failed: 0, pending: 0, replicasRead: 1 });
    expect(await pacs.get(`/dicom-web/studies/${cr.uids.study}/series?Modality=SR`)).toHaveLength(1);
    expect(await pacs.get(`/dicom-web/studies/${fixtures['ct.dcm']!.uids.study}/series?Modality=SR`)).toHaveLength(0);

    // The destination down: a study a router still holds, sent on to the model's Service, waits in the pod
    // (status: pending, and why); once Orthanc is back, its SR is there — nothing lost.
    const third = fixtures['cr-3.dcm']!;
    await pacs.pause();
    const boundary = 'pods-boundary';
    const stow = await clusterFetch(`http://${ip}:8080/dicomweb/studies`, {
      method: 'POST', headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, 'x-api-key': API_KEY },
      body: Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), readFileSync(join(studies, 'cr-3.dcm')), Buffer.from(`\r\n--${boundary}--\r\n`)]),
    });
    expect(stow.status).toBe(200);
    const down = await eventually('status: one SR pending, the destination unreachable', async () => {
      const d = (await clm(name)).status?.integration?.dicom;
      return d?.pending === 1 && /delivery attempt \d+ failed/.test(d.lastFailure ?? '') ? d : undefined;
    }, 60_000);
    expect(down).toMatchObject({ delivered: 1, failed: 0 });
    await pacs.resume();
    // Orthanc keeps servers defined over its REST API in memory: the router's side again.
    await pacs.defineServer('pneumonia', `http://${ip}:8080/dicomweb`, { 'x-api-key': API_KEY });
    await eventually('the SR in Orthanc once it is back', async () => ((await pacs.get(`/dicom-web/studies/${third.uids.study}/series?Modality=SR`)) as unknown[]).length === 1, 120_000);
    await eventually('status: delivered, nothing pending', async () => {
      const d = (await clm(name)).status?.integration?.dicom;
      return d?.delivered === 2 && d.pending === 0;
    }, 60_000);
    // No patient attribute in the model's status, its Events or its pod's log.
    const podName = (await pods(name))[0]!.metadata.name;
    const seen = [JSON.stringify(await clm(name)), JSON.stringify(await events(name)), await cp.kubectl(['-n', ns, 'logs', podName])].join('\n');
    for (const value of Object.values(fixtures).flatMap((f) => f.phi)) expect(seen.includes(value)).toBe(false);
    console.log(`pods: storescu → Orthanc → the model's pod → SR in Orthanc's study in ${elapsed} ms`);

    // Paused (level 2, by drift on its confidences): one replica stays, held — it takes the next study and
    // sends no SR, answers no prediction — and status says how many wait; the acknowledgement releases it.
    const predictCr = () => clusterFetch(`http://${ip}:8080/v1/models/${name}/predict`, { method: 'POST', headers: { 'content-type': 'application/dicom', 'x-api-key': API_KEY }, body: readFileSync(join(studies, 'cr.dcm')) });
    for (let i = 0; i < 20; i++) expect((await predictCr()).status).toBe(200);
    const paused = await eventually('Paused at level 2 with one replica held', async () => {
      const x = await clm(name);
      return x.status?.phase === 'Paused' && x.status.escalation?.level === 2 && x.status.integration?.dicom?.heldReplicas === 1 ? x : undefined;
    }, 120_000);
    expect(condition(paused, 'Ready')!.message).toContain('one replica holds the studies the PACS sends');
    expect((await pods(name)).filter(ready)).toHaveLength(1);
    const refused = await predictCr();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'HELD' });
    const second = fixtures['cr-2.dcm']!;
    await storescu(pacs, [join(studies, 'cr-2.dcm')]);
    const waiting = await eventually('status: one study waits', async () => {
      const d = (await clm(name)).status?.integration?.dicom;
      return d?.waiting === 1 ? d : undefined;
    }, 60_000);
    expect(waiting).toMatchObject({ heldReplicas: 1, delivered: 2, pending: 0 });
    expect(await pacs.get(`/dicom-web/studies/${second.uids.study}/series?Modality=SR`)).toHaveLength(0);
    await cp.kubectl(['--as=dr-lee', '--as-group=clinical-reviewers', '--as-group=system:masters', '-n', ns, 'patch', 'clm', name, '--type=merge', '-p',
      JSON.stringify({ spec: { escalation: { acknowledgement: { reviewer: 'dr-lee', level: 2, note: 'confidences reviewed against the reference' } } } })]);
    await eventually('the SR of the study that waited, after the acknowledgement', async () =>
      ((await pacs.get(`/dicom-web/studies/${second.uids.study}/series?Modality=SR`)) as unknown[]).length === 1, 60_000);
    const released = await eventually('status: nothing waits, nothing held', async () => {
      const d = (await clm(name)).status?.integration?.dicom;
      return d?.waiting === 0 && d.heldReplicas === 0 && d.delivered === 3 ? d : undefined;
    }, 60_000);
    expect(released.failed).toBe(0);
    expect((await clm(name)).status?.phase).toBe('Serving');
    await cp.kubectl(['-n', ns, 'delete', 'clm', name]);
  } finally {
    await pacs.stop();
  }
});

it('a model from S3-compatible storage (MinIO): a wrong secret key is named in status and nothing serves; the rotated Secret is used by the next pod, which serves', async () => {
  const store = await startObjectStore({ dir: join(cp.dir, 'minio'), podBridge: POD_BRIDGE });
  try {
    await store.put('models', 'sepsis/2.0.0/model.onnx', readFileSync(join(modelDir, 'sepsis', 'model.onnx')));
    const name = 'sepsis-s3';
    const secret = (secretAccessKey: string) => ({
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'models-s3', namespace: ns },
      stringData: { accessKeyId: store.accessKeyId, secretAccessKey, endpoint: `http://${NODE_IP}:${store.port}`, region: 'us-east-1' },
    });
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [secret(wrong), {
      apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: ns },
      spec: {
        model: { uri: 's3://models/sepsis/2.0.0/model.onnx', credentialsSecretRef: { name: 'models-s3' }, sha256, version: '2.0.0', labels: ['No sepsis', 'Sepsis'] },
        serving: { replicas: 1, apiKeySecretRef: { name: 'sepsis-api-keys' }, nodeSelector: { [REAL_NODE_LABEL]: 'true' }, resources: { requests: { cpu: '100m' } } },
      },
    }] }));
    // The wrong secret key: the init container says so, status names it, nothing serves.
    const refused = await eventually('ArtifactVerified=False (CredentialsRejected)', async () => {
      const x = await clm(name);
      return condition(x, 'ArtifactVerified')?.reason === 'CredentialsRejected' ? x : undefined;
    }, 180_000);
    expect(condition(refused, 'ArtifactVerified')!.message).toMatch(/^CredentialsRejected: s3:\/\/models\/sepsis\/2\.0\.0\/model\.onnx: the store refused the credentials/);
    expect(refused.status?.readyReplicas ?? 0).toBe(0);
    // No credential in the pod spec, the model's status or its Events.
    const [failing] = await pods(name);
    const seen = [JSON.stringify(failing!.spec), JSON.stringify(await clm(name)), JSON.stringify(await events(name))].join('\n');
    for (const value of [wrong, store.secretAccessKey, store.accessKeyId]) expect(seen.includes(value)).toBe(false);
    // Rotated: the next pod reads the Secret as it is now, fetches, verifies and serves.
    await cp.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(secret(store.secretAccessKey)));
    await cp.kubectl(['-n', ns, 'delete', 'pod', failing!.metadata.name, '--wait=false']);
    const serving = await eventually('Serving from S3', async () => {
      const x = await clm(name);
      return x.status?.phase === 'Serving' ? x : undefined;
    }, 180_000);
    expect(condition(serving, 'ArtifactVerified')).toMatchObject({ status: 'True', reason: 'VerifiedByServer' });
    const ip = await clusterIP(name);
    await assertLocalRoute(ip);
    const res = await clusterFetch(`http://${ip}:8080/v1/models/${name}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY }, body: JSON.stringify({ instances: mlpInputs(5, 2) }) });
    expect(res.status).toBe(200);
    await cp.kubectl(['-n', ns, 'delete', 'clm', name]);
  } finally {
    await store.stop();
  }
});

it('a wrong sha256 is named in status, from what the server said as it exited', async () => {
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(badModel('sepsis-wrong-sha', { sha256: 'b'.repeat(64) })));
  const c = await eventually('ArtifactVerified=False', async () => {
    const x = await clm('sepsis-wrong-sha');
    return condition(x, 'ArtifactVerified')?.status === 'False' ? x : undefined;
  }, 120_000);
  expect(condition(c, 'ArtifactVerified')).toMatchObject({ reason: 'DigestMismatch' });
  expect(condition(c, 'ArtifactVerified')!.message).toContain(`is ${sha256}, expected ${'b'.repeat(64)}`);
  expect(c.status?.readyReplicas ?? 0).toBe(0);
  // After the second exit the kubelet backs off: the Ready condition and an Event name it.
  const c2 = await eventually('CrashLoopBackOff in Ready', async () => {
    const x = await clm('sepsis-wrong-sha');
    return condition(x, 'Ready')?.reason === 'CrashLoopBackOff' ? x : undefined;
  }, 120_000);
  expect(condition(c2, 'Ready')!.message).toContain('DigestMismatch');
  await eventually('a CrashLoopBackOff Event', async () => (await events('sepsis-wrong-sha')).some((e) => e.type === 'Warning' && e.reason === 'CrashLoopBackOff'));
});

it('a model the server cannot load crash-loops, and says why', async () => {
  const file = join(modelDir, 'sepsis', 'not-onnx.onnx');
  const digest = createHash('sha256').update('this is not an ONNX model\n').digest('hex');
  expect(statSync(file).size).toBeGreaterThan(0);
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(badModel('sepsis-not-onnx', { sha256: digest, file: 'not-onnx.onnx' })));
  const c = await eventually('CrashLoopBackOff in Ready', async () => {
    const x = await clm('sepsis-not-onnx');
    return condition(x, 'Ready')?.reason === 'CrashLoopBackOff' ? x : undefined;
  }, 180_000);
  expect(condition(c, 'Ready')!.message).toContain('LoadFailed: the model could not be loaded');
  expect(condition(c, 'ArtifactVerified')?.status).not.toBe('False');
});

it('a missing image is named in status and an Event, and never pulled', async () => {
  await cp.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(badModel('sepsis-no-image', { image: 'clinops/inference-server:missing' })));
  const c = await eventually('ErrImageNeverPull in Ready', async () => {
    const x = await clm('sepsis-no-image');
    return condition(x, 'Ready')?.reason === 'ErrImageNeverPull' ? x : undefined;
  }, 120_000);
  expect(condition(c, 'Ready')!.message).toContain('clinops/inference-server:missing');
  await eventually('an ErrImageNeverPull Event', async () => (await events('sepsis-no-image')).some((e) => e.reason === 'ErrImageNeverPull'));
});

it('helm uninstall removes the operator pods and keeps the CRD', async () => {
  await helm(cp, ['uninstall', 'clinops', '-n', 'clinops-system', '--wait', '--timeout=2m']);
  await eventually('no operator pods', async () =>
    (await json<{ items: Pod[] }>(['-n', 'clinops-system', 'get', 'pods'])).items.length === 0, 60_000);
  expect(await cp.kubectl(['get', 'crd', 'clinicalmodels.clinops.dev', '-o', 'name'])).toContain('clinicalmodels.clinops.dev');
});
