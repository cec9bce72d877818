// Installs clinops into a control plane the way a platform engineer would: the CRD with kubectl
// (server-side apply), the operator's namespace, ServiceAccount and RBAC from config/rbac, and a
// kubeconfig that authenticates as that ServiceAccount (a bound token), not as admin.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlPlane } from './controlplane.js';
import { kubeconfigYaml, repoRoot } from './controlplane.js';

export const OPERATOR_NAMESPACE = 'clinops-system';
export const OPERATOR_SA = 'clinops-operator';
export const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SA}`;

export interface Installed {
  /** kubeconfig of the operator's ServiceAccount. */
  operatorKubeconfig: string;
}

export async function installClinops(cp: ControlPlane): Promise<Installed> {
  await cp.kubectl(['apply', '--server-side', '--field-manager=clinops-install', '-f', join(repoRoot, 'crds')]);
  await cp.kubectl(['apply', '-f', join(repoRoot, 'config', 'rbac')]);
  await waitForCrd(cp);
  return { operatorKubeconfig: await serviceAccountKubeconfig(cp, OPERATOR_NAMESPACE, OPERATOR_SA) };
}

/** Wait until the ClinicalModel CRD is established and discovery serves it (`kubectl explain` works). */
export async function waitForCrd(cp: ControlPlane): Promise<void> {
  await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/clinicalmodels.clinops.dev']);
  // Discovery and the published OpenAPI trail Established by a moment.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await cp.kubectl(['explain', 'clm.spec']);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** A kubeconfig that authenticates with a bound token of the ServiceAccount, written into the control plane's dir. */
export async function serviceAccountKubeconfig(cp: ControlPlane, namespace: string, name: string): Promise<string> {
  const token = (await cp.kubectl(['create', 'token', name, '-n', namespace, '--duration=24h'])).trim();
  const path = join(cp.dir, `${namespace}-${name}.kubeconfig`);
  await writeFile(path, kubeconfigYaml(cp.server, join(cp.dir, 'ca.crt'), { token }, name));
  return path;
}
