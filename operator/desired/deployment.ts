// The inference Deployment a ClinicalModel asks for: a pure function of the resource and the
// operator's settings. What it returns is applied as-is with server-side apply, so it holds exactly
// the fields the operator owns and nothing else.
import { ENV } from '../../contract/env.js';
import type { ClinicalModel, Quantity, Toleration } from '../api/types.js';
import { type ChildMeta, objectMeta } from './meta.js';
import { replicasAtLevel } from '../api/levels.js';
import { objectLabels, selectorLabels } from './labels.js';
import { CARD_DIGEST_ANNOTATION, CARD_KEY, modelCardDigest, modelCardName } from './model-card.js';
import { parseModelUri } from './model-uri.js';
import { MONITORING_KEY, MONITORING_KEY_MOUNT, MONITORING_PORT, monitoringKeyName } from './monitoring-key.js';
import { MODEL_FETCH_MAX_BYTES, MODEL_VOLUME_SIZE_LIMIT } from '../../contract/model-fetch.js';

export const SERVER_PORT = 8080;
export const GPU_RESOURCE = 'nvidia.com/gpu';
export const GPU_PRODUCT_LABEL = 'nvidia.com/gpu.product';
export const MODEL_MOUNT = '/models';
export const KEYS_MOUNT = '/etc/clinops/keys';
export const CARD_MOUNT = '/etc/clinops/card';
export const AUDIT_MOUNT = '/var/log/clinops';
export const REFERENCE_MOUNT = '/etc/clinops/reference';
export const TLS_MOUNT = '/etc/clinops/tls';
export const DICOM_CREDENTIALS_MOUNT = '/etc/clinops/dicom-destination';
export const DICOM_CA_MOUNT = '/etc/clinops/dicom-ca';
/** The model's object-store credentials (spec.model.credentialsSecretRef), in the fetch-model init container alone. */
export const MODEL_CREDENTIALS_MOUNT = '/etc/clinops/model-credentials';
export const DRAIN_DELAY_MS = 5000;

export interface DeploymentSettings {
  /** Inference server image used when the ClinicalModel does not name one. */
  serverImage: string;
  /** The acceptance Job's image (default: serverImage). */
  acceptanceImage?: string;
}

export interface Deployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ChildMeta & { annotations?: Record<string, string> };
  spec: Record<string, unknown> & { replicas?: number };
}

/** Pod Security "restricted", for every container the operator runs (servers, model fetchers, acceptance Jobs). */
export const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/**
 * And for their pods. fsGroup: volumes that support ownership (most PVCs) become readable and writable
 * by the image's user; OnRootMismatch skips the recursive chown when the volume's root already matches.
 */
export const POD_SECURITY = { runAsNonRoot: true, fsGroup: 65532, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } } as const;

/** Where the model file lies in a pod, and the volume that holds it (the claim read-only, or an emptyDir its fetcher fills). */
export function modelVolume(uri: string): { path: string; volume: Record<string, unknown> } {
  const source = parseModelUri(uri);
  return source.kind === 'pvc'
    ? { path: `${MODEL_MOUNT}/${source.path}`, volume: { name: 'model', persistentVolumeClaim: { claimName: source.claim, readOnly: true } } }
    : { path: `${MODEL_MOUNT}/model.onnx`, volume: { name: 'model', emptyDir: { sizeLimit: MODEL_VOLUME_SIZE_LIMIT } } };
}

/** fetch-model's arguments for a fetched model: where from, its sha256, where to, its size bound, and its credentials' folder. */
export function fetchModelArgs(url: string, sha256: string, credentials = false): string[] {
  return ['fetch-model', '--url', url, '--sha256', sha256.toLowerCase(), '--out', `${MODEL_MOUNT}/model.onnx`, '--max-bytes', String(MODEL_FETCH_MAX_BYTES),
    ...(credentials ? ['--credentials', MODEL_CREDENTIALS_MOUNT] : [])];
}

/**
 * The init container that fetches and verifies a model given by URL (none for a claim), and the volume of
 * its credentials: the Secret is mounted into that container alone, never into the server or the pod's
 * environment, and read when the pod starts (a rotated Secret is used by the next pod).
 */
