// People with ordinary rights in a test namespace, and the chart's admission policies bound to it alone
// (admission.namespaceSelector), so the other suites sharing the control plane are untouched. Each person
// is a client certificate signed by the cluster's CA, with groups as an authenticator would present them:
//   ml-eng     a model editor (group model-editors)
//   dr-lee     a clinical reviewer and go/no-go signer
//   dr-park    a go/no-go signer
//   nurse-kim  a go/no-go signer, not a clinical reviewer
//   gov-admin  a governance administrator (group clinops-governance)
// All share one Role: what a platform team grants a model's team in its namespace (ClinicalModels and
// their status, ConfigMaps, Secrets, Jobs and pods).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { clientCert } from '../../hack/cluster/certs.js';
import { kubeconfigYaml } from '../../hack/cluster/controlplane.js';
import { CHART } from '../../hack/cluster/helm.js';
import { OPERATOR_NAMESPACE, OPERATOR_SA } from '../../hack/cluster/install.js';
import { adminKubeconfig, kubectl } from './support.js';

const run = promisify(execFile);
const bin = (name: string) => join(process.env.CLINOPS_TEST_BIN_DIR!, name);

export type Person = 'ml-eng' | 'dr-lee' | 'dr-park' | 'nurse-kim' | 'gov-admin';
const GROUPS: Record<Person, string[]> = {
  'ml-eng': ['model-editors'], 'dr-lee': ['clinical-reviewers', 'clinical-signers'], 'dr-park': ['clinical-signers'],
  'nurse-kim': ['clinical-signers'], 'gov-admin': ['clinops-governance'],
};
const POLICIES = ['acknowledgement', 'governance', 'status', 'escalation-record-configmap', 'records', 'revocation-records', 'revoked-versions'];

export interface Personas {
  /** The Helm release the policies are named after: ValidatingAdmissionPolicy 'RELEASE-POLICY'. */
  release: string;
  kubeconfig: Record<Person, string>;
  /** kubectl as a person (or any kubeconfig): stdout, or the error's stderr (`ok` says which). */
  as(who: Person | string, args: string[], input?: string): Promise<{ ok: boolean; out: string }>;
  /** The start of a refusal by one of the policies. */
  denied(policy: string): string;
  /** Remove the policies (the namespace goes with the test's others). */
  remove(): Promise<void>;
}

export async function personas(ns: string): Promise<Personas> {
  const id = randomBytes(3).toString('hex');
  const release = `clinops-${id}`;
  await kubectl(['label', 'namespace', ns, `clinops.dev/admission-test=${id}`]);
  // The chart's policies, as `helm install` would render them for the operator's ServiceAccount.
  const { stdout } = await run(bin('helm'), ['template', release, CHART, '-n', OPERATOR_NAMESPACE, '--show-only', 'templates/validatingadmissionpolicy.yaml',
    '--set', `serviceAccount.name=${OPERATOR_SA}`, '--set-json', `admission.namespaceSelector={"matchLabels":{"clinops.dev/admission-test":"${id}"}}`,
    '--set-json', 'admission.governanceAdmins={"users":[],"groups":["clinops-governance"]}']);
  await kubectl(['apply', '-f', '-'], stdout);

  const admin = readFileSync(adminKubeconfig(), 'utf8');
  const ca = /certificate-authority: (.+)/.exec(admin)![1]!.trim();
  const server = /server: (.+)/.exec(admin)![1]!.trim();
  const dir = mkdtempSync(join(tmpdir(), 'clinops-personas-'));
  const kubeconfig = {} as Record<Person, string>;
  for (const [name, groups] of Object.entries(GROUPS) as Array<[Person, string[]]>) {
    const c = await clientCert(dirname(ca), `${name}-${id}`, `${groups.map((g) => `/O=${g}`).join('')}/CN=${name}`);
    kubeconfig[name] = join(dir, `${name}.kubeconfig`);
    writeFileSync(kubeconfig[name], kubeconfigYaml(server, ca, { certPath: c.cert, keyPath: c.key }));
  }
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'model-team', namespace: ns },
        rules: [
          { apiGroups: ['clinops.dev'], resources: ['clinicalmodels'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
          { apiGroups: ['clinops.dev'], resources: ['clinicalmodels/status'], verbs: ['get', 'patch', 'update'] },
          { apiGroups: [''], resources: ['configmaps', 'secrets', 'pods'], verbs: ['get', 'list', 'create', 'patch', 'update', 'delete'] },
          { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'create', 'patch', 'update', 'delete'] },
          { apiGroups: ['clinops.dev'], resources: ['revokedversions'], verbs: ['get', 'list', 'create', 'patch', 'update', 'delete'] },
        ] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'model-team', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'model-team' },
        subjects: ['model-editors', 'clinical-reviewers', 'clinical-signers', 'clinops-governance'].map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name })) },
    ],
  }));
  const as = (who: Person | string, args: string[], input?: string) => {
    const p = run(bin('kubectl'), [`--kubeconfig=${kubeconfig[who as Person] ?? who}`, ...args]);
    if (input !== undefined) p.child.stdin?.end(input);
    return p.then((r) => ({ ok: true, out: r.stdout }), (e: { stderr?: string }) => ({ ok: false, out: e.stderr ?? String(e) }));
  };
  return {
    release, kubeconfig, as,
    denied: (policy) => `ValidatingAdmissionPolicy '${release}-${policy}' with binding '${release}-${policy}' denied request: `,
    remove: async () => {
      await kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', ...POLICIES.map((p) => `${release}-${p}`), '--ignore-not-found']);
    },
  };
}
