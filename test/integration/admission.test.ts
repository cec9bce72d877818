// The chart's ValidatingAdmissionPolicies on the real API server, with two people made for the test
// (client certificates signed by the cluster's CA, as an authenticator would present them):
//   a reviewer who names someone else in an acknowledgement is refused, naming both;
//   the person named acknowledges; an acknowledgement carried along unchanged passes;
//   a user allowed to patch status cannot lower the level; the operator's ServiceAccount can.
// The policies are bound to this test's namespace only (admission.namespaceSelector), so the other
// suites sharing the control plane are untouched.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import type { ClinicalModel } from '../../operator/api/types.js';
import { clientCert } from '../harness/certs.js';
import { kubeconfigYaml } from '../harness/controlplane.js';
import { CHART } from '../harness/helm.js';
import { OPERATOR_NAMESPACE, OPERATOR_SA } from '../harness/install.js';
import { adminKubeconfig, deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, operatorKubeconfig } from './support.js';

jest.setTimeout(120_000);
const run = promisify(execFile);
const bin = (name: string) => join(process.env.CLINOPS_TEST_BIN_DIR!, name);
const id = randomBytes(3).toString('hex');
const release = `clinops-${id}`;

let ns: string;
const users: Record<string, string> = {};

/** kubectl as a kubeconfig's user: stdout, or the error's stderr (`ok` says which). */
async function as(kubeconfig: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  return run(bin('kubectl'), [`--kubeconfig=${kubeconfig}`, ...args]).then(
    (r) => ({ ok: true, out: r.stdout }), (e: { stderr?: string }) => ({ ok: false, out: e.stderr ?? String(e) }));
}
const ack = (reviewer: string, note = 'reviewed the drift report') =>
  ['-n', ns, 'patch', 'clm', 'sepsis', '--type=merge', '-p', JSON.stringify({ spec: { escalation: { acknowledgement: { reviewer, level: 2, note } } } })];
const level = (n: number) =>
  ['-n', ns, 'patch', 'clm', 'sepsis', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { escalation: { level: n, reason: 'test' } } })];

beforeAll(async () => {
  ns = await newNamespace('admission');
  await kubectl(['label', 'namespace', ns, `clinops.dev/admission-test=${id}`]);
  // The chart's policies, as `helm install` would render them for the operator's ServiceAccount.
  const { stdout } = await run(bin('helm'), ['template', release, CHART, '-n', OPERATOR_NAMESPACE, '--show-only', 'templates/validatingadmissionpolicy.yaml',
    '--set', `serviceAccount.name=${OPERATOR_SA}`, '--set-json', `admission.namespaceSelector={"matchLabels":{"clinops.dev/admission-test":"${id}"}}`]);
  await kubectl(['apply', '-f', '-'], stdout);

  // Two people, each with a client certificate from the cluster's CA and the rights a team would get.
  const admin = readFileSync(adminKubeconfig(), 'utf8');
  const ca = /certificate-authority: (.+)/.exec(admin)![1]!.trim();
  const server = /server: (.+)/.exec(admin)![1]!.trim();
  const dir = mkdtempSync(join(tmpdir(), 'clinops-admission-'));
  for (const person of ['dr-lee', 'nurse-kim']) {
    const c = await clientCert(dirname(ca), `${person}-${id}`, `/O=clinical-reviewers/CN=${person}`);
    users[person] = join(dir, `${person}.kubeconfig`);
    writeFileSync(users[person]!, kubeconfigYaml(server, ca, { certPath: c.cert, keyPath: c.key }));
  }
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'clinical-reviewer', namespace: ns },
        rules: [
          { apiGroups: ['clinops.dev'], resources: ['clinicalmodels'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update'] },
          { apiGroups: ['clinops.dev'], resources: ['clinicalmodels/status'], verbs: ['get', 'patch', 'update'] },
          { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch', 'update', 'delete'] },
        ] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'clinical-reviewers', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'clinical-reviewer' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'clinical-reviewers' }] },
    ],
  }));
  await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(model(ns, 'sepsis', { serving: { replicas: 0 } })));
  // The operator's record: level 2, written by the operator's ServiceAccount (the policy lets it).
  const set = await as(operatorKubeconfig(), level(2));
  expect(set).toMatchObject({ ok: true });
});

afterAll(async () => {
  await kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', `${release}-acknowledgement`, `${release}-escalation-record`,
    `${release}-escalation-record-configmap`, '--ignore-not-found']);
  await deleteNamespaces();
});

