// Drift at scale (make bench): N ClinicalModels, each checked every INTERVAL on a window of SAMPLES
// predictions, on one local control plane (KWOK nodes hold a replica of each, so each model has a
// ready replica to read). The windows come from a benchmark double (window-double.ts: one process
// answering as N busy replicas, never the product) through --model-endpoint. Measured: the operator's
// CPU (mean, and the busiest 30 s), how late each check ran against its schedule (lag = the time since
// the model's previous read less the interval), and its memory per model.
//   node dist/bench/operator/drift-scale.js [--count 1000] [--samples 10000] [--interval 5m] [--checks 3]
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../operator/kube/client.js';
import { parseDuration } from '../../operator/util/duration.js';
import { freePort, repoRoot, startControlPlane } from '../../hack/cluster/controlplane.js';
import { installClinops } from '../../hack/cluster/install.js';
import { until } from '../../hack/cluster/wait.js';
import { resultsDir } from '../results-dir.js';
import { confidenceOf } from './window-distribution.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    samples: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '5m' },
    checks: { type: 'string', default: '3' },
  },
});
const N = Number(values.count);
const SAMPLES = Number(values.samples);
const INTERVAL = values.interval!;
const INTERVAL_MS = parseDuration(INTERVAL);
const CHECKS = Number(values.checks);
const NS = 'bench-drift';
const TICKS = 100; // clock ticks per second (USER_HZ)

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The operator's JavaScript heap in use (its /metrics, prom-client's default nodejs_heap_size_used_bytes). */
async function heapUsedMiB(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)$/m.exec(text);
  return m ? Number(m[1]) / 1024 ** 2 : NaN;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function main(): Promise<void> {
  const cp = await startControlPlane({ crds: [join(repoRoot, 'crds')], gpuNodes: 0, cpuNodes: Math.ceil(N / 100), podsPerNode: 110, log: (l) => console.log(`controlplane: ${l}`) });
  const children: ChildProcess[] = [];
  process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
  try {
    const { operatorKubeconfig } = await installClinops(cp);
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    const admin = new KubeClient(kc, 'clinops-bench', 120_000);
    const results = resultsDir();

    // The double, in a process of its own: its work is not the operator's.
    const double = spawn(process.execPath, [join(repoRoot, 'dist', 'bench', 'operator', 'window-double.js'), '--samples', String(SAMPLES), '--interval-ms', String(INTERVAL_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(double);
    const doublePort = await new Promise<number>((resolve, reject) => {
      createInterface(double.stdout!).once('line', (l) => resolve((JSON.parse(l) as { port: number }).port));
      double.once('exit', (code) => reject(new Error(`the window double exited (${code})`)));
    });
    const doubleUrl = `http://127.0.0.1:${doublePort}`;

    await admin.create({ group: '', version: 'v1', plural: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    // The models' claim (pvc://models/…), bound to a volume: the fake nodes run nothing, the scheduler needs it bound.
    await admin.create({ group: '', version: 'v1', plural: 'persistentvolumes' }, {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'bench-drift-models' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadOnlyMany'], storageClassName: '', hostPath: { path: '/srv/models' }, claimRef: { namespace: NS, name: 'models' } },
    });
    await admin.create({ group: '', version: 'v1', plural: 'persistentvolumeclaims', namespace: NS }, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'models', namespace: NS },
      spec: { accessModes: ['ReadOnlyMany'], storageClassName: '', volumeName: 'bench-drift-models', resources: { requests: { storage: '1Gi' } } },
    });
    // The reference: SAMPLES confidences of the double's own distribution (other draws): no drift to find.
    const reference = Array.from({ length: SAMPLES }, (_, i) => confidenceOf(1_000_000_007 + i));
    await admin.create({ group: '', version: 'v1', plural: 'configmaps', namespace: NS }, {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'reference', namespace: NS }, data: { 'confidence.json': JSON.stringify(reference) },
    });
    const models = Array.from({ length: N }, (_, i) => `model-${String(i).padStart(4, '0')}`);

    const port = await freePort();
    const out = openSync(join(results, 'drift-scale-operator.log'), 'w');
    const operator = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'operator', `--kubeconfig=${operatorKubeconfig}`,
      `--http-address=127.0.0.1:${port}`, '--lease-namespace=clinops-system', '--log-level=warn', '--identity=bench-drift'], {
      stdio: ['ignore', out, out],
      env: { ...process.env, CLINOPS_MODEL_ENDPOINTS: models.map((m) => `${NS}/${m}=${doubleUrl}/m/${m}`).join(',') },
    });
    children.push(operator);
    await until('the operator ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.ok === true, 60_000, 500);
    console.log('drift at scale: the operator is ready');
    await new Promise((r) => setTimeout(r, 3000));
    const baseRss = memoryMiB(operator.pid!, 'VmRSS');
    const baseHeap = await heapUsedMiB(port);

    const clmRef = { group: 'clinops.dev', version: 'v1alpha1', plural: 'clinicalmodels', namespace: NS };
    const created = Date.now();
    await inParallel(models, 16, (name) => admin.create(clmRef, {
      apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: NS },
      spec: {
        model: { uri: `pvc://models/${name}/model.onnx`, sha256: 'a'.repeat(64), version: '1.0.0', labels: ['Normal', 'Pneumonia'] },
        serving: { replicas: 1, allowUnauthenticated: true },
        monitoring: { interval: INTERVAL, minSamples: 200, reference: { configMapRef: { name: 'reference', key: 'confidence.json' } } },
      },
    }));
    const createdMs = Date.now() - created;
    await until('every model Serving', async () =>
      (await admin.list<{ status?: { phase?: string } }>(clmRef)).items.filter((c) => c.status?.phase === 'Serving').length === N, 1_800_000, Math.max(1000, N));
    console.log(`drift at scale: ${N} models created in ${(createdMs / 1000).toFixed(1)} s, all Serving after ${((Date.now() - created) / 1000).toFixed(1)} s`);

    // Run until every model has had CHECKS + 1 checks that read its replica, and the last one's verdict is
    // in its status. A model's first check is due an interval after its creation (one due before its
    // replica was ready reads nothing: the next comes an interval later), each next one an interval after
    // the one before ran, so a late check delays the next: the run waits for CHECKS + 1 intervals from the
    // moment every model served, and half an interval more; a check that has not come by then is failed.
    const servingAt = Date.now();
    const endAt = servingAt + INTERVAL_MS * (CHECKS + 1) + Math.max(10_000, INTERVAL_MS / 2);
    type Stats = Record<string, { reads: number[]; requests: number }>;
    type Clm = { metadata: { name: string }; status?: { drift?: { verdict?: string; samples?: number; lastCheckTime?: string } } };
    const readStats = async () => await (await fetch(`${doubleUrl}/stats`, { signal: AbortSignal.timeout(30_000) })).json() as Stats;
    const isJudged = (c: Clm) => c.status?.drift?.verdict !== undefined && c.status.drift.verdict !== 'InsufficientData' && (c.status.drift.samples ?? 0) > 0;
    const cpu: Array<{ at: number; s: number }> = [{ at: Date.now(), s: cpuSeconds(operator.pid!) }];
    let stats: Stats = {};
    let clms: Clm[] = [];
    while (Date.now() < endAt) {
      await new Promise((r) => setTimeout(r, Math.min(5000, endAt - Date.now())));
      cpu.push({ at: Date.now(), s: cpuSeconds(operator.pid!) });
      stats = await readStats();
      if (models.some((m) => (stats[m]?.reads.length ?? 0) < CHECKS + 1)) continue;
      // Every model read often enough: done once each one's last check is judged in its status.
      await new Promise((r) => setTimeout(r, 2000));
      clms = (await admin.list<Clm>(clmRef)).items;
      if (clms.filter(isJudged).length === N) break;
    }
    cpu.push({ at: Date.now(), s: cpuSeconds(operator.pid!) });
    const endRss = memoryMiB(operator.pid!, 'VmRSS');
    const endHeap = await heapUsedMiB(port);
    const peakRss = memoryMiB(operator.pid!, 'VmHWM');
    stats = await readStats();
    clms = (await admin.list<Clm>(clmRef)).items;

    // The checks' lag: each read after a model's first, against its previous one.
    const lags: number[] = [];
    let reads = 0;
    let requests = 0;
    for (const m of models) {
      const s = stats[m];
      reads += s?.reads.length ?? 0;
      requests += s?.requests ?? 0;
      for (let i = 1; i < (s?.reads.length ?? 0); i++) lags.push(Math.max(0, s!.reads[i]! - s!.reads[i - 1]! - INTERVAL_MS));
    }
    // A model not read at least CHECKS + 1 times, or whose last check judged nothing, is a failed answer;
    // the first few are named with what the double and the status say of them.
    const judged = new Set(clms.filter(isJudged).map((c) => c.metadata.name));
    const failures = models.filter((m) => !judged.has(m) || (stats[m]?.reads.length ?? 0) < CHECKS + 1).map((m) => {
      const drift = clms.find((c) => c.metadata.name === m)?.status?.drift;
      return { model: m, reads: stats[m]?.reads.length ?? 0, verdict: drift?.verdict ?? null, samples: drift?.samples ?? null, lastCheckTime: drift?.lastCheckTime ?? null };
    });
    const errors = failures.length;
    const cores = (a: { at: number; s: number }, b: { at: number; s: number }) => (b.s - a.s) / ((b.at - a.at) / 1000);
    const windows: number[] = [];
    for (let i = 0; i < cpu.length; i++) {
      const j = cpu.findIndex((x) => x.at - cpu[i]!.at >= 30_000);
      if (j > i) windows.push(cores(cpu[i]!, cpu[j]!));
    }
    const result = {
      count: N, samplesPerWindow: SAMPLES, interval: INTERVAL, checksPerModel: CHECKS + 1,
      // A benchmark counts only successful answers: every check here is one (`errors`: models not checked, or not judged).
      requests, checks: reads, errors, failures: failures.slice(0, 10),
      servingAfterMs: servingAt - created,
      cpuCores: { mean: cores(cpu[0]!, cpu[cpu.length - 1]!), busiest30s: windows.length > 0 ? Math.max(...windows) : cores(cpu[0]!, cpu[cpu.length - 1]!) },
      lagMs: { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: lags.length > 0 ? Math.max(...lags) : NaN, checks: lags.length },
      // Below zero (a small N, within the garbage collector's noise) it says 0.
      memory: {
        baseMiB: Math.round(baseRss), endMiB: Math.round(endRss), peakMiB: Math.round(peakRss), perModelKiB: Math.max(0, Math.round(((endRss - baseRss) * 1024) / N)),
        // The JavaScript heap in use (live objects and garbage not yet collected), less noisy than RSS.
        heapBaseMiB: Math.round(baseHeap), heapEndMiB: Math.round(endHeap), heapPerModelKiB: Math.max(0, Math.round(((endHeap - baseHeap) * 1024) / N)),
      },
    };
    writeFileSync(join(results, 'drift-scale.json'), JSON.stringify(result, null, 2) + '\n');
    const ok = (pass: boolean) => (errors > 0 ? 'INVALID (some checks failed)' : pass ? 'met' : 'MISSED');
    console.log(`
drift at scale — ${N} models, a window of ${SAMPLES} predictions each, checked every ${INTERVAL} (${reads} checks read by the double, ${requests} pages; ${errors} failed)
  operator CPU, mean                    ${result.cpuCores.mean.toFixed(2).padStart(6)} cores
  operator CPU, busiest 30 s            ${result.cpuCores.busiest30s.toFixed(2).padStart(6)} cores   target ≤ 1: ${ok(result.cpuCores.busiest30s <= 1)}
  check lag p50 / p99 / max             ${(result.lagMs.p50 / 1000).toFixed(1)} / ${(result.lagMs.p99 / 1000).toFixed(1)} / ${(result.lagMs.max / 1000).toFixed(1)} s   target p99 < ${INTERVAL}: ${ok(result.lagMs.p99 < INTERVAL_MS)}
  memory: operator RSS                  ${result.memory.baseMiB} MiB with no model, ${result.memory.endMiB} MiB with ${N} (peak ${result.memory.peakMiB}): ${result.memory.perModelKiB} KiB a model
  memory: JavaScript heap in use        ${result.memory.heapBaseMiB} MiB with no model, ${result.memory.heapEndMiB} MiB with ${N}: ${result.memory.heapPerModelKiB} KiB a model
(the windows come from a benchmark double answering as ${N} replicas; results in ${results}/drift-scale.json)`);
    for (const f of result.failures) console.log(`  failed: ${JSON.stringify(f)}`);
  } finally {
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
    await cp.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
