// Operator benchmark (make bench): on one local control plane, in one run,
//   1. N plain Deployments → time until kube-controller-manager has made every ReplicaSet (the baseline);
//   2. N ClinicalModels → time until every one has its Deployment, Service and a status for its generation;
// then the rate ratio, the operator's API writes per ClinicalModel (cold, and on a no-op resync, counted
// in the API server's audit log), and the operator process's peak RSS;
//   3. the floor: the same writes per model (the monitoring-key Secret, the Deployment and Service
//      applies, the status patch, the Event) issued by a bare client at the operator's concurrency with
//      no reconcile logic, from a backlog of N ClinicalModels, on a second control plane holding what
//      the operator's held when it started: what such an API server allows at best.
//   node dist/bench/operator/main.js [--count 1000] [--workers 8] [--replicas 0] [--profile]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { KubeClient } from '../../operator/kube/client.js';
import type { ClinicalModel } from '../../operator/api/types.js';
import { computeStatus } from '../../operator/controller/status.js';
import { desiredDeployment } from '../../operator/desired/deployment.js';
import { FIELD_MANAGER } from '../../operator/desired/labels.js';
import { desiredMonitoringSecret } from '../../operator/desired/monitoring-key.js';
import { desiredService } from '../../operator/desired/service.js';
import { AuditLog } from '../../hack/cluster/audit.js';
import { freePort, repoRoot, startControlPlane } from '../../hack/cluster/controlplane.js';
import { installClinops, OPERATOR_USER } from '../../hack/cluster/install.js';
import { until } from '../../hack/cluster/wait.js';
import { resultsDir } from '../results-dir.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    workers: { type: 'string' },
    replicas: { type: 'string', default: '0' },
    profile: { type: 'boolean', default: false },
  },
});
const N = Number(values.count);
const WORKERS = values.workers;
const REPLICAS = Number(values.replicas);
const CONCURRENCY = 32;

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/**
 * With --profile: the API server's own CPU profile (Go pprof) for `seconds`, written to FILE — where
 * the server's time goes while a controller converges (read with `go tool pprof -top FILE`).
 */
