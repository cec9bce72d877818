// The operator against a real control plane: children with the GPU spec, pods on GPU nodes only,
import { jest } from '@jest/globals';
// spec changes rolled out, hand edits reverted, the scale subresource, unschedulable GPU requests
// reported, and children garbage-collected with their ClinicalModel.
import type { Operator } from '../../operator/operator.js';
import { OPERATOR_USER } from '../../hack/cluster/install.js';
import { auditLog, createModelsClaim, deleteNamespaces, eventually, getJson, kubectl, model, newNamespace, startOperator } from './support.js';

jest.setTimeout(120_000);

let operator: Operator;
let ns: string;

beforeAll(async () => {
  ns = await newNamespace('reconcile');
  await createModelsClaim(ns);
  operator = await startOperator({ identity: 'reconcile-test' });
  await eventually('operator to lead', async () => operator.isLeader);
});

afterAll(async () => {
  await operator?.stop();
  await deleteNamespaces();
});

async function clm(name: string) {
  return getJson(['-n', ns, 'get', 'clm', name]);
}

it('is closed by default: the API server refuses a model with no API keys that does not say it serves anyone, or says both', async () => {
  const bare = model(ns, 'no-keys') as { spec: Record<string, unknown> };
  bare.spec.serving = { replicas: 1 };
  const refused = await kubectl(['apply', '-f', '-'], JSON.stringify(bare)).then(() => '', (e: { stderr?: string }) => e.stderr ?? String(e));
  expect(refused).toContain('serving.apiKeySecretRef is required: without API keys the server would answer anyone who can reach it');
  bare.spec.serving = { replicas: 1, allowUnauthenticated: true, apiKeySecretRef: { name: 'keys' } };
  const both = await kubectl(['apply', '-f', '-'], JSON.stringify(bare)).then(() => '', (e: { stderr?: string }) => e.stderr ?? String(e));
  expect(both).toContain('serving.allowUnauthenticated cannot be true beside serving.apiKeySecretRef: choose one');
  expect(await kubectl(['-n', ns, 'get', 'clm', 'no-keys', '--ignore-not-found', '-o', 'name'])).toBe('');
});