export function fetchModelInit(cr: ClinicalModel, image: string, pullPolicy: string, security: object): { initContainers: object[]; volumes: object[] } {
  const source = parseModelUri(cr.spec.model.uri);
  if (source.kind === 'pvc') return { initContainers: [], volumes: [] };
  const secret = cr.spec.model.credentialsSecretRef?.name;
  return {
    initContainers: [{
      name: 'fetch-model', image, imagePullPolicy: pullPolicy, terminationMessagePolicy: 'FallbackToLogsOnError',
      args: fetchModelArgs(source.url, cr.spec.model.sha256, secret !== undefined),
      volumeMounts: [{ name: 'model', mountPath: MODEL_MOUNT }, ...(secret ? [{ name: 'model-credentials', mountPath: MODEL_CREDENTIALS_MOUNT, readOnly: true }] : [])],
      securityContext: security,
    }],
    volumes: secret ? [{ name: 'model-credentials', secret: { secretName: secret, defaultMode: 0o440 } }] : [],
  };
}

/** Replicas the Deployment should run: the declared count, as the escalation level allows. */
export function desiredReplicas(cr: ClinicalModel): number {
  return replicasAtLevel(cr.spec.serving?.replicas ?? 1, cr.status?.escalation?.level ?? 0, cr.spec.escalation, cr.spec.integration?.dicom !== undefined);
}

/** A spec the server could not be run from as written. */
export class ServingSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServingSpecError';
  }
}

