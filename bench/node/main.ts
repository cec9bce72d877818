// Real-node benchmark (make bench): what running in pods costs, measured in one run on one machine.
//   start-up    the cluster with its real node (images imported), from nothing to the node Ready
//   pod start   the Deployment the operator writes for a CPU model (desiredDeployment, applied as is)
//               from creation to each pod Ready: image present, sandbox, volume, sha256, model load
//   predict     /v1 predict of one instance, sequential, through the Service's ClusterIP (kube-proxy's
//               DNAT to a pod on the node's bridge) against the same server image's code on loopback
// Every request goes to this machine only (loopback, or a ClusterIP checked with `ip route get`), and
// the loads are bounded in count and time.
//   node dist/bench/node/main.js [--requests 1000]
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClinicalModel } from '../../operator/api/types.js';
import { desiredDeployment } from '../../operator/desired/deployment.js';
import { desiredMonitoringSecret } from '../../operator/desired/monitoring-key.js';
import { desiredService } from '../../operator/desired/service.js';
import { freePort, repoRoot, startControlPlane } from '../../hack/cluster/controlplane.js';
import { assertLocalRoute, canManageNetwork, NODE_NAME } from '../../hack/cluster/network.js';
import { mlpGraph, mlpInputs, mlpWeights, writeModel } from '../../test/models/generate.js';
import { resultsDir } from '../results-dir.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000' } } });
const REQUESTS = Number(values.requests);
const MAX_MS = 60_000;
const results = resultsDir();

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Sequential predictions of one instance each; latency percentiles in ms. */
async function sequential(url: string): Promise<{ requests: number; p50: number; p99: number }> {
  const body = JSON.stringify({ instances: mlpInputs(9, 1) });
  const send = async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (res.status !== 200) throw new Error(`predict answered ${res.status}`);
    await res.arrayBuffer();
  };
  for (let i = 0; i < 50; i++) await send(); // warm-up: connections, JIT, session
  const lat: number[] = [];
  const t0 = performance.now();
  while (lat.length < REQUESTS && performance.now() - t0 < MAX_MS) {
    const s = performance.now();
    await send();
    lat.push(performance.now() - s);
  }
  lat.sort((a, b) => a - b);
  return { requests: lat.length, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

async function main(): Promise<void> {
  if (!canManageNetwork()) throw new Error('the real-node benchmark needs root (containerd, kubelet)');
  const lines: string[] = [];
  const t0 = Date.now();
  const cp = await startControlPlane({ realNode: true, gpuNodes: 0, cpuNodes: 0, log: (l) => lines.push(l) });
  let local: ChildProcess | undefined;
  try {
    const startup = Date.now() - t0;
    const importLine = lines.find((l) => l.includes('images imported')) ?? '';
    chmodSync(cp.dir, 0o711);
    const models = join(cp.dir, 'models');
    const model = writeModel(join(models, 'sepsis'), 'model.onnx', mlpGraph(mlpWeights()));
    chmodSync(models, 0o755);
    chmodSync(join(models, 'sepsis'), 0o755);
    const ns = 'bench';
    await cp.kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
        { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'bench-models' },
          spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadOnlyMany'], storageClassName: '', hostPath: { path: models, type: 'Directory' },
            claimRef: { namespace: ns, name: 'models' } } },
        { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'models', namespace: ns },
          spec: { accessModes: ['ReadOnlyMany'], storageClassName: '', volumeName: 'bench-models', resources: { requests: { storage: '1Gi' } } } },
      ],
    }));
    // What the operator would write for this model (its owner is a stand-in: no operator runs here).
    const cr: ClinicalModel = {
      apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel',
      metadata: { name: 'sepsis', namespace: ns, uid: '00000000-0000-0000-0000-000000000000' },
      spec: { model: { uri: 'pvc://models/sepsis/model.onnx', sha256: model.sha256, version: '1.0.0', labels: ['No sepsis', 'Sepsis'] }, serving: { replicas: 2, allowUnauthenticated: true } },
    };
    const strip = <T extends { metadata: { ownerReferences?: unknown } }>(o: T): T => ({ ...o, metadata: { ...o.metadata, ownerReferences: undefined } });
    const created = Date.now();
    // And the monitoring key the operator would make (the pods mount it; they do not start without it).
    await cp.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [strip(desiredMonitoringSecret(cr, randomBytes(32).toString('hex')) as { metadata: object }),
      strip(desiredDeployment(cr, { serverImage: 'clinops/inference-server:0.1.0' })), strip(desiredService(cr))] }));
    const readyAt: number[] = [];
    const deadline = Date.now() + 180_000;
    while (readyAt.length < 2) {
      if (Date.now() > deadline) {
        const why = await cp.kubectl(['-n', ns, 'get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.containerStatuses[*].state}{"\\n"}{end}']).catch(() => '');
        throw new Error(`the pods did not become ready:\n${why}`);
      }
      const pods = JSON.parse(await cp.kubectl(['-n', ns, 'get', 'pods', '-o', 'json'])) as { items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> };
      const ready = pods.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      while (readyAt.length < ready) readyAt.push(Date.now() - created);
      await new Promise((r) => setTimeout(r, 100));
    }
    const ip = (JSON.parse(await cp.kubectl(['-n', ns, 'get', 'service', 'sepsis', '-o', 'json'])) as { spec: { clusterIP: string } }).spec.clusterIP;
    await assertLocalRoute(ip);
    const viaService = await sequential(`http://${ip}:8080/v1/models/sepsis/predict`);

    // The same server code on loopback, with what the pod has: all the machine's CPUs (no limit set).
    const port = await freePort();
    local = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'serve', '--model', model.path, '--name', 'sepsis',
      '--model-version', '1.0.0', '--sha256', model.sha256, '--labels', 'No sepsis,Sepsis', '--host', '127.0.0.1', '--port', String(port), '--allow-unauthenticated'],
    { stdio: 'ignore' });
    const localUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if ((await fetch(`${localUrl}/health/ready`).then((r) => r.ok, () => false))) break;
      if (i > 600) throw new Error('the loopback server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const loopback = await sequential(`${localUrl}/v1/models/sepsis/predict`);

    const out = {
      node: NODE_NAME,
      clusterStartupMs: startup, controlPlaneReadyMs: cp.startupMs, imageImport: importLine.trim(),
      podReadyMs: readyAt,
      predictThroughClusterIP: viaService, predictOnLoopback: loopback,
      p50Ratio: viaService.p50 / loopback.p50,
    };
    writeFileSync(join(results, 'node.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(`Real node (2 cores): cluster with the node Ready in ${(startup / 1000).toFixed(1)} s (${importLine.trim()})
  pod creation → Ready (image present, sha256 verified, model loaded): ${readyAt.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}
  /v1 predict, 1 instance, sequential, ${viaService.requests} requests:
    through the ClusterIP  p50 ${viaService.p50.toFixed(2)} ms, p99 ${viaService.p99.toFixed(2)} ms
    loopback, same code    p50 ${loopback.p50.toFixed(2)} ms, p99 ${loopback.p99.toFixed(2)} ms
    ratio p50 ${out.p50Ratio.toFixed(2)}
(results in ${results}/node.json)`);
  } finally {
    local?.kill('SIGTERM');
    await cp.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
