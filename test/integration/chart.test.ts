// The Helm chart on a control plane of its own (the CRD is the chart's to install): lint, rendering
// with defaults, every toggle and someone else's values file, the schema refusing a typo, the rendered
// output accepted by the API server, a real install whose operator (out of cluster, as the chart's
// ServiceAccount) reconciles a sample, an upgrade with the same values changing nothing, Pod Security
// "restricted" admitting the chart's pods, GitOps-clean samples, and uninstall keeping the CRD.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { loadOperatorConfig } from '../../operator/config.js';
import { createLogger } from '../../contract/log.js';
import { Operator } from '../../operator/operator.js';
import { AuditLog } from '../../hack/cluster/audit.js';
import { type ControlPlane, repoRoot, startControlPlane } from '../../hack/cluster/controlplane.js';
import { CHART, helm, type HelmInstall, helmInstall } from '../../hack/cluster/helm.js';
import { eventually } from './support.js';

jest.setTimeout(240_000);

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

let cp: ControlPlane;
let operator: Operator | undefined;
const samples = join(repoRoot, 'samples');
const MONITORING = ['--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor', '--api-versions', 'monitoring.coreos.com/v1/PodMonitor',
  '--api-versions', 'monitoring.coreos.com/v1/PrometheusRule'];
const ALL_TOGGLES = ['--set', 'metrics.serviceMonitor.enabled=true,metrics.podMonitor.enabled=true,metrics.prometheusRule.enabled=true,' +
  'metrics.grafanaDashboard.enabled=true,networkPolicy.enabled=true,networkPolicy.modelNamespaces={icu,radiology}'];

beforeAll(async () => {
  cp = await startControlPlane({ crds: [], log: () => undefined });
});

afterAll(async () => {
  await operator?.stop();
  await cp?.stop();
});

const parse = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJSON() as Obj).filter((o) => o !== null);
const template = async (args: string[] = []) => parse(await helm(cp, ['template', 'clinops', CHART, '-n', 'clinops-system', ...args]));
const kinds = (objs: Obj[]) => objs.map((o) => o.kind).sort();

async function json(args: string[]): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(await cp.kubectl([...args, '-o', 'json']));
}


