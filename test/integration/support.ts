// Helpers shared by the integration tests: clients for the shared control plane, namespaces that
// enforce Pod Security "restricted", an in-process operator running as its own ServiceAccount, and
// polling with a deadline.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClinicalModel } from '../../operator/api/types.js';
import { loadOperatorConfig, type OperatorFlags } from '../../operator/config.js';
import { KubeClient } from '../../operator/kube/client.js';
import { createLogger } from '../../contract/log.js';
import { Operator, type OperatorDeps } from '../../operator/operator.js';
import { AuditLog } from '../../hack/cluster/audit.js';
import { waitFor } from '../../hack/cluster/wait.js';

const execFileP = promisify(execFile);

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: integration tests run through jest's globalSetup (make test)`);
  return v;
}

export const adminKubeconfig = () => need('CLINOPS_TEST_KUBECONFIG');
export const operatorKubeconfig = () => need('CLINOPS_TEST_OPERATOR_KUBECONFIG');
export const auditLog = () => new AuditLog(need('CLINOPS_TEST_AUDIT_LOG'));

export function adminClient(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromFile(adminKubeconfig());
  return new KubeClient(kc, 'clinops-tests');
}

export async function kubectl(args: string[], input?: string): Promise<string> {
  const p = execFileP(join(need('CLINOPS_TEST_BIN_DIR'), 'kubectl'), [`--kubeconfig=${adminKubeconfig()}`, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (input !== undefined) p.child.stdin?.end(input);
  return (await p).stdout;
}

/** kubectl that is expected to fail: resolves its stderr. */
export async function kubectlFails(args: string[], input?: string): Promise<string> {
  try {
    await kubectl(args, input);
  } catch (err) {
    return (err as { stderr?: string }).stderr ?? String(err);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded but was expected to fail`);
}

/** Namespaces made by this test file; deleteNamespaces() removes them (without waiting). */
const made: string[] = [];

export async function deleteNamespaces(): Promise<void> {
  if (made.length > 0) await kubectl(['delete', 'namespace', '--wait=false', ...made.splice(0)]);
}

export async function newNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
  }));
  made.push(name);
  return name;
}

/**
 * A bound PersistentVolumeClaim named "models" in the namespace (the scheduler will not place a pod
 * whose claim is missing or unbound). The PersistentVolume behind it is pre-bound to the claim.
 */
export async function createModelsClaim(namespace: string): Promise<void> {
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `models-${namespace}` },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadOnlyMany'],
          storageClassName: '',
          hostPath: { path: '/srv/models' },
          claimRef: { namespace, name: 'models' },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'models', namespace },
        spec: { accessModes: ['ReadOnlyMany'], storageClassName: '', volumeName: `models-${namespace}`, resources: { requests: { storage: '1Gi' } } },
      },
    ],
  }));
  await eventually('claim bound', async () => {
    const pvc = await getJson(['-n', namespace, 'get', 'pvc', 'models']);
    return pvc.status?.phase === 'Bound';
  });
}

export async function startOperator(flags: OperatorFlags = {}, deps: OperatorDeps = {}): Promise<Operator> {
  const config = loadOperatorConfig({
    kubeconfig: operatorKubeconfig(),
    httpAddress: '127.0.0.1:0',
    serverImage: 'clinops/inference-server:test',
    logLevel: 'warn',
    ...flags,
  }, {});
  const operator = new Operator(config, {
    log: createLogger(config.logLevel, { identity: config.identity }),
    leaseTimings: { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
    queueOptions: { baseDelayMs: 200, maxDelayMs: 5000 },
    ...deps,
  });
  await operator.start();
  return operator;
}

/** Wait until `fn` gives a value other than undefined, false or null (a throw counts as not yet); resolves it. */
export function eventually<T>(what: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<Exclude<T, undefined | false | null>> {
  return waitFor(what, timeoutMs, async () => {
    const v = await fn();
    return v === undefined || v === false || v === null ? undefined : (v as Exclude<T, undefined | false | null>);
  }, undefined, 200);
}

export const SHA = 'a'.repeat(64);

export function model(namespace: string, name: string, spec: Partial<ClinicalModel['spec']> = {}): object {
  return {
    apiVersion: 'clinops.dev/v1alpha1',
    kind: 'ClinicalModel',
    metadata: { name, namespace },
    spec: {
      model: { uri: `pvc://models/${name}/model.onnx`, sha256: SHA, version: '1.0.0', labels: ['Normal', 'Pneumonia'] },
      ...spec,
      // Closed by default: a test model without keys says it serves anyone.
      serving: { ...(spec.serving?.apiKeySecretRef ? {} : { allowUnauthenticated: true }), ...spec.serving },
    },
  };
}

export async function getJson<T = any>(args: string[]): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}