describe('a GPU ClinicalModel', () => {
  const name = 'pneumonia-cxr';

  beforeAll(async () => {
    await kubectl(['apply', '-f', '-'], JSON.stringify(model(ns, name, {
      serving: {
        replicas: 2,
        gpu: { count: 1, product: 'NVIDIA-H100-80GB-HBM3' },
        resources: { requests: { cpu: '1', memory: '2Gi' } },
      },
    })));
  });

  it('gets a Deployment with GPU limits, node selector, toleration, probes and a restricted security context', async () => {
    const dep = await eventually('deployment', () => getJson(['-n', ns, 'get', 'deployment', name]));
    const cr = await clm(name);
    expect(dep.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ClinicalModel', name, uid: cr.metadata.uid, controller: true, blockOwnerDeletion: true }),
    ]);
    expect(dep.spec.replicas).toBe(2);
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    expect(c.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(c.resources.requests).toMatchObject({ cpu: '1', memory: '2Gi' });
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    expect(pod.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    expect(c.livenessProbe.httpGet.path).toBe('/health/live');
    expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(pod.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName: 'models', readOnly: true } });
    expect(c.env).toContainEqual({ name: 'CLINOPS_MODEL_PATH', value: `/models/${name}/model.onnx` });
    // Served without keys only because the spec says so: the server is told, and status says it plainly.
    expect(c.env).toContainEqual({ name: 'CLINOPS_ALLOW_UNAUTHENTICATED', value: 'true' });
    const open = await eventually('Unauthenticated condition', async () => (await clm(name)).status?.conditions?.find((x: { type: string }) => x.type === 'Unauthenticated'));
    expect(open).toMatchObject({ status: 'True', reason: 'AllowUnauthenticated', message: expect.stringContaining('anyone who can reach the Service may predict') });
    expect(dep.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'clinops-operator', 'app.kubernetes.io/instance': name });
  });

  it('gets a Service on port 8080 selecting its pods', async () => {
    const svc = await eventually('service', () => getJson(['-n', ns, 'get', 'service', name]));
    expect(svc.spec.ports).toEqual([expect.objectContaining({ name: 'http', port: 8080, targetPort: 'http' })]);
    expect(svc.spec.selector).toEqual({ 'app.kubernetes.io/name': 'clinops-model', 'app.kubernetes.io/instance': name });
  });

  it('has its pods admitted under Pod Security "restricted" and scheduled only onto GPU nodes', async () => {
    const pods = await eventually('two scheduled pods', async () => {
      const list = await getJson(['-n', ns, 'get', 'pods', '-l', `app.kubernetes.io/instance=${name}`]);
      const scheduled = list.items.filter((p: { spec: { nodeName?: string } }) => p.spec.nodeName);
      return scheduled.length === 2 ? scheduled : undefined;
    });
    for (const p of pods) expect(p.spec.nodeName).toMatch(/^gpu-node-/);
  });

  it('reports Serving with ready replicas, selector, endpoint and conditions carrying observedGeneration', async () => {
    const cr = await eventually('Serving', async () => {
      const c = await clm(name);
      return c.status?.phase === 'Serving' ? c : undefined;
    });
    expect(cr.status).toMatchObject({
      replicas: 2,
      readyReplicas: 2,
      observedGeneration: cr.metadata.generation,
      selector: `app.kubernetes.io/instance=${name},app.kubernetes.io/name=clinops-model`,
      endpoint: `http://${name}.${ns}.svc:8080`,
    });
    const ready = cr.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'True', reason: 'AllReplicasReady', observedGeneration: cr.metadata.generation });
    const table = await kubectl(['-n', ns, 'get', 'clm']);
    expect(table.split('\n')[0]).toMatch(/NAME\s+PHASE\s+DESIRED\s+CURRENT\s+READY\s+LEVEL\s+DRIFT\s+AGE/);
    expect(table).toMatch(new RegExp(`${name}\\s+Serving\\s+2\\s+2\\s+2`));
  });

  it('records Events on the ClinicalModel', async () => {
    const events = await eventually('events', async () => {
      const list = await getJson(['-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=${name}`]);
      const reasons = list.items.map((e: { reason: string }) => e.reason);
      return reasons.includes('Created') && reasons.includes('Serving') ? list.items : undefined;
    });
    const created = events.find((e: { reason: string }) => e.reason === 'Created');
    expect(created.message).toBe(`Deployment ${name} and Service ${name} created`);
    expect(created.source.component).toBe('clinops-operator');
  });

  it('rolls a spec change out to the Deployment', async () => {
    await kubectl(['-n', ns, 'patch', 'clm', name, '--type=merge', '-p', JSON.stringify({ spec: { model: { version: '1.1.0' } } })]);
    const dep = await eventually('new version in the deployment', async () => {
      const d = await getJson(['-n', ns, 'get', 'deployment', name]);
      const env = d.spec.template.spec.containers[0].env as Array<{ name: string; value: string }>;
      return env.find((e) => e.name === 'CLINOPS_MODEL_VERSION')?.value === '1.1.0' ? d : undefined;
    });
    expect(dep.metadata.labels['app.kubernetes.io/version']).toBe('1.1.0');
  });

  it('reverts a hand edit of its Deployment', async () => {
    await kubectl(['-n', ns, 'set', 'image', `deployment/${name}`, 'server=evil/image:latest']);
    await kubectl(['-n', ns, 'patch', 'deployment', name, '--type=merge', '-p', '{"spec":{"replicas":5}}']);
    await eventually('image and replicas restored', async () => {
      const d = await getJson(['-n', ns, 'get', 'deployment', name]);
      return d.spec.template.spec.containers[0].image === 'clinops/inference-server:test' && d.spec.replicas === 2;
    });
  });

  it('reverts a hand edit of its Service', async () => {
    await kubectl(['-n', ns, 'patch', 'service', name, '--type=merge', '-p',
      JSON.stringify({ spec: { selector: { 'app.kubernetes.io/instance': 'someone-else' } } })]);
    await eventually('selector restored', async () => {
      const s = await getJson(['-n', ns, 'get', 'service', name]);
      return s.spec.selector['app.kubernetes.io/instance'] === name;
    });
  });

  it('scales through the scale subresource (kubectl scale clm)', async () => {
    await kubectl(['-n', ns, 'scale', `clm/${name}`, '--replicas=3']);
    await eventually('3 replicas', async () => {
      const d = await getJson(['-n', ns, 'get', 'deployment', name]);
      const c = await clm(name);
      return d.spec.replicas === 3 && c.status?.replicas === 3 && c.status?.readyReplicas === 3;
    });
    const scale = JSON.parse(await kubectl(['get', '--raw', `/apis/clinops.dev/v1alpha1/namespaces/${ns}/clinicalmodels/${name}/scale`]));
    expect(scale.status).toMatchObject({ replicas: 3, selector: expect.stringContaining(`app.kubernetes.io/instance=${name}`) });
  });

  it('wrote through its own ServiceAccount, never as admin', async () => {
    const writes = auditLog().writes(OPERATOR_USER).filter((w) => w.namespace === ns);
    expect(writes.map((w) => w.resource)).toEqual(expect.arrayContaining(['deployments', 'services', 'clinicalmodels', 'events']));
    expect(writes.filter((w) => w.resource === 'clinicalmodels').every((w) => w.subresource === 'status')).toBe(true);
  });

  it('has its children garbage-collected when deleted', async () => {
    await kubectl(['-n', ns, 'delete', 'clm', name, '--wait=true']);
    await eventually('children gone', async () => {
      const deps = await getJson(['-n', ns, 'get', 'deployments']);
      const svcs = await getJson(['-n', ns, 'get', 'services']);
      return deps.items.length === 0 && svcs.items.length === 0;
    }, 60_000);
  });
});

