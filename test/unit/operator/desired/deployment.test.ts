import { desiredDeployment } from '../../../../operator/desired/deployment.js';
import { clinicalModel } from '../fixtures.js';

const settings = { serverImage: 'clinops/inference-server:0.1.0' };
type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function podSpec(d: ReturnType<typeof desiredDeployment>): Any {
  return (d.spec.template as Any).spec;
}

describe('desiredDeployment', () => {
  it('is named after the model, owned by it as controller, with stable selector labels', () => {
    const d = desiredDeployment(clinicalModel(), settings);
    expect(d.metadata).toMatchObject({ name: 'pneumonia-cxr', namespace: 'radiology' });
    expect(d.metadata.ownerReferences).toEqual([{
      apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', name: 'pneumonia-cxr', uid: 'uid-1', controller: true, blockOwnerDeletion: true,
    }]);
    expect(d.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'clinops-model', 'app.kubernetes.io/instance': 'pneumonia-cxr' } });
    expect(d.metadata.labels['app.kubernetes.io/version']).toBe('3.0.0');
  });

  it('mounts the PVC read-only and points the server at the file inside it', () => {
    const spec = podSpec(desiredDeployment(clinicalModel(), settings));
    expect(spec.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName: 'models-claim', readOnly: true } });
    const env = spec.containers[0].env;
    expect(env).toContainEqual({ name: 'CLINOPS_MODEL_PATH', value: '/models/pneumonia/3/model.onnx' });
    expect(env).toContainEqual({ name: 'CLINOPS_MODEL_SHA256', value: 'abcdef'.padEnd(64, '0') });
    expect(env).toContainEqual({ name: 'CLINOPS_MODEL_LABELS', value: '["Normal","Pneumonia"]' });
    expect(spec.initContainers).toBeUndefined();
  });

  it('takes studies from a PACS: the accept rules, the destination, its credentials and CA mounted from Secrets (never in env)', () => {
    const cr = clinicalModel();
    cr.spec.integration = { dicom: { accept: { modalities: ['CR', 'DX'], bodyParts: ['CHEST'] }, destination: { url: 'https://pacs.example/dicom-web', credentialsSecretRef: { name: 'pacs-creds' }, caSecretRef: { name: 'pacs-ca', key: 'root.pem' } } } };
    const spec = podSpec(desiredDeployment(cr, settings));
    const env = spec.containers[0].env;
    expect(env).toContainEqual({ name: 'CLINOPS_DICOM_ACCEPT', value: '{"modalities":["CR","DX"],"bodyParts":["CHEST"]}' });
    expect(env).toContainEqual({ name: 'CLINOPS_DICOM_DESTINATION', value: 'https://pacs.example/dicom-web' });
    expect(env).toContainEqual({ name: 'CLINOPS_DICOM_DESTINATION_CREDENTIALS', value: '/etc/clinops/dicom-destination' });
    expect(env).toContainEqual({ name: 'CLINOPS_DICOM_DESTINATION_CA', value: '/etc/clinops/dicom-ca/ca.crt' });
    expect(spec.volumes).toContainEqual({ name: 'dicom-destination', secret: { secretName: 'pacs-creds' } });
    expect(spec.volumes).toContainEqual({ name: 'dicom-ca', secret: { secretName: 'pacs-ca', items: [{ key: 'root.pem', path: 'ca.crt' }] } });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'dicom-destination', mountPath: '/etc/clinops/dicom-destination', readOnly: true });
    expect(JSON.stringify(env)).not.toMatch(/secretKeyRef/);
    // Without it, nothing of the kind.
    expect(JSON.stringify(podSpec(desiredDeployment(clinicalModel(), settings)))).not.toContain('DICOM');
  });

  it('downloads an https model in a verifying init container', () => {
    const cr = clinicalModel();
    cr.spec.model.uri = 'https://models.example/pneumonia.onnx';
    const spec = podSpec(desiredDeployment(cr, settings));
    expect(spec.volumes).toContainEqual({ name: 'model', emptyDir: { sizeLimit: '4Gi' } });
    expect(spec.initContainers[0].args).toEqual(['fetch-model', '--url', 'https://models.example/pneumonia.onnx',
      '--sha256', 'abcdef'.padEnd(64, '0'), '--out', '/models/model.onnx', '--max-bytes', String(4 * 1024 ** 3)]);
  });

  it('fetches an s3:// model in the init container, with its credentials mounted there alone (never in the server, the env or the args)', () => {
    const cr = clinicalModel();
    cr.spec.model.uri = 's3://radiology-models/pneumonia/1.2.0/model.onnx';
    cr.spec.model.credentialsSecretRef = { name: 'models-s3' };
    const spec = podSpec(desiredDeployment(cr, settings));
    const init = spec.initContainers[0];
    expect(init.args).toEqual(['fetch-model', '--url', 's3://radiology-models/pneumonia/1.2.0/model.onnx', '--sha256', 'abcdef'.padEnd(64, '0'),
      '--out', '/models/model.onnx', '--max-bytes', String(4 * 1024 ** 3), '--credentials', '/etc/clinops/model-credentials']);
    expect(init.volumeMounts).toContainEqual({ name: 'model-credentials', mountPath: '/etc/clinops/model-credentials', readOnly: true });
    expect(spec.volumes).toContainEqual({ name: 'model-credentials', secret: { secretName: 'models-s3', defaultMode: 0o440 } });
    expect(init.env).toBeUndefined();
    expect(JSON.stringify(spec.containers)).not.toContain('model-credentials');
    expect(JSON.stringify(spec.containers)).not.toContain('models-s3');
  });

  it('asks for GPUs, the GPU product and tolerates the GPU taint', () => {
    const spec = podSpec(desiredDeployment(clinicalModel({
      serving: { gpu: { count: 2, product: 'NVIDIA-H100-80GB-HBM3' }, resources: { requests: { cpu: '1' } }, nodeSelector: { zone: 'a' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule' }] },
    }), settings));
    expect(spec.containers[0].resources).toEqual({ requests: { cpu: '1' }, limits: { 'nvidia.com/gpu': 2 } });
    expect(spec.nodeSelector).toEqual({ zone: 'a', 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    expect(spec.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule' },
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(spec.containers[0].env).toContainEqual({ name: 'CLINOPS_EXECUTION_PROVIDER', value: 'cuda' });
  });

  it('has no GPU limit, selector or toleration for a CPU model', () => {
    const spec = podSpec(desiredDeployment(clinicalModel(), settings));
    expect(spec.containers[0].resources).toBeUndefined();
    expect(spec.nodeSelector).toBeUndefined();
    expect(spec.tolerations).toBeUndefined();
    expect(spec.containers[0].env).toContainEqual({ name: 'CLINOPS_EXECUTION_PROVIDER', value: 'cpu' });
  });

  it('meets Pod Security "restricted"', () => {
    const spec = podSpec(desiredDeployment(clinicalModel(), settings));
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, fsGroup: 65532, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.containers[0].securityContext).toMatchObject({
      allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true,
    });
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  it('probes liveness and readiness on the server health endpoints', () => {
    const c = podSpec(desiredDeployment(clinicalModel(), settings)).containers[0];
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
  });

  it('with spec.serving.tls: mounts the Secret\'s pair and CA, tells the server where they are, probes over HTTPS', () => {
    const d = desiredDeployment(clinicalModel({ serving: { tls: { secretRef: { name: 'cxr-cert' } } } }), settings) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const c = d.spec.template.spec.containers[0];
    expect(c.env).toEqual(expect.arrayContaining([
      { name: 'CLINOPS_TLS_CERT_FILE', value: '/etc/clinops/tls/tls.crt' },
      { name: 'CLINOPS_TLS_KEY_FILE', value: '/etc/clinops/tls/tls.key' },
      { name: 'CLINOPS_TLS_CA_FILE', value: '/etc/clinops/tls/ca.crt' },
    ]));
    expect(d.spec.template.spec.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'cxr-cert', items: [
      { key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }, { key: 'ca.crt', path: 'ca.crt' }] } });
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) expect(c[probe].httpGet.scheme).toBe('HTTPS');
    // Without TLS the probes leave the scheme to its default.
    const plain = desiredDeployment(clinicalModel(), settings) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(plain.spec.template.spec.containers[0].readinessProbe.httpGet.scheme).toBeUndefined();
  });

  it('mounts the API-key Secret and tells the server where the key file is', () => {
    const spec = podSpec(desiredDeployment(clinicalModel({ serving: { apiKeySecretRef: { name: 'pneumonia-keys' } } }), settings));
    expect(spec.volumes).toContainEqual({ name: 'api-keys', secret: { secretName: 'pneumonia-keys', items: [{ key: 'keys.json', path: 'keys.json' }] } });
    expect(spec.containers[0].env).toContainEqual({ name: 'CLINOPS_API_KEYS_FILE', value: '/etc/clinops/keys/keys.json' });
  });

  it('is closed by default: serves without keys only when the spec says so, and refuses a spec that says neither', () => {
    expect(podSpec(desiredDeployment(clinicalModel({ serving: { apiKeySecretRef: { name: 'k' } } }), settings)).containers[0].env)
      .not.toContainEqual(expect.objectContaining({ name: 'CLINOPS_ALLOW_UNAUTHENTICATED' }));
    expect(podSpec(desiredDeployment(clinicalModel({ serving: { allowUnauthenticated: true } }), settings)).containers[0].env)
      .toContainEqual({ name: 'CLINOPS_ALLOW_UNAUTHENTICATED', value: 'true' });
    const neither = clinicalModel();
    neither.spec.serving = { replicas: 1 };
    expect(() => desiredDeployment(neither, settings)).toThrow('spec.serving.apiKeySecretRef is required: without API keys the server would serve anyone');
  });

  it('serves the monitoring signals on a port of their own, for the monitoring key it mounts from the model\'s Secret', () => {
    const spec = podSpec(desiredDeployment(clinicalModel(), settings));
    const c = spec.containers[0];
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'monitoring', containerPort: 8081, protocol: 'TCP' }]);
    expect(spec.volumes).toContainEqual({ name: 'monitoring-key', secret: { secretName: 'pneumonia-cxr-monitoring', items: [{ key: 'key', path: 'key' }] } });
    expect(c.volumeMounts).toContainEqual({ name: 'monitoring-key', mountPath: '/etc/clinops/monitoring', readOnly: true });
    expect(c.env).toEqual(expect.arrayContaining([
      { name: 'CLINOPS_MONITORING_PORT', value: '8081' }, { name: 'CLINOPS_MONITORING_KEY_FILE', value: '/etc/clinops/monitoring/key' }]));
  });

  it('uses the replica count and image from the spec, else defaults', () => {
    expect(desiredDeployment(clinicalModel(), settings).spec.replicas).toBe(1);
    const d = desiredDeployment(clinicalModel({ serving: { replicas: 0, image: 'mirror/server:1' } }), settings);
    expect(d.spec.replicas).toBe(0);
    expect(podSpec(d).containers[0].image).toBe('mirror/server:1');
  });

  it('runs the replicas the escalation level allows', () => {
    const cr = clinicalModel({ serving: { replicas: 3 }, escalation: { level1: { action: 'ScaleDown', replicas: 1 } } });
    expect(desiredDeployment(cr, settings).spec.replicas).toBe(3);
    cr.status = { escalation: { level: 1 } };
    expect(desiredDeployment(cr, settings).spec.replicas).toBe(1);
    cr.status = { escalation: { level: 2 } };
    expect(desiredDeployment(cr, settings).spec.replicas).toBe(0);
  });

  it('never pulls unless asked to, and exits with its reason when the model cannot be served', () => {
    const c = podSpec(desiredDeployment(clinicalModel(), settings)).containers[0];
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    expect(c.env).toContainEqual({ name: 'CLINOPS_EXIT_ON_LOAD_FAILURE', value: 'true' });
    expect(podSpec(desiredDeployment(clinicalModel({ serving: { imagePullPolicy: 'Never' } }), settings)).containers[0].imagePullPolicy).toBe('Never');
  });

  it('sets workers and threads only when the spec does (the server sizes itself by its CPU limit)', () => {
    const names = (d: ReturnType<typeof desiredDeployment>) => podSpec(d).containers[0].env.map((e: { name: string }) => e.name);
    expect(names(desiredDeployment(clinicalModel(), settings))).not.toContain('CLINOPS_WORKERS');
    const env = podSpec(desiredDeployment(clinicalModel({ serving: { workers: 2, intraOpThreads: 3 } }), settings)).containers[0].env;
    expect(env).toContainEqual({ name: 'CLINOPS_WORKERS', value: '2' });
    expect(env).toContainEqual({ name: 'CLINOPS_INTRA_OP_THREADS', value: '3' });
  });

  it('mounts the model card from its ConfigMap: a card edit changes the Deployment\'s annotation, never its pod template', () => {
    const a = desiredDeployment(clinicalModel({ modelCard: { owner: 'Radiology AI' } }), settings);
    const b = desiredDeployment(clinicalModel({ modelCard: { owner: 'Imaging informatics' } }), settings);
    expect(JSON.stringify(a.spec.template)).toBe(JSON.stringify(b.spec.template));
    expect(a.metadata.annotations?.['clinops.dev/model-card-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(a.metadata.annotations?.['clinops.dev/model-card-sha256']).not.toBe(b.metadata.annotations?.['clinops.dev/model-card-sha256']);
    const spec = podSpec(a);
    expect(spec.volumes).toContainEqual({ name: 'model-card', configMap: { name: 'pneumonia-cxr-model-card', optional: true } });
    expect(spec.containers[0].env).toContainEqual({ name: 'CLINOPS_MODEL_CARD_FILE', value: '/etc/clinops/card/card.json' });
    expect(podSpec(desiredDeployment(clinicalModel(), settings)).volumes.map((v: { name: string }) => v.name)).not.toContain('model-card');
  });

  it('writes the audit log to a file per pod on the claim it names', () => {
    const spec = podSpec(desiredDeployment(clinicalModel({ serving: { audit: { claimName: 'audit', subPath: 'radiology' } } }), settings));
    expect(spec.volumes).toContainEqual({ name: 'audit', persistentVolumeClaim: { claimName: 'audit' } });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'audit', mountPath: '/var/log/clinops', subPath: 'radiology' });
    const env = spec.containers[0].env;
    const pod = env.findIndex((e: { name: string }) => e.name === 'CLINOPS_POD_NAME');
    const file = env.findIndex((e: { name: string }) => e.name === 'CLINOPS_AUDIT_FILE');
    expect(env[pod]).toEqual({ name: 'CLINOPS_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    // $(VAR) expands only variables defined earlier in the list.
    expect(pod).toBeLessThan(file);
    expect(env[file].value).toBe('/var/log/clinops/$(CLINOPS_POD_NAME).audit.jsonl');
    expect(spec.securityContext).toMatchObject({ fsGroup: 65532, runAsNonRoot: true });
  });

  it('mounts the feature reference from the reference ConfigMap when the model declares its features', () => {
    const monitoring = { reference: { configMapRef: { name: 'sepsis-ref', key: 'confidence.json' }, featuresKey: 'features-v2.json' }, features: ['heart_rate', 'lactate'] };
    const spec = podSpec(desiredDeployment(clinicalModel({ monitoring }), settings));
    expect(spec.volumes).toContainEqual({ name: 'feature-reference', configMap: { name: 'sepsis-ref', items: [{ key: 'features-v2.json', path: 'features.json' }] } });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'feature-reference', mountPath: '/etc/clinops/reference', readOnly: true });
    expect(spec.containers[0].env).toContainEqual({ name: 'CLINOPS_FEATURE_REFERENCE_FILE', value: '/etc/clinops/reference/features.json' });
    // Without declared features the pod reads no reference: the operator alone reads the confidences.
    const plain = podSpec(desiredDeployment(clinicalModel({ monitoring: { reference: monitoring.reference } }), settings));
    expect(plain.volumes.map((v: { name: string }) => v.name)).not.toContain('feature-reference');
    expect(plain.containers[0].env.map((e: { name: string }) => e.name)).not.toContain('CLINOPS_FEATURE_REFERENCE_FILE');
  });

  it('is deterministic: the same input gives the same object', () => {
    expect(JSON.stringify(desiredDeployment(clinicalModel(), settings))).toBe(JSON.stringify(desiredDeployment(clinicalModel(), settings)));
  });
});