async function apiserverProfile(kc: KubeConfig, seconds: number, file: string): Promise<void> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const url = new URL(`${kc.getCurrentCluster()!.server}/debug/pprof/profile?seconds=${seconds}`);
  const body = await new Promise<Buffer>((resolve, reject) => {
    https.get(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`pprof: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
  writeFileSync(file, body);
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * The floor: for each model, the writes a cold reconcile makes — the monitoring-key Secret, server-side
 * applies of the Deployment and Service the operator would make, the status it would write, one Event —
 * in that order, `concurrency` models at a time, by a bare client: no cache, no decisions. Milliseconds.
 */
async function floor(client: KubeClient, crs: readonly ClinicalModel[], concurrency: number): Promise<{ ms: number; writes: number }> {
  const settings = { serverImage: 'clinops/inference-server:0.1.0' };
  let writes = 0;
  const t0 = Date.now();
  await inParallel([...crs], concurrency, async (cr) => {
    const namespace = cr.metadata.namespace!;
    const name = cr.metadata.name;
    await client.create({ group: '', version: 'v1', plural: 'secrets', namespace }, desiredMonitoringSecret(cr, randomBytes(32).toString('base64url')));
    await client.apply({ group: 'apps', version: 'v1', plural: 'deployments', namespace, name }, desiredDeployment(cr, settings), FIELD_MANAGER);
    await client.apply({ group: '', version: 'v1', plural: 'services', namespace, name }, desiredService(cr), FIELD_MANAGER);
    const status = computeStatus({ cr, deployment: undefined, pods: [], now: new Date().toISOString() });
    await client.mergePatch({ group: 'clinops.dev', version: 'v1alpha1', plural: 'clinicalmodels', namespace, name, subresource: 'status' }, { status }, FIELD_MANAGER);
    await client.create({ group: '', version: 'v1', plural: 'events', namespace }, {
      apiVersion: 'v1', kind: 'Event', metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: { apiVersion: cr.apiVersion, kind: cr.kind, name, namespace, uid: cr.metadata.uid }, type: 'Normal', reason: 'Created',
      message: `created Deployment ${name} and Service ${name}`, source: { component: 'clinops-bench' }, count: 1,
    });
    writes += 5;
  });
  return { ms: Date.now() - t0, writes };
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function main(): Promise<void> {
  const cp = await startControlPlane({ crds: [join(repoRoot, 'crds')], log: (l) => console.log(`controlplane: ${l}`) });
  let operator: ChildProcess | undefined;
  process.on('exit', () => operator?.kill('SIGKILL'));
  try {
    const { operatorKubeconfig } = await installClinops(cp);
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    // A patient client: with 10,000 objects a busy API server answers a create in more than the operator's 5 s.
    const admin = new KubeClient(kc, 'clinops-bench', 120_000);
    // Listing N objects to see whether a phase is done costs the API server too: less often for more objects.
    const pollMs = Math.max(200, N / 5);
    for (const ns of ['bench-clm', 'bench-native', 'bench-services']) {
      await admin.create({ group: '', version: 'v1', plural: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }

    const port = await freePort();
    const results = resultsDir();
    const models = Array.from({ length: N }, (_, i) => `model-${String(i).padStart(4, '0')}`);

    // Each controller is timed alone against the same API server, from a backlog of N objects
    // created while it was not running: kube-controller-manager with N Deployments, then the
    // operator with N ClinicalModels. Timing starts when the controller process is started, so its
    // start-up, cache sync (and for the operator, leader election) count against it.

    // 1. The baseline: kube-controller-manager's deployment controller making ReplicaSets.
    await cp.stopComponent('kube-controller-manager');
    const deployRef = { group: 'apps', version: 'v1', plural: 'deployments', namespace: 'bench-native' };
    await inParallel(models, CONCURRENCY, (name) => admin.create(deployRef, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'bench-native' },
      spec: {
        replicas: REPLICAS,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'server', image: 'clinops/inference-server:0.1.0' }] } },
      },
    }));
    const profileDir = join(results, 'profile');
    if (values.profile) mkdirSync(profileDir, { recursive: true });
    const t1 = Date.now();
    await cp.startComponent('kube-controller-manager');
    const nativeProfile = values.profile ? apiserverProfile(kc, 8, join(profileDir, 'apiserver-native.pprof')) : undefined;
    await until('every ReplicaSet', async () =>
      (await admin.list({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: 'bench-native' })).items.length === N, 1_800_000, pollMs);
    const nativeMs = Date.now() - t1;
    await nativeProfile;

    // 2. The operator: ClinicalModels to Deployment + Service + status.
    await cp.stopComponent('kube-controller-manager');
    const clmRef = { group: 'clinops.dev', version: 'v1alpha1', plural: 'clinicalmodels', namespace: 'bench-clm' };
    await inParallel(models, CONCURRENCY, (name) => admin.create(clmRef, {
      apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: 'bench-clm' },
      spec: {
        model: { uri: `pvc://models/${name}/model.onnx`, sha256: 'a'.repeat(64), version: '1.0.0', labels: ['Normal', 'Pneumonia'] },
        serving: { replicas: REPLICAS, allowUnauthenticated: true },
      },
    }));
    const audit = new AuditLog(cp.auditLog);
    audit.mark();
    const out = openSync(join(results, 'operator.log'), 'w');
    const nodeArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(results, 'profile')}`] : [];
    const t0 = Date.now();
    operator = spawn(process.execPath, [...nodeArgs, join(repoRoot, 'dist', 'cli', 'main.js'), 'operator', `--kubeconfig=${operatorKubeconfig}`,
      `--http-address=127.0.0.1:${port}`, ...(WORKERS ? [`--workers=${WORKERS}`] : []), '--lease-namespace=clinops-system', '--resync-period=30s',
      '--log-level=warn', '--identity=bench'], { stdio: ['ignore', out, out] });
    const clmProfile = values.profile ? apiserverProfile(kc, 8, join(profileDir, 'apiserver-clinicalmodels.pprof')) : undefined;
    await until('every ClinicalModel reconciled', async () => {
      const clms = await admin.list<{ metadata: { generation: number }; status?: { observedGeneration?: number } }>(clmRef);
      if (clms.items.some((c) => c.status?.observedGeneration !== c.metadata.generation)) return false;
      const deps = await admin.list({ group: 'apps', version: 'v1', plural: 'deployments', namespace: 'bench-clm' });
      return deps.items.length === N;
    }, 1_800_000, pollMs);
    const clmMs = Date.now() - t0;
    const passes = Object.fromEntries(await Promise.all(['success', 'requeue', 'conflict', 'error'].map(async (r) =>
      [r, await metric(port, `clinops_reconcile_total{result="${r}"}`)] as const)));
    const meanPassMs = 1000 * (await metric(port, 'clinops_reconcile_duration_seconds_sum')) / (await metric(port, 'clinops_reconcile_duration_seconds_count'));
    await clmProfile;
    await new Promise((r) => setTimeout(r, 2000));
    const cold = audit.writes(OPERATOR_USER).filter((w) => w.namespace === 'bench-clm');
    const coldReads = audit.reads(OPERATOR_USER);
    console.log(`operator, cold: ${N} ClinicalModels reconciled in ${(clmMs / 1000).toFixed(1)} s (kube-controller-manager: ${N} ReplicaSets in ${(nativeMs / 1000).toFixed(1)} s); ` +
      `${(cold.filter((w) => w.resource !== 'events').length / N).toFixed(2)} writes a model, ${JSON.stringify(passes)} passes, ${meanPassMs.toFixed(1)} ms a pass, ${Math.round(peakRssMiB(operator.pid!))} MiB so far`);
    await cp.startComponent('kube-controller-manager');

    // Context for the figures above: how fast this API server creates plain ClusterIP Services, the
    // one child a Deployment-only baseline does not make.
    const serviceRef = { group: '', version: 'v1', plural: 'services', namespace: 'bench-services' };
    const t2 = Date.now();
    await inParallel(models, CONCURRENCY, (name) => admin.create(serviceRef, {
      apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'bench-services' },
      spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }] },
    }));
    const servicesMs = Date.now() - t2;

    // 3. A no-op resync: every model reconciled again, nothing written — once kube-controller-manager
    // (started again above) has made the operator's Deployments' ReplicaSets and the operator has
    // written what that changed in the models' status (real changes, not a resync's), that is, once its
    // writes have stopped for 10 s.
    await until('the operator\'s Deployments\' ReplicaSets', async () =>
      (await admin.list({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: 'bench-clm' })).items.length === N, 1_800_000, pollMs);
    audit.mark();
    let writesSeen = -1;
    let quietSince = Date.now();
    await until('the operator settled (no write for 10 s)', async () => {
      const n = audit.writes(OPERATOR_USER).filter((w) => w.namespace === 'bench-clm').length; // not its lease's renewals
      if (n !== writesSeen) {
        writesSeen = n;
        quietSince = Date.now();
      }
      return Date.now() - quietSince >= 10_000;
    }, 1_800_000, 1000);
    audit.mark();
    const before = await metric(port, 'clinops_reconcile_total');
    await until('a full resync', async () => (await metric(port, 'clinops_reconcile_total')) - before >= N, 600_000, 500);
    await new Promise((r) => setTimeout(r, 2000));
    const resync = audit.writes(OPERATOR_USER).filter((w) => w.namespace === 'bench-clm');
    const rss = peakRssMiB(operator.pid!);
    const exited = new Promise((r) => operator!.once('exit', r));
    operator.kill('SIGTERM');
    await exited;

    // 4. The floor: the operator's writes for N models with nothing deciding them, at its concurrency —
    // on a control plane of its own holding what the operator's held when it started (N native
    // Deployments with their ReplicaSets, N ClinicalModels, kube-controller-manager stopped), so neither
    // run pays for the other's objects.
    await cp.stop(); // one control plane at a time on this machine
    const { floorMs, floorWrites } = await floorOnItsOwnPlane(models);

    const count = (ws: typeof cold, pred: (w: (typeof cold)[number]) => boolean) => ws.filter(pred).length;
    const objectWrites = (w: (typeof cold)[number]) => w.resource !== 'events';
    const result = {
      count: N,
      workers: WORKERS ?? 'default',
      replicasPerModel: REPLICAS,
      clinicalModels: { seconds: clmMs / 1000, perSecond: N / (clmMs / 1000) },
      nativeDeployments: { seconds: nativeMs / 1000, perSecond: N / (nativeMs / 1000) },
      plainServices: { seconds: servicesMs / 1000, perSecond: N / (servicesMs / 1000) },
      rateRatio: nativeMs / clmMs,
      floor: { seconds: floorMs / 1000, perSecond: N / (floorMs / 1000), writesPerModel: floorWrites / N },
      floorRatio: floorMs / clmMs,
      writesPerModelCold: count(cold, objectWrites) / N,
      writesPerModelColdByResource: Object.fromEntries(['deployments', 'services', 'clinicalmodels'].map((r) =>
        [r, count(cold, (w) => w.resource === r) / N])),
      eventsPerModelCold: count(cold, (w) => w.resource === 'events') / N,
      readsPerModelCold: Object.fromEntries([...new Set(coldReads)].map((r) => [r, coldReads.filter((x) => x === r).length / N])),
      writesPerModelResync: count(resync, objectWrites) / N,
      eventsPerModelResync: count(resync, (w) => w.resource === 'events') / N,
      operatorPeakRssMiB: Math.round(rss),
      reconcilePassesCold: passes,
      meanPassMsCold: meanPassMs,
    };
    writeFileSync(join(results, 'operator.json'), JSON.stringify(result, null, 2) + '\n');
    const ok = (pass: boolean) => (pass ? 'met' : 'MISSED');
    console.log(`
