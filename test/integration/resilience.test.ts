// The API server crashes and comes back: the operator's watches fail, it keeps running and
// answering /healthz, restarts its informers with backoff, and reconciles what changed meanwhile.
// The API server freezes (SIGSTOP) past the leader's lease: the leader stands down at its renew
// deadline, before its lease could expire, and writes nothing after; the standby leads once the API
// server answers again. This file starts a control plane of its own, since it stops that control
// plane's API server.
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { loadOperatorConfig } from '../../operator/config.js';
import { createLogger } from '../../contract/log.js';
import { Operator } from '../../operator/operator.js';
import { type ControlPlane, repoRoot, startControlPlane } from '../../hack/cluster/controlplane.js';
import { AuditLog } from '../../hack/cluster/audit.js';
import { installClinops } from '../../hack/cluster/install.js';
import { until } from '../../hack/cluster/wait.js';

jest.setTimeout(180_000);

let cp: ControlPlane;
let operator: Operator;
let standby: Operator;
const logs: string[] = [];
const LEASE = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };

async function replica(identity: string): Promise<Operator> {
  const kc = new KubeConfig();
  kc.loadFromFile(operatorKubeconfig);
  const config = loadOperatorConfig({ httpAddress: '127.0.0.1:0', identity, logLevel: 'info', serverImage: 'clinops/inference-server:test' }, {});
  const o = new Operator(config, { kc, log: createLogger('info', { identity }, (line) => logs.push(line)), leaseTimings: LEASE });
  await o.start();
  return o;
}
let operatorKubeconfig: string;

beforeAll(async () => {
  cp = await startControlPlane({ crds: [join(repoRoot, 'crds')], log: () => {} });
  ({ operatorKubeconfig } = await installClinops(cp));
  operator = await replica('resilience');
  await until('the first replica leads', async () => operator.isLeader);
  standby = await replica('resilience-standby');
});

afterAll(async () => {
  try {
    cp?.resumeComponent('kube-apiserver');
  } catch {
    // not running, or not paused
  }
  await standby?.stop();
  await operator?.stop();
  await cp?.stop();
});

const model = (name: string) => JSON.stringify({
  apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name, namespace: 'default' },
  spec: { model: { uri: `pvc://models/${name}.onnx`, sha256: 'b'.repeat(64), version: '1', labels: ['a', 'b'] }, serving: { replicas: 0, allowUnauthenticated: true } },
});
const hasDeployment = (name: string) => async () => {
  await cp.kubectl(['-n', 'default', 'get', 'deployment', name]);
  return true;
};

it('survives an API server crash and reconciles afterwards', async () => {
  await cp.kubectl(['apply', '-f', '-'], model('before'));
  await until('the first model reconciled', hasDeployment('before'));

  await cp.stopComponent('kube-apiserver', 'SIGKILL');
  await new Promise((r) => setTimeout(r, 4000));
  const health = await fetch(`http://127.0.0.1:${operator.probePort}/healthz`);
  expect(health.status).toBe(200);
  expect(logs.some((l) => l.includes('"msg":"watch failed; restarting"'))).toBe(true);

  await cp.startComponent('kube-apiserver');
  await until('the API server back', async () => {
    await cp.kubectl(['get', '--raw', '/readyz']);
    return true;
  });
  await cp.kubectl(['apply', '-f', '-'], model('after'));
  await until('the model created after the outage reconciled', hasDeployment('after'), 90_000);
  expect(operator.isLeader !== standby.isLeader).toBe(true); // one of the two replicas leads
});

it('stands the leader down at its renew deadline when the API server freezes past its lease, before the lease expires; the standby leads and the old leader writes nothing after', async () => {
  await until('one replica leads', async () => operator.isLeader !== standby.isLeader);
  const [leader, follower] = operator.isLeader ? [operator, standby] : [standby, operator];
  await cp.kubectl(['apply', '-f', '-'], model('frozen-before'));
  await until('the model reconciled', hasDeployment('frozen-before'));
  const audit = new AuditLog(cp.auditLog);
  // Who leads, every 20 ms, from before the freeze until after the failover.
  const seen: Array<{ at: number; a: boolean; b: boolean }> = [];
  const sampler = setInterval(() => seen.push({ at: Date.now(), a: leader.isLeader, b: follower.isLeader }), 20);
  const A = `clinops-operator/${leader.config.identity}`;
  let pausedAt = 0;
  let resumedAt = 0;
  try {
    pausedAt = Date.now();
    cp.pauseComponent('kube-apiserver');
    await new Promise((r) => setTimeout(r, LEASE.leaseDurationMs + 2000));
    resumedAt = Date.now();
    cp.resumeComponent('kube-apiserver');
    await until('the standby leads', async () => follower.isLeader, 30_000).catch((err: Error) => {
      // What the two replicas said about the lease, to see why.
      throw new Error(`${err.message}\n${logs.filter((l) => /lease|leader/.test(l)).slice(-30).join('\n')}`);
    });
    await cp.kubectl(['apply', '-f', '-'], model('frozen-after'));
    await until('the model created after the failover reconciled', hasDeployment('frozen-after'), 30_000);
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    clearInterval(sampler);
  }
  // The old leader's last renewal before the freeze: its lease ran to that plus the lease duration.
  const writes = audit.writes();
  const renewedAt = Math.max(...writes.filter((w) => w.userAgent === A && w.resource === 'leases' && w.code === 200 && w.receivedAt! < pausedAt).map((w) => w.receivedAt!));
  const stoodDownAt = seen.find((x) => x.at > pausedAt && !x.a)!.at;
  process.stdout.write(`lease: last renewal ${pausedAt - renewedAt} ms before the freeze; stood down ${stoodDownAt - renewedAt} ms after it ` +
    `(deadline ${LEASE.renewDeadlineMs} ms, lease ${LEASE.leaseDurationMs} ms)\n`);
  expect(stoodDownAt - renewedAt).toBeGreaterThanOrEqual(LEASE.renewDeadlineMs);
  expect(stoodDownAt - renewedAt).toBeLessThan(LEASE.leaseDurationMs);
  // Never two leaders at once; the old one does not take its lease back.
  expect(seen.filter((x) => x.a && x.b)).toEqual([]);
  expect(seen.filter((x) => x.at > stoodDownAt && x.a)).toEqual([]);
  // Nothing written by the old leader after its deadline. What it sent before the freeze reaches the API
  // server when it resumes (received then, within moments): nothing it sent later.
  const late = writes.filter((w) => w.userAgent === A && w.receivedAt! > resumedAt + 500);
  expect(late).toEqual([]);
  // And the new leader did the work.
  expect(writes.some((w) => w.userAgent === `clinops-operator/${follower.config.identity}` && w.resource === 'deployments' && w.name === 'frozen-after')).toBe(true);
});
