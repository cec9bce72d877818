// The API server crashes and comes back: the operator's watches fail, it keeps running and
// answering /healthz, restarts its informers with backoff, and reconciles what changed meanwhile.
// This file starts a control plane of its own, since it stops that control plane's API server.
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { loadOperatorConfig } from '../../operator/config.js';
import { createLogger } from '../../contract/log.js';
import { Operator } from '../../operator/operator.js';
import { type ControlPlane, repoRoot, startControlPlane } from '../harness/controlplane.js';
import { installClinops } from '../harness/install.js';
import { until } from '../harness/wait.js';

jest.setTimeout(180_000);

let cp: ControlPlane;
let operator: Operator;
const logs: string[] = [];

beforeAll(async () => {
  cp = await startControlPlane({ crds: [join(repoRoot, 'crds')], log: () => {} });
  const { operatorKubeconfig } = await installClinops(cp);
  const kc = new KubeConfig();
  kc.loadFromFile(operatorKubeconfig);
  const config = loadOperatorConfig({ httpAddress: '127.0.0.1:0', identity: 'resilience', logLevel: 'info', serverImage: 'clinops/inference-server:test' }, {});
  operator = new Operator(config, {
    kc,
    log: createLogger('info', {}, (line) => logs.push(line)),
    leaseTimings: { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
  });
  await operator.start();
});

afterAll(async () => {
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
  expect(operator.isLeader).toBe(true);
});