describe('rendering', () => {
  it('passes helm lint', async () => {
    expect(await helm(cp, ['lint', CHART, '--strict'])).toContain('0 chart(s) failed');
  });

  it('renders the defaults: one object per kind the chart needs, each with the standard labels', async () => {
    const objs = await template();
    expect(kinds(objs)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'CustomResourceDefinition', 'Deployment', 'Role', 'RoleBinding',
      'Service', 'ServiceAccount', ...Array(7).fill('ValidatingAdmissionPolicy'), ...Array(7).fill('ValidatingAdmissionPolicyBinding')]);
    // The admission policies name the chart's own ServiceAccount as the one writer of status.
    const record = objs.find((o) => o.kind === 'ValidatingAdmissionPolicy' && o.metadata.name === 'clinops-status')!;
    expect(record.spec.validations[0].expression).toContain('request.userInfo.username in ["system:serviceaccount:clinops-system:clinops"]');
    expect(kinds(await template(['--set', 'admission.enabled=false'])).filter((k) => k.startsWith('Validating'))).toEqual([]);
    for (const o of objs) {
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'clinops', 'app.kubernetes.io/instance': 'clinops', 'app.kubernetes.io/version': '0.1.0',
        'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': 'clinops-0.1.0',
      });
    }
    const deploy = objs.find((o) => o.kind === 'Deployment')!;
    expect(deploy.spec.replicas).toBe(2);
    const pod = deploy.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.containers[0].livenessProbe.httpGet.path).toBe('/healthz');
    expect(pod.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
    expect(pod.containers[0].resources.requests).toBeDefined();
    expect(pod.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'kubernetes.io/hostname', maxSkew: 1 });
    expect(pod.containers[0].args).toEqual(expect.arrayContaining(['--lease-namespace=clinops-system', '--lease-name=clinops']));
  });

  it('grants the same rules as config/rbac, without wildcards', async () => {
    const objs = await template();
    const shipped = parse(readFileSync(join(repoRoot, 'config', 'rbac', 'cluster-role.yaml'), 'utf8'))[0]!;
    const role = objs.find((o) => o.kind === 'ClusterRole')!;
    expect(role.rules).toEqual(shipped.rules);
    const lease = objs.find((o) => o.kind === 'Role')!;
    expect(lease.rules[0]).toEqual({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['clinops'], verbs: ['get', 'update'] });
    expect(JSON.stringify([role.rules, lease.rules])).not.toContain('*');
  });

  it("renders the CRD equal to crds/, with the keep policy by default and none when crds.keep=false", async () => {
    const crds = (await template()).filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds.map((c) => c.metadata.name).sort()).toEqual(['clinicalmodels.clinops.dev', 'revokedversions.clinops.dev']);
    for (const crd of crds) {
      const source = parse(readFileSync(join(repoRoot, 'crds', `${crd.metadata.name}.yaml`), 'utf8'))[0]!;
      expect(crd.spec).toEqual(source.spec);
      expect(crd.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    }
    expect((await template(['--set', 'crds.keep=false'])).find((o) => o.kind === 'CustomResourceDefinition')!.metadata.annotations).toBeUndefined();
    expect(kinds(await template(['--set', 'crds.enabled=false']))).not.toContain('CustomResourceDefinition');
  });

  it('renders every optional object when toggled, monitoring ones only where the API exists', async () => {
    const all = await template([...ALL_TOGGLES, ...MONITORING]);
    expect(kinds(all)).toEqual(expect.arrayContaining(['ConfigMap', 'NetworkPolicy', 'PodMonitor', 'PrometheusRule', 'ServiceMonitor']));
    expect(all.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.namespace)).toEqual(['icu', 'radiology']);
    const rule = all.find((o) => o.kind === 'PrometheusRule')!;
    expect(rule.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules)).toHaveLength(11);
    const dashboard = all.find((o) => o.kind === 'ConfigMap')!;
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(JSON.parse(dashboard.data['clinops.json']).uid).toBe('clinops-overview');
    const withoutApi = kinds(await template(ALL_TOGGLES));
    expect(withoutApi).not.toContain('ServiceMonitor');
    expect(withoutApi).not.toContain('PrometheusRule');
  });

  it("renders with someone else's production values file", async () => {
    const objs = await template(['-f', join(repoRoot, 'test', 'fixtures', 'helm', 'values-hospital.yaml'), ...MONITORING]);
    const deploy = objs.find((o) => o.kind === 'Deployment')!;
    expect(deploy.spec.replicas).toBe(3);
    expect(deploy.spec.template.spec.containers[0].image).toMatch(/clinops-operator@sha256:[0-9a-f]{64}$/);
    expect(objs.find((o) => o.kind === 'ConfigMap')!.metadata.namespace).toBe('monitoring');
    // The operator reaches both ports; model pods (a serving version's copies to its candidate in shadow) the
    // monitoring port; the hospital's two callers the serving port alone, not the monitoring signals.
    const [operator, models, callers] = objs.find((o) => o.kind === 'NetworkPolicy')!.spec.ingress;
    expect(operator.from).toHaveLength(1);
    expect(operator.ports.map((p: { port: string }) => p.port)).toEqual(['http', 'monitoring']);
    expect(models.from).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'clinops-model', 'app.kubernetes.io/managed-by': 'clinops-operator' } } }]);
    expect(models.ports.map((p: { port: string }) => p.port)).toEqual(['monitoring']);
    expect(callers.from).toHaveLength(2);
    expect(callers.ports.map((p: { port: string }) => p.port)).toEqual(['http']);
  });

  it('refuses a misspelled key and a wrong type with a message naming them', async () => {
    await expect(template(['--set', 'operator.replicaCout=3'])).rejects.toThrow(/additional properties 'replicaCout' not allowed/);
    await expect(template(['--set', 'operator.logLevel=verbose'])).rejects.toThrow(/logLevel/);
    await expect(template(['--set-string', 'operator.workers=many'])).rejects.toThrow(/workers/);
  });
});

