// Installs clinops with its Helm chart (charts/clinops), as a platform engineer would, and returns a
// kubeconfig that authenticates as the chart's ServiceAccount, so an operator run outside the cluster
// has exactly the rights the chart grants.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ControlPlane } from './controlplane.js';
import { repoRoot } from './controlplane.js';
import { serviceAccountKubeconfig, waitForCrd } from './install.js';

const execFileP = promisify(execFile);
export const CHART = join(repoRoot, 'charts', 'clinops');

/** Run helm against the control plane; resolves stdout, rejects with helm's stderr in the message. */
export async function helm(cp: ControlPlane, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP(join(cp.binDir, 'helm'), [`--kubeconfig=${cp.kubeconfig}`, ...args], {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, HELM_CACHE_HOME: join(cp.dir, 'helm', 'cache'), HELM_CONFIG_HOME: join(cp.dir, 'helm', 'config'), HELM_DATA_HOME: join(cp.dir, 'helm', 'data') },
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

export interface HelmInstall {
  release: string;
  namespace: string;
  /** The chart's ServiceAccount, as the API server names it. */
  user: string;
  operatorKubeconfig: string;
  /** The chart's Lease name (the release's full name). */
  leaseName: string;
}

/**
 * `helm upgrade --install` the chart into a namespace that enforces Pod Security "restricted".
 * KWOK's fake nodes run no containers, so the chart's operator pods are admitted and scheduled but do
 * not run; the operator runs out of cluster with the chart's ServiceAccount token.
 */
export async function helmInstall(cp: ControlPlane, opts: { release?: string; namespace?: string; args?: string[] } = {}): Promise<HelmInstall> {
  const release = opts.release ?? 'clinops';
  const namespace = opts.namespace ?? 'clinops-system';
  await cp.kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'Namespace',
    metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } },
  }));
  await helm(cp, ['upgrade', '--install', release, CHART, '-n', namespace, ...(opts.args ?? [])]);
  await waitForCrd(cp);
  const fullname = release.includes('clinops') ? release : `${release}-clinops`;
  const operatorKubeconfig = await serviceAccountKubeconfig(cp, namespace, fullname);
  return { release, namespace, user: `system:serviceaccount:${namespace}:${fullname}`, operatorKubeconfig, leaseName: fullname };
}