it('refuses an acknowledgement in someone else\'s name, and takes the named reviewer\'s own', async () => {
  // The API server picks new policies up within a second or so: probe with server-side dry runs (each a
  // change, so never an acknowledgement merely carried along) until the policy answers.
  let probe = 0;
  await eventually('the policy in force', async () => {
    const r = await as(users['nurse-kim']!, [...ack('dr-lee', `probe ${++probe}`), '--dry-run=server']);
    return r.ok ? undefined : r.out;
  });
  const refused = (await as(users['nurse-kim']!, ack('dr-lee'))).out;
  expect(refused).toContain(`ValidatingAdmissionPolicy '${release}-acknowledgement' with binding '${release}-acknowledgement' denied request: ` +
    'spec.escalation.acknowledgement.reviewer must be the person who writes it: you are nurse-kim, the acknowledgement names dr-lee');
  expect((await getJson<ClinicalModel>(['-n', ns, 'get', 'clm', 'sepsis'])).spec.escalation?.acknowledgement).toBeUndefined();

  expect(await as(users['dr-lee']!, ack('dr-lee'))).toMatchObject({ ok: true });
  expect((await getJson<ClinicalModel>(['-n', ns, 'get', 'clm', 'sepsis'])).spec.escalation?.acknowledgement).toMatchObject({ reviewer: 'dr-lee', level: 2 });
  // Someone else may change other fields while the acknowledgement stays as dr-lee wrote it …
  expect(await as(users['nurse-kim']!, ['-n', ns, 'label', 'clm', 'sepsis', 'ward=icu-3'])).toMatchObject({ ok: true });
  // … but not rewrite it, nor create a model acknowledged in another's name.
  expect((await as(users['nurse-kim']!, ack('dr-lee', 'edited'))).out).toContain('you are nurse-kim, the acknowledgement names dr-lee');
  const file = join(mkdtempSync(join(tmpdir(), 'clinops-admission-')), 'clm.json');
  writeFileSync(file, JSON.stringify(model(ns, 'sepsis-2', { escalation: { acknowledgement: { reviewer: 'dr-lee', level: 1 } } })));
  expect((await as(users['nurse-kim']!, ['apply', '-f', file])).out).toContain('you are nurse-kim, the acknowledgement names dr-lee');
  // A review is checked the same way.
  const card = { intendedUse: 'ICU early warning', outOfScope: 'children', limitations: 'one site', trainingData: '2019–2023',
    performance: 'AUROC 0.87', owner: 'critical care informatics', contact: 'icu-ai@hospital.example' };
  const review = (reviewer: string) => ['-n', ns, 'patch', 'clm', 'sepsis', '--type=merge', '-p',
    JSON.stringify({ spec: { modelCard: card, governance: { review: { reviewer, note: 'quarterly review' } } } })];
  expect((await as(users['nurse-kim']!, review('dr-lee'))).out).toContain('spec.governance.review.reviewer must be the person who writes it: you are nurse-kim, the review names dr-lee');
  expect(await as(users['dr-lee']!, review('dr-lee'))).toMatchObject({ ok: true });
  // And each go/no-go signature: a new one names its writer; one already there is carried along.
  const sha = 'a'.repeat(64);
  const sign = (signatures: Array<{ item: string; signedBy: string }>) => ['-n', ns, 'patch', 'clm', 'sepsis', '--type=merge', '-p',
    JSON.stringify({ spec: { approval: { items: ['performance-validation', 'go-no-go'], signatures: signatures.map((x) => ({ ...x, sha256: sha })) } } })];
  expect((await as(users['nurse-kim']!, sign([{ item: 'go-no-go', signedBy: 'dr-lee' }]))).out)
    .toContain('spec.approval.signatures: a new signature must name the person who writes it (signedBy), and you are nurse-kim');
  expect(await as(users['dr-lee']!, sign([{ item: 'performance-validation', signedBy: 'dr-lee' }]))).toMatchObject({ ok: true });
  expect(await as(users['nurse-kim']!, sign([{ item: 'performance-validation', signedBy: 'dr-lee' }, { item: 'go-no-go', signedBy: 'nurse-kim' }]))).toMatchObject({ ok: true });
  expect((await getJson<ClinicalModel>(['-n', ns, 'get', 'clm', 'sepsis'])).spec.approval?.signatures?.map((x) => x.signedBy)).toEqual(['dr-lee', 'nurse-kim']);
});

it('refuses a status patch that lowers the level by anyone but the operator', async () => {
  const refused = await as(users['nurse-kim']!, level(0));
  expect(refused.ok).toBe(false);
  expect(refused.out).toContain(`ValidatingAdmissionPolicy '${release}-escalation-record' with binding '${release}-escalation-record' denied request: ` +
    `status.escalation is changed only by the clinops operator (system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SA}), not by nurse-kim`);
  expect((await getJson<ClinicalModel>(['-n', ns, 'get', 'clm', 'sepsis'])).status?.escalation?.level).toBe(2);
  // The operator writes its record.
  expect(await as(operatorKubeconfig(), level(0))).toMatchObject({ ok: true });
  expect((await getJson<ClinicalModel>(['-n', ns, 'get', 'clm', 'sepsis'])).status?.escalation?.level).toBe(0);
});

it('keeps the escalation record the operator\'s: nobody else edits it, only an administrator retires it', async () => {
  const record = (level: number) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: 'sepsis-escalation-record', namespace: ns, labels: { 'clinops.dev/escalation-record-of': 'sepsis' } },
    data: { 'record.json': JSON.stringify({ model: 'sepsis', uid: 'u', modelVersion: '1.0.0', sha256: 'a'.repeat(64), writtenAt: '2026-11-22T00:00:00Z', escalation: { level } }) } });
  const file = (level: number) => {
    const f = join(mkdtempSync(join(tmpdir(), 'clinops-admission-')), 'record.json');
    writeFileSync(f, record(level));
    return f;
  };
  expect(await as(operatorKubeconfig(), ['apply', '-f', file(3)])).toMatchObject({ ok: true });
  const edit = await as(users['nurse-kim']!, ['apply', '-f', file(0)]);
  expect(edit.out).toContain('the escalation record is written only by the clinops operator');
  const gone = await as(users['nurse-kim']!, ['-n', ns, 'delete', 'configmap', 'sepsis-escalation-record']);
  expect(gone.out).toContain('only an administrator (admission.recordRetirers) retires an escalation record, not nurse-kim');
  expect(JSON.parse((await getJson(['-n', ns, 'get', 'configmap', 'sepsis-escalation-record'])).data['record.json']).escalation.level).toBe(3);
  // The cluster administrator (system:masters) retires it.
  await kubectl(['-n', ns, 'delete', 'configmap', 'sepsis-escalation-record']);
});