operator benchmark — ${N} objects, ${REPLICAS} replicas each, operator --workers=${WORKERS ?? '(default)'}, one local control plane (the floor on a second, alike);
each controller started alone against a backlog of ${N} objects
                                          time      rate
  ClinicalModels → Deploy+Svc+status    ${result.clinicalModels.seconds.toFixed(1).padStart(6)} s  ${result.clinicalModels.perSecond.toFixed(0).padStart(5)}/s
  Deployments → ReplicaSet (native KCM) ${result.nativeDeployments.seconds.toFixed(1).padStart(6)} s  ${result.nativeDeployments.perSecond.toFixed(0).padStart(5)}/s
  rate ratio (ours / native)            ${result.rateRatio.toFixed(2).padStart(8)}   target ≥ 0.50: ${ok(result.rateRatio >= 0.5)}
  floor: the same writes, no logic      ${result.floor.seconds.toFixed(1).padStart(6)} s  ${result.floor.perSecond.toFixed(0).padStart(5)}/s  (${result.floor.writesPerModel.toFixed(2)} writes a model, ${WORKERS ?? 8} at a time)
  rate ratio (ours / floor)             ${result.floorRatio.toFixed(2).padStart(8)}   target ≥ 0.80: ${ok(result.floorRatio >= 0.8)}${result.floorRatio >= 0.8 ? '' : `  (the operator's time includes its start, cache sync, leader election and ${((result.reconcilePassesCold.success ?? 0) + (result.reconcilePassesCold.requeue ?? 0)).toFixed(0)} passes for ${N} models, ${result.meanPassMsCold.toFixed(1)} ms each)`}
  context: plain Services, created only   ${result.plainServices.seconds.toFixed(1).padStart(6)} s  ${result.plainServices.perSecond.toFixed(0).padStart(5)}/s
  API writes per model, cold            ${result.writesPerModelCold.toFixed(2).padStart(8)}   target ≤ 3: ${ok(result.writesPerModelCold <= 3)}  (${Object.entries(result.writesPerModelColdByResource).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}; plus ${result.eventsPerModelCold.toFixed(2)} Events)
  API reads per model, cold             ${Object.values(result.readsPerModelCold).reduce((a, b) => a + b, 0).toFixed(2).padStart(8)}   (${Object.entries(result.readsPerModelCold).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})
  API writes per model, settled resync  ${result.writesPerModelResync.toFixed(2).padStart(8)}   target 0: ${ok(result.writesPerModelResync === 0)}  (Events ${result.eventsPerModelResync.toFixed(2)})
  operator peak RSS                     ${String(result.operatorPeakRssMiB).padStart(5)} MiB