describe('a ClinicalModel asking for more GPUs than any node has', () => {
  it('reports the scheduler\'s reason in its conditions', async () => {
    const name = 'too-big';
    await kubectl(['apply', '-f', '-'], JSON.stringify(model(ns, name, { serving: { replicas: 1, gpu: { count: 16 } } })));
    const cr = await eventually('Unschedulable condition', async () => {
      const c = await clm(name);
      const ready = c.status?.conditions?.find((x: { type: string }) => x.type === 'Ready');
      return ready?.reason === 'Unschedulable' ? c : undefined;
    });
    const scheduled = cr.status.conditions.find((x: { type: string }) => x.type === 'PodsScheduled');
    expect(scheduled.status).toBe('False');
    expect(scheduled.message).toMatch(/Insufficient nvidia\.com\/gpu/);
    expect(cr.status.phase).toBe('Deploying');
    const events = await getJson(['-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=${name},reason=Unschedulable`]);
    expect(events.items.length).toBeGreaterThan(0);
  });
});

describe('a CPU-only ClinicalModel', () => {
  it('runs on the CPU node without GPU limits or tolerations', async () => {
    const name = 'sepsis-cpu';
    await kubectl(['apply', '-f', '-'], JSON.stringify(model(ns, name, { serving: { replicas: 1 } })));
    const pod = await eventually('scheduled pod', async () => {
      const list = await getJson(['-n', ns, 'get', 'pods', '-l', `app.kubernetes.io/instance=${name}`]);
      return list.items.find((p: { spec: { nodeName?: string } }) => p.spec.nodeName);
    });
    expect(pod.spec.nodeName).toBe('cpu-node-0');
    expect(pod.spec.containers[0].resources.limits?.['nvidia.com/gpu']).toBeUndefined();
  });
});

describe('an escalation level recorded in status', () => {
  it('pauses the model (replicas 0, phase Paused) and resumes it at its declared size when the level is cleared', async () => {
    const name = 'escalated';
    await kubectl(['apply', '-f', '-'], JSON.stringify(model(ns, name, { serving: { replicas: 2 } })));
    await eventually('Serving', async () => (await clm(name)).status?.phase === 'Serving');
    // What a drift check decides is written to status.escalation; here written by hand.
    await kubectl(['-n', ns, 'patch', 'clm', name, '--subresource=status', '--type=merge', '-p',
      JSON.stringify({ status: { escalation: { level: 2, reason: 'significant drift (PSI 0.40)' } } })]);
    await eventually('paused', async () => {
      const d = await getJson(['-n', ns, 'get', 'deployment', name]);
      const c = await clm(name);
      return d.spec.replicas === 0 && c.status.phase === 'Paused';
    });
    expect((await clm(name)).spec.serving.replicas).toBe(2);
    await kubectl(['-n', ns, 'patch', 'clm', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { escalation: { level: 0 } } })]);
    await eventually('resumed', async () => {
      const d = await getJson(['-n', ns, 'get', 'deployment', name]);
      return d.spec.replicas === 2 && (await clm(name)).status.phase === 'Serving';
    });
  });
});

describe('an object in the way', () => {
  it('is not taken over: the ClinicalModel reports Failed and says what to do', async () => {
    const name = 'squatter';
    await kubectl(['-n', ns, 'create', 'deployment', name, '--image=someone/else:1']);
    await kubectl(['apply', '-f', '-'], JSON.stringify(model(ns, name)));
    const cr = await eventually('Failed', async () => {
      const c = await clm(name);
      return c.status?.phase === 'Failed' ? c : undefined;
    });
    expect(cr.status.conditions.find((c: { type: string }) => c.type === 'Ready').message).toMatch(/not controlled by this ClinicalModel/);
    const d = await getJson(['-n', ns, 'get', 'deployment', name]);
    expect(d.spec.template.spec.containers[0].image).toBe('someone/else:1');
    // It keeps retrying with backoff, but warns once per distinct failure, not once per retry.
    await new Promise((r) => setTimeout(r, 3000));
    const warnings = await getJson(['-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=${name},reason=ReconcileFailed`]);
    expect(warnings.items).toHaveLength(1);
  });
});