describe('on the cluster', () => {
  let installed: HelmInstall;

  it('the API server accepts the rendered output (dry run), with every toggle', async () => {
    await cp.kubectl(['apply', '-f', join(repoRoot, 'test', 'fixtures', 'monitoring-crds.yaml')]);
    await cp.kubectl(['wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com', 'crd/podmonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
    for (const ns of ['clinops-system', 'icu', 'radiology']) await cp.kubectl(['create', 'namespace', ns]);
    const rendered = await helm(cp, ['template', 'clinops', CHART, '-n', 'clinops-system', ...ALL_TOGGLES, ...MONITORING]);
    // The CRD first, then the rest (a ClinicalModel-free render needs no established CRD).
    const out = await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], rendered);
    expect(out).toContain('customresourcedefinition.apiextensions.k8s.io/clinicalmodels.clinops.dev created (server dry run)');
    expect(out).toContain('deployment.apps/clinops-operator created (server dry run)');
    expect(out).toContain('prometheusrule.monitoring.coreos.com/clinops created (server dry run)');
    expect(out.trim().split('\n').every((l) => l.endsWith('(server dry run)'))).toBe(true);
  });

  it('installs into a namespace enforcing Pod Security "restricted"; the pods are admitted', async () => {
    await cp.kubectl(['delete', 'namespace', 'clinops-system', '--wait=true']);
    installed = await helmInstall(cp, { args: ['--set', 'metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true'] });
    expect(await cp.kubectl(['get', 'servicemonitor,prometheusrule', '-n', 'clinops-system', '-o', 'name'])).toContain('servicemonitor.monitoring.coreos.com/clinops-operator');
    const pods = await eventually('two operator pods', async () => {
      const list = await json(['-n', 'clinops-system', 'get', 'pods', '-l', 'app.kubernetes.io/instance=clinops']);
      return list.items.length === 2 ? list.items : undefined;
    });
    expect(pods.map((p: { spec: { nodeName?: string } }) => p.spec.nodeName)).toHaveLength(2);
    const rs = await json(['-n', 'clinops-system', 'get', 'replicasets']);
    expect(rs.items[0].status.replicas).toBe(2);
  });

  it("the operator, with the chart's ServiceAccount token, reconciles a sample", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(installed.operatorKubeconfig);
    const config = loadOperatorConfig({ kubeconfig: installed.operatorKubeconfig, httpAddress: '127.0.0.1:0', leaseNamespace: installed.namespace,
      leaseName: installed.leaseName, identity: 'chart-test', logLevel: 'warn' }, {});
    operator = new Operator(config, { kc, log: createLogger('warn', {}), leaseTimings: { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 } });
    await operator.start();
    await eventually('leading', async () => operator!.isLeader);
    await cp.kubectl(['apply', '--server-side', '-f', join(samples, 'sepsis-early-warning.yaml'), '-f', join(samples, 'sepsis-early-warning-reference.yaml'),
      '-f', join(samples, 'local', 'icu-models-volume.yaml')]);
    await eventually('sepsis-early-warning Serving', async () => (await json(['-n', 'icu', 'get', 'clm', 'sepsis-early-warning'])).status?.phase === 'Serving', 90_000);
    // Restricted Pod Security in the model's namespace admitted the inference pods too.
    expect((await json(['-n', 'icu', 'get', 'pods'])).items).toHaveLength(2);
  });

  it('helm upgrade with the same values changes nothing', async () => {
    const manifest = parse(await helm(cp, ['get', 'manifest', 'clinops', '-n', 'clinops-system']));
    const versions = async () => Promise.all(manifest.map(async (o) => {
      const args = o.metadata.namespace ? ['-n', o.metadata.namespace] : [];
      return `${o.kind}/${o.metadata.name}@${(await json([...args, 'get', `${o.kind.toLowerCase()}/${o.metadata.name}`])).metadata.resourceVersion}`;
    }));
    const before = await versions();
    await helm(cp, ['upgrade', 'clinops', CHART, '-n', 'clinops-system', '--reuse-values']);
    expect(await versions()).toEqual(before);
    expect(before.length).toBeGreaterThanOrEqual(10);
  });

  it('GitOps: applying the samples twice changes nothing; git equals the cluster; the operator never writes spec', async () => {
    const audit = new AuditLog(cp.auditLog);
    const files = ['sepsis-early-warning.yaml', 'sepsis-early-warning-reference.yaml', 'pneumonia-cxr.yaml', 'pneumonia-cxr-reference.yaml']
      .map((f) => join(samples, f));
    const apply = () => cp.kubectl(['apply', '--server-side', ...files.flatMap((f) => ['-f', f])]);
    await apply();
    const rv = async () => [
      ...(await json(['-n', 'icu', 'get', 'clm/sepsis-early-warning', 'configmap/sepsis-reference', 'secret/sepsis-api-keys'])).items,
      ...(await json(['-n', 'radiology', 'get', 'clm/pneumonia-cxr', 'configmap/pneumonia-reference', 'secret/pneumonia-api-keys'])).items,
    ].map((o: Obj) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`);
    // The operator is still writing the status of the model the first apply created (its pods become
    // ready on the fake GPU nodes): compare once nothing moves.
    const before = await eventually('the ClinicalModels to settle', async () => {
      const a = await rv();
      await new Promise((r) => setTimeout(r, 1500));
      return (await rv()).join() === a.join() ? a : undefined;
    }, 90_000);
    await apply();
    expect(await rv()).toEqual(before);

    // Every field the samples set comes back from the API server unchanged.
    const leaves = (v: unknown, path: string[] = []): Array<[string[], unknown]> =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]))
        : [[path, v]];
    let live: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const file of [files[2]!, files[0]!]) {
      const inGit = parse(readFileSync(file, 'utf8')).find((o) => o.kind === 'ClinicalModel')!;
      live = await json(['-n', inGit.metadata.namespace!, 'get', 'clm', inGit.metadata.name, '--show-managed-fields']);
      for (const [path, value] of leaves(inGit.spec)) {
        expect([path.join('.'), path.reduce((o: any, k) => o?.[k], live.spec)]).toEqual([path.join('.'), value]); // eslint-disable-line @typescript-eslint/no-explicit-any
      }
    }
    // The operator wrote status only (counted in the API server's audit log since the install).
    const managers = (live.metadata.managedFields as Array<{ manager: string; subresource?: string; fieldsV1: Record<string, unknown> }>)
      .filter((m) => 'f:spec' in m.fieldsV1).map((m) => m.manager);
    expect(managers).toEqual(['kubectl']);
    const fromStart = audit.writes(installed.user);
    expect(fromStart.filter((w) => w.resource === 'clinicalmodels' && w.subresource !== 'status')).toEqual([]);
    expect(fromStart.filter((w) => w.resource === 'clinicalmodels' && w.subresource === 'status').length).toBeGreaterThan(0);
  });

  it('uninstall removes the operator and keeps the CRD and the ClinicalModels', async () => {
    await operator?.stop();
    operator = undefined;
    await helm(cp, ['uninstall', 'clinops', '-n', 'clinops-system']);
    expect(await cp.kubectl(['get', 'deployments', '-n', 'clinops-system', '-o', 'name'])).toBe('');
    expect(await cp.kubectl(['get', 'crd', 'clinicalmodels.clinops.dev', '-o', 'name'])).toContain('clinicalmodels.clinops.dev');
    expect(await cp.kubectl(['get', 'clm', '-n', 'icu', '-o', 'name'])).toContain('sepsis-early-warning');
  });
});