export function desiredDeployment(cr: ClinicalModel, settings: DeploymentSettings): Deployment {
  const name = cr.metadata.name;
  const { model, serving = {} } = cr.spec;
  const source = parseModelUri(model.uri);
  const gpuCount = serving.gpu?.count ?? 0;
  const image = serving.image ?? settings.serverImage;

  const env: Array<{ name: string; value?: string; valueFrom?: object }> = [
    { name: ENV.modelName, value: name },
    { name: ENV.modelVersion, value: model.version },
    { name: ENV.sha256, value: model.sha256.toLowerCase() },
    { name: ENV.labels, value: JSON.stringify(model.labels) },
    { name: ENV.modelPath, value: modelVolume(model.uri).path },
    { name: ENV.port, value: String(SERVER_PORT) },
    // The monitoring signals on a port of their own, for the operator's key alone.
    { name: ENV.monitoringPort, value: String(MONITORING_PORT) },
    { name: ENV.monitoringKeyFile, value: `${MONITORING_KEY_MOUNT}/${MONITORING_KEY}` },
    { name: ENV.executionProvider, value: gpuCount > 0 ? 'cuda' : 'cpu' },
    // A model that cannot be served exits with the reason as its termination message (status reads it).
    { name: ENV.exitOnLoadFailure, value: 'true' },
    // Serve on for a moment after SIGTERM while endpoints drop the pod (well inside the 30 s grace period).
    { name: ENV.drainDelayMs, value: String(DRAIN_DELAY_MS) },
  ];
  if (serving.workers !== undefined) env.push({ name: ENV.workers, value: String(serving.workers) });
  if (serving.intraOpThreads !== undefined) env.push({ name: ENV.intraOpThreads, value: String(serving.intraOpThreads) });
  if (model.preprocessing?.image) {
    env.push({ name: ENV.preprocessing, value: JSON.stringify(model.preprocessing.image) });
  }
  const cardDigest = modelCardDigest(cr);
  if (cardDigest) env.push({ name: ENV.modelCardFile, value: `${CARD_MOUNT}/${CARD_KEY}` });

  const volumeMounts: Array<Record<string, unknown>> = [
    { name: 'model', mountPath: MODEL_MOUNT, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'monitoring-key', mountPath: MONITORING_KEY_MOUNT, readOnly: true },
  ];
  const volumes: Array<Record<string, unknown>> = [
    modelVolume(model.uri).volume,
    { name: 'tmp', emptyDir: {} },
    // Not optional: a server without its monitoring key would not start rather than serve the signals open.
    { name: 'monitoring-key', secret: { secretName: monitoringKeyName(name), items: [{ key: MONITORING_KEY, path: MONITORING_KEY }] } },
  ];
  if (serving.tls) {
    // The pair the server serves (read again when the Secret is renewed) and the CA its shadow copies verify.
    env.push(
      { name: ENV.tlsCertFile, value: `${TLS_MOUNT}/tls.crt` },
      { name: ENV.tlsKeyFile, value: `${TLS_MOUNT}/tls.key` },
      { name: ENV.tlsCaFile, value: `${TLS_MOUNT}/ca.crt` },
    );
    volumeMounts.push({ name: 'tls', mountPath: TLS_MOUNT, readOnly: true });
    volumes.push({ name: 'tls', secret: { secretName: serving.tls.secretRef.name, items: ['tls.crt', 'tls.key', 'ca.crt'].map((k) => ({ key: k, path: k })) } });
  }
  const keys = serving.apiKeySecretRef;
  if (keys) {
    const key = keys.key ?? 'keys.json';
    env.push({ name: ENV.apiKeysFile, value: `${KEYS_MOUNT}/${key}` });
    volumeMounts.push({ name: 'api-keys', mountPath: KEYS_MOUNT, readOnly: true });
    volumes.push({ name: 'api-keys', secret: { secretName: keys.name, items: [{ key, path: key }] } });
  } else if (serving.allowUnauthenticated === true) {
    env.push({ name: ENV.allowUnauthenticated, value: 'true' });
  } else {
    // The schema refuses such a spec; one stored before it was is not served open.
    throw new ServingSpecError('spec.serving.apiKeySecretRef is required: without API keys the server would serve anyone (say spec.serving.allowUnauthenticated: true to mean that)');
  }
  if (cardDigest) {
    volumeMounts.push({ name: 'model-card', mountPath: CARD_MOUNT, readOnly: true });
    // Optional: a pod never waits for the card; the server shows the card once the file appears.
    volumes.push({ name: 'model-card', configMap: { name: modelCardName(name), optional: true } });
  }
  const mon = cr.spec.monitoring;
  const refMap = mon?.reference?.configMapRef;
  if (mon?.features && refMap) {
    // The server bins each row by the reference's edges and keeps counts only (GET /v1/monitoring/features).
    // Not optional: a declared per-feature check the pods cannot serve shows as a pod that does not start,
    // naming the missing ConfigMap key, rather than as silence.
    const key = mon.reference?.featuresKey ?? 'features.json';
    env.push({ name: ENV.featureReferenceFile, value: `${REFERENCE_MOUNT}/features.json` });
    volumeMounts.push({ name: 'feature-reference', mountPath: REFERENCE_MOUNT, readOnly: true });
    volumes.push({ name: 'feature-reference', configMap: { name: refMap.name, items: [{ key, path: 'features.json' }] } });
  }
  if (mon?.subgroups) {
    // The server refuses any other value, so only these names are ever recorded with a prediction.
    env.push({ name: ENV.subgroupHeader, value: mon.subgroups.header }, { name: ENV.subgroups, value: mon.subgroups.groups.map((g) => g.name).join(',') });
  }
  const dicom = cr.spec.integration?.dicom;
  if (dicom) {
    // Studies from a PACS (STOW-RS); the SRs to the destination with its credentials, read at each delivery.
    // Held from the start: a replica sends no result until this operator releases it (never while paused).
    env.push({ name: ENV.dicomAccept, value: JSON.stringify(dicom.accept) }, { name: ENV.startHeld, value: 'true' });
    const dest = dicom.destination;
    if (dest) {
      env.push({ name: ENV.dicomDestination, value: dest.url });
      if (dest.credentialsSecretRef) {
        env.push({ name: ENV.dicomDestinationCredentials, value: DICOM_CREDENTIALS_MOUNT });
        volumeMounts.push({ name: 'dicom-destination', mountPath: DICOM_CREDENTIALS_MOUNT, readOnly: true });
        volumes.push({ name: 'dicom-destination', secret: { secretName: dest.credentialsSecretRef.name } });
      }
      if (dest.caSecretRef) {
        const key = dest.caSecretRef.key ?? 'ca.crt';
        env.push({ name: ENV.dicomDestinationCa, value: `${DICOM_CA_MOUNT}/ca.crt` });
        volumeMounts.push({ name: 'dicom-ca', mountPath: DICOM_CA_MOUNT, readOnly: true });
        volumes.push({ name: 'dicom-ca', secret: { secretName: dest.caSecretRef.name, items: [{ key, path: 'ca.crt' }] } });
      }
    }
  }
  if (serving.audit) {
    // One hash chain per pod: replicas sharing a claim never interleave records in one file.
    env.push(
      { name: 'CLINOPS_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: ENV.auditFile, value: `${AUDIT_MOUNT}/$(CLINOPS_POD_NAME).audit.jsonl` },
    );
    volumeMounts.push({ name: 'audit', mountPath: AUDIT_MOUNT, ...(serving.audit.subPath ? { subPath: serving.audit.subPath } : {}) });
    volumes.push({ name: 'audit', persistentVolumeClaim: { claimName: serving.audit.claimName } });
  }


  const scheme = serving.tls ? { scheme: 'HTTPS' } : {};
  const container: Record<string, unknown> = {
    name: 'server',
    image,
    imagePullPolicy: serving.imagePullPolicy ?? 'IfNotPresent',
    args: ['serve'],
    terminationMessagePolicy: 'FallbackToLogsOnError',
    ports: [
      { name: 'http', containerPort: SERVER_PORT, protocol: 'TCP' },
      { name: 'monitoring', containerPort: MONITORING_PORT, protocol: 'TCP' },
    ],
    env,
    volumeMounts,
    securityContext: CONTAINER_SECURITY,
    livenessProbe: {
      httpGet: { path: '/health/live', port: 'http', ...scheme },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    readinessProbe: {
      httpGet: { path: '/health/ready', port: 'http', ...scheme },
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    startupProbe: {
      httpGet: { path: '/health/live', port: 'http', ...scheme },
      periodSeconds: 2,
      failureThreshold: 60,
    },
  };
  const resources = containerResources(serving.resources, gpuCount);
  if (resources) container.resources = resources;

  const podSpec: Record<string, unknown> = {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: POD_SECURITY,
    containers: [container],
    volumes,
  };
  const fetching = fetchModelInit(cr, image, serving.imagePullPolicy ?? 'IfNotPresent', CONTAINER_SECURITY);
  if (fetching.initContainers.length > 0) {
    podSpec.initContainers = fetching.initContainers;
    volumes.push(...(fetching.volumes as typeof volumes));
  }
  const nodeSelector: Record<string, string> = { ...(serving.nodeSelector ?? {}) };
  if (gpuCount > 0 && serving.gpu?.product) nodeSelector[GPU_PRODUCT_LABEL] = serving.gpu.product;
  if (Object.keys(nodeSelector).length > 0) podSpec.nodeSelector = nodeSelector;
  const tolerations: Toleration[] = [...(serving.tolerations ?? [])];
  if (gpuCount > 0) tolerations.push({ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' });
  if (tolerations.length > 0) podSpec.tolerations = tolerations;
  if (serving.priorityClassName) podSpec.priorityClassName = serving.priorityClassName;

  const labels = objectLabels(name, model.version);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      ...objectMeta(cr, name),
      ...(cardDigest ? { annotations: { [CARD_DIGEST_ANNOTATION]: cardDigest } } : {}),
    },
    spec: {
      replicas: desiredReplicas(cr),
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(name) },
      template: {
        metadata: { labels },
        spec: podSpec,
      },
    },
  };
}

function containerResources(
  r: { requests?: Record<string, Quantity>; limits?: Record<string, Quantity> } | undefined,
  gpuCount: number,
): Record<string, Record<string, Quantity>> | undefined {
  const out: Record<string, Record<string, Quantity>> = {};
  if (r?.requests && Object.keys(r.requests).length > 0) out.requests = { ...r.requests };
  const limits: Record<string, Quantity> = { ...(r?.limits ?? {}) };
  if (gpuCount > 0) limits[GPU_RESOURCE] = gpuCount;
  if (Object.keys(limits).length > 0) out.limits = limits;
  return Object.keys(out).length > 0 ? out : undefined;
}
