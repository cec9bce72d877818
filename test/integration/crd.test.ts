// The API server, not the operator, guards the API: invalid ClinicalModels are rejected with
// messages a person can act on, defaults come from the schema, and `kubectl explain` teaches it.
import { jest } from '@jest/globals';
import { deleteNamespaces, getJson, kubectl, kubectlFails, model, newNamespace, SHA } from './support.js';

jest.setTimeout(60_000);

let ns: string;
beforeAll(async () => {
  ns = await newNamespace('crd');
});
afterAll(() => deleteNamespaces());

function withSpec(name: string, patch: (spec: any) => void): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const m = model(ns, name) as { spec: Record<string, unknown> };
  patch(m.spec);
  return JSON.stringify(m);
}

describe('validation', () => {
  it.each([
    ['a sha256 that is not 64 hex characters', (s: any) => { s.model.sha256 = 'abc123'; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      `spec.model.sha256: Invalid value: "abc123": spec.model.sha256 in body should match '^[0-9a-fA-F]{64}$'`],
    ['a model uri with an unknown scheme', (s: any) => { s.model.uri = 'gs://bucket/model.onnx'; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.model.uri: Invalid value: "gs://bucket/model.onnx": spec.model.uri in body should match \'^(pvc://'],
    ['an s3:// model without credentials', (s: any) => { s.model.uri = 's3://models/sepsis/model.onnx'; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.model.credentialsSecretRef: Invalid value: "object": an s3:// model needs model.credentialsSecretRef'],
    ['credentials for a model on a claim', (s: any) => { s.model.credentialsSecretRef = { name: 'models-s3' }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'and only an s3:// model takes one'],
    ['moderate PSI not below significant', (s: any) => { s.monitoring = { psi: { moderate: 0.3, significant: 0.2 } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.monitoring.psi: Invalid value: "object": moderate must be less than significant'],
    ['negative replicas', (s: any) => { s.serving = { replicas: -1 }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.serving.replicas: Invalid value: -1: spec.serving.replicas in body should be greater than or equal to 0'],
    ['autoscaling with more minReplicas than maxReplicas', (s: any) => { s.serving = { autoscaling: { minReplicas: 4, maxReplicas: 2, metric: 'requestsPerSecond', target: 10 } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.serving.autoscaling: Invalid value: "object": autoscaling.minReplicas must not exceed autoscaling.maxReplicas'],
    ['autoscaling on an unknown metric', (s: any) => { s.serving = { autoscaling: { maxReplicas: 2, metric: 'cpu', target: 10 } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.serving.autoscaling.metric: Unsupported value: "cpu"'],
    ['a scale-down delay above an hour', (s: any) => { s.serving = { autoscaling: { maxReplicas: 2, metric: 'inflightRequests', target: 4, scaleDownDelay: '2h' } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.serving.autoscaling.scaleDownDelay: Invalid value: "string": must be at most 1h'],
    ['a negative GPU count', (s: any) => { s.serving = { gpu: { count: -2 } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.serving.gpu.count: Invalid value: -2'],
    ['an acknowledgement without a reviewer', (s: any) => { s.escalation = { acknowledgement: { level: 2, reviewer: '   ' } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      `spec.escalation.acknowledgement.reviewer: Invalid value: "   ": spec.escalation.acknowledgement.reviewer in body should match '\\S'`],
    ['an acknowledgement with no reviewer field', (s: any) => { s.escalation = { acknowledgement: { level: 2 } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.escalation.acknowledgement.reviewer: Required value'],
    ['ScaleDown without replicas', (s: any) => { s.escalation = { level1: { action: 'ScaleDown' } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.escalation.level1: Invalid value: "object": ScaleDown needs replicas'],
    ['an unknown action', (s: any) => { s.escalation = { level2: { action: 'Ignore' } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.escalation.level2.action: Unsupported value: "Ignore"'],
    ['an audit folder outside its claim', (s: any) => { s.serving = { audit: { claimName: 'audit', subPath: '../etc' } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      "spec.serving.audit.subPath: Invalid value: \"string\": must be a relative path without '..'"],
    ['an unknown image pull policy', (s: any) => { s.serving = { imagePullPolicy: 'Sometimes' }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.serving.imagePullPolicy: Unsupported value: "Sometimes"'],
    ['a monitoring interval that is not a duration', (s: any) => { s.monitoring = { interval: 'hourly' }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      `spec.monitoring.interval: Invalid value: "hourly": spec.monitoring.interval in body should match '^([0-9]+(ms|s|m|h))+$'`],
    ['a monitoring interval below 10s', (s: any) => { s.monitoring = { interval: '5s' }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.monitoring.interval: Invalid value: "string": must be at least 10s'],
    ['GPUs given as a resource limit', (s: any) => { s.serving = { resources: { limits: { 'nvidia.com/gpu': 1 } } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      "set GPUs with serving.gpu.count, not resources.limits['nvidia.com/gpu']"],
    ['no labels', (s: any) => { s.model.labels = []; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.model.labels: Invalid value: 0: spec.model.labels in body should have at least 1 items'],
    ['a governed model without a complete card', (s: any) => { s.governance = { reviewEvery: '90d' }; s.modelCard = { intendedUse: 'triage', owner: 'team' }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.modelCard: Invalid value: "object": a governed model (spec.governance) needs a complete model card: intendedUse, outOfScope, limitations, trainingData, performance, owner and contact'],
    ['a review cadence that is not a duration', (s: any) => { s.governance = { reviewEvery: 'quarterly' }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      `spec.governance.reviewEvery: Invalid value: "quarterly": spec.governance.reviewEvery in body should match`],
    ['features without a reference ConfigMap', (s: any) => { s.monitoring = { features: ['lactate'] }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.monitoring.features: Invalid value: "object": features need reference.configMapRef'],
    ['a feature named twice', (s: any) => { s.monitoring = { reference: { configMapRef: { name: 'r' } }, features: ['lactate', 'lactate'] }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.monitoring.features[1]: Duplicate value: "lactate"'],
    ['a feature name with a space in it', (s: any) => { s.monitoring = { reference: { configMapRef: { name: 'r' } }, features: ['mean radius'] }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.monitoring.features[0]: Invalid value: "mean radius": spec.monitoring.features[0] in body should match'],
    ['a labels key without a reference ConfigMap', (s: any) => { s.monitoring = { reference: { labelsKey: 'labels.json' } }; }, // eslint-disable-line @typescript-eslint/no-explicit-any
      'spec.monitoring.reference.labelsKey: Invalid value: "object": labelsKey names a key of reference.configMapRef'],
  ])('rejects %s', async (_what, patch, message) => {
    const stderr = await kubectlFails(['apply', '-f', '-'], withSpec('bad', patch));
    expect(stderr).toContain('The ClinicalModel "bad" is invalid');
    expect(stderr).toContain(message);
  });

  it('names every schema mistake of one apply together: a negative replica count and a bad sha256', async () => {
    const stderr = await kubectlFails(['apply', '-f', '-'], withSpec('bad', (s: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      s.model.sha256 = 'abc123';
      s.serving = { replicas: -1 };
      s.escalation = { level1: { reviewWithin: 'two days' } };
    }));
    expect(stderr).toContain('spec.model.sha256: Invalid value: "abc123"');
    expect(stderr).toContain('spec.serving.replicas: Invalid value: -1');
    expect(stderr).toContain('spec.escalation.level1.reviewWithin: Invalid value: "two days"');
  });

  it('stores nothing from a rejected apply', async () => {
    const list = await getJson(['-n', ns, 'get', 'clm']);
    expect(list.items).toHaveLength(0);
  });
});

describe('defaults', () => {
  it('fills serving, monitoring and escalation from the schema', async () => {
    await kubectl(['apply', '-f', '-'], JSON.stringify(model(ns, 'defaulted')));
    const cr = await getJson(['-n', ns, 'get', 'clm', 'defaulted']);
    expect(cr.spec.model.sha256).toBe(SHA);
    // allowUnauthenticated is the test's own (closed by default: the schema requires it or API keys).
    expect(cr.spec.serving).toEqual({ allowUnauthenticated: true, replicas: 1, imagePullPolicy: 'IfNotPresent' });
    expect(cr.spec.monitoring).toEqual({ interval: '5m', minSamples: 200, psi: { bins: 10, moderate: 0.1, significant: 0.2 }, ks: { pValue: 0.05, minStatistic: 0.1 } });
    expect(cr.spec.escalation).toEqual({
      consecutiveBreaches: 2,
      level1: { action: 'Alert', reviewWithin: '48h' },
      level2: { action: 'Pause' },
      level3: { action: 'Shutdown' },
    });
  });

  it('applying the same file twice server-side changes nothing', async () => {
    const manifest = JSON.stringify(model(ns, 'gitops'));
    await kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', '-'], manifest);
    const first = await getJson(['-n', ns, 'get', 'clm', 'gitops']);
    const out = await kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', '-'], manifest);
    const second = await getJson(['-n', ns, 'get', 'clm', 'gitops']);
    expect(out).toContain('serverside-applied');
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
  });
});

describe('discovery', () => {
  it('has the short name clm, the clinops category and documented fields', async () => {
    const resources = await kubectl(['api-resources', '--api-group=clinops.dev']);
    expect(resources).toMatch(/clinicalmodels\s+clm\s+clinops\.dev\/v1alpha1\s+true\s+ClinicalModel/);
    await expect(kubectl(['-n', ns, 'get', 'clinops'])).resolves.toContain('defaulted');
    const explain = await kubectl(['explain', 'clm.spec.serving.gpu']);
    expect(explain).toContain('GPUs per replica');
    expect(explain).toContain('nvidia.com/gpu limit of each replica');
  });
});