(results in ${results}/operator.json)`);
  } finally {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((r) => operator?.once('exit', r));
      operator.kill('SIGTERM');
      await exited;
    }
    await cp.stop();
  }
}

async function floorOnItsOwnPlane(models: readonly string[]): Promise<{ floorMs: number; floorWrites: number }> {
  const cp = await startControlPlane({ crds: [join(repoRoot, 'crds')], log: (l) => console.log(`controlplane (floor): ${l}`) });
  try {
    await installClinops(cp);
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    const admin = new KubeClient(kc, 'clinops-bench', 120_000);
    for (const ns of ['bench-native', 'bench-floor']) {
      await admin.create({ group: '', version: 'v1', plural: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
    const deployRef = { group: 'apps', version: 'v1', plural: 'deployments', namespace: 'bench-native' };
    await inParallel([...models], CONCURRENCY, (name) => admin.create(deployRef, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'bench-native' },
      spec: {
        replicas: REPLICAS,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'server', image: 'clinops/inference-server:0.1.0' }] } },
      },
    }));
    await until('every ReplicaSet (the floor\'s plane)', async () =>
      (await admin.list({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: 'bench-native' })).items.length === models.length, 1_800_000, Math.max(200, models.length / 5));
    await cp.stopComponent('kube-controller-manager');
    const floorRef = { group: 'clinops.dev', version: 'v1alpha1', plural: 'clinicalmodels', namespace: 'bench-floor' };
    const floorModels: ClinicalModel[] = [];
    await inParallel([...models], CONCURRENCY, async (name) => {
      floorModels.push(await admin.create<ClinicalModel>(floorRef, {
        apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: 'bench-floor' },
        spec: { model: { uri: `pvc://models/${name}/model.onnx`, sha256: 'a'.repeat(64), version: '1.0.0', labels: ['Normal', 'Pneumonia'] }, serving: { replicas: REPLICAS, allowUnauthenticated: true } },
      }));
    });
    // Every one of its writes succeeded (a failure throws): counted by the floor itself.
    const { ms, writes } = await floor(admin, floorModels, Number(WORKERS ?? 8));
    return { floorMs: ms, floorWrites: writes };
  } finally {
    await cp.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
