// The operator's settings, one table: flags first, then CLINOPS_* environment variables, then
// defaults. The only module of the operator that reads the environment; validated once at startup
// against the table's schema and frozen. A bad value stops the process with a message naming the flag
// and the variable. `clinops operator`'s options are made from the same table.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Level } from '../contract/log.js';
import { resolveSettings, type Setting, SettingError } from '../contract/settings.js';
import { parseDuration } from './util/duration.js';
import { readFileSync } from 'node:fs';
import type { NotifyPolicy } from './governance/notify-send.js';

export interface OperatorConfig {
  readonly kubeconfig: string | undefined;
  readonly namespace: string | undefined;
  readonly workers: number;
  readonly serverImage: string;
  /** The image the acceptance Job runs `clinops accept` from: the operator's, never the spec's. */
  readonly acceptanceImage: string;
  /** How far the retraining signal (spec.governance.notify) may reach. */
  readonly notify: NotifyPolicy;
  readonly leaderElect: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly resyncPeriodMs: number;
  readonly logLevel: Level;
  /** Monitoring URLs per model ("namespace/name"), read instead of the pods' IPs. */
  readonly modelEndpoints: ReadonlyMap<string, readonly string[]>;
}

/** Flags as the CLI parsed them (commander's option names). */
export type OperatorFlags = Record<string, unknown>;

export { SettingError as ConfigError };

/** The table's own values; loadOperatorConfig shapes them into OperatorConfig. */
interface OperatorSettings {
  kubeconfig?: string;
  namespace?: string;
  workers: number;
  serverImage: string;
  acceptanceImage: string;
  notifyAllowClusterLocalHttp: boolean;
  notifyAllowLoopback: boolean;
  notifyCaFile?: string;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  httpAddress: { host: string; port: number };
  resyncPeriodMs: number;
  logLevel: Level;
  modelEndpoints: Array<{ key: string; url: string }>;
}

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const name = { type: 'string', pattern: DNS_LABEL, maxLength: 63 };

function address(text: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new Error('must be HOST:PORT, e.g. 0.0.0.0:8081 (port 0 picks a free one)');
  return { host: m[1] || '0.0.0.0', port: Number(m[2]) };
}

function endpoints(text: string): Array<{ key: string; url: string }> {
  return text.split(',').map((spec) => {
    const m = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)=(https?:\/\/\S+)$/.exec(spec.trim());
    if (!m) throw new Error(`has "${spec.trim().slice(0, 80)}", which must be NAMESPACE/NAME=URL, e.g. radiology/pneumonia-cxr=http://127.0.0.1:8080`);
    return { key: `${m[1]}/${m[2]}`, url: m[3]!.replace(/\/$/, '') };
  });
}

/** Every setting of `clinops operator`, in the order they are resolved. `env` gives the defaults that come from the pod. */
export function operatorSettings(env: NodeJS.ProcessEnv = {}): readonly Setting<OperatorSettings>[] {
  return [
    { key: 'kubeconfig', flag: '--kubeconfig', arg: '<path>', env: 'KUBECONFIG', kind: 'string', schema: { type: 'string' }, help: 'kubeconfig file (default: in-cluster, then ~/.kube/config)' },
    { key: 'namespace', flag: '--namespace', arg: '<ns>', env: 'CLINOPS_WATCH_NAMESPACE', kind: 'string', schema: name, expect: 'be a namespace name', help: 'watch only this namespace (default: all)' },
    { key: 'workers', flag: '--workers', arg: '<n>', env: 'CLINOPS_WORKERS', kind: 'integer', default: 8, schema: { type: 'integer', minimum: 1, maximum: 64 }, help: 'ClinicalModels reconciled concurrently' },
    {
      key: 'serverImage', flag: '--server-image', arg: '<ref>', env: 'CLINOPS_SERVER_IMAGE', kind: 'string', default: 'clinops/inference-server:0.1.0',
      schema: { type: 'string', pattern: '^\\S+$' }, expect: 'be an image reference', help: 'inference server image',
    },
    {
      key: 'acceptanceImage', flag: '--acceptance-image', arg: '<ref>', env: 'CLINOPS_ACCEPTANCE_IMAGE', kind: 'string',
      default: (r: Partial<OperatorSettings>) => r.serverImage, schema: { type: 'string', pattern: '^\\S+$' }, expect: 'be an image reference',
      help: 'image the acceptance Job runs clinops accept from (pin it by digest; default: the server image); never a ClinicalModel\'s own image',
    },
    {
      key: 'notifyAllowClusterLocalHttp', flag: '--notify-allow-cluster-local-http', env: 'CLINOPS_NOTIFY_ALLOW_CLUSTER_LOCAL_HTTP', kind: 'boolean', default: false,
      schema: { type: 'boolean' }, help: 'let spec.governance.notify use http to an in-cluster Service name (HOST.NAMESPACE.svc); https otherwise',
    },
    {
      key: 'notifyAllowLoopback', flag: '--notify-allow-loopback', env: 'CLINOPS_NOTIFY_ALLOW_LOOPBACK', kind: 'boolean', default: false,
      schema: { type: 'boolean' }, help: 'let spec.governance.notify reach loopback receivers (development outside the cluster only)',
    },
    {
      key: 'notifyCaFile', flag: '--notify-ca-file', arg: '<path>', env: 'CLINOPS_NOTIFY_CA_FILE', kind: 'string', schema: { type: 'string' },
      help: 'PEM CA certificates trusted for notification receivers, besides the system\'s',
    },
    {
      key: 'leaderElect', flag: '--no-leader-elect', env: 'CLINOPS_LEADER_ELECT', kind: 'boolean', default: true, schema: { type: 'boolean' },
      help: 'do not use a Lease; only for a single replica (env CLINOPS_LEADER_ELECT=false)',
    },
    {
      key: 'leaseNamespace', flag: '--lease-namespace', arg: '<ns>', env: 'CLINOPS_LEASE_NAMESPACE', kind: 'string', default: env.POD_NAMESPACE || 'clinops-system',
      schema: name, expect: 'be a namespace name', help: 'namespace of the leader Lease (default: the pod\'s namespace, else clinops-system)',
    },
    { key: 'leaseName', flag: '--lease-name', arg: '<name>', env: 'CLINOPS_LEASE_NAME', kind: 'string', default: 'clinops-operator', schema: name, expect: 'be a valid name', help: 'name of the leader Lease' },
    {
      key: 'identity', flag: '--identity', arg: '<id>', env: 'CLINOPS_IDENTITY', kind: 'string', schema: { type: 'string', minLength: 1, maxLength: 128 },
      default: () => `${env.HOSTNAME || hostname()}_${randomBytes(4).toString('hex')}`, help: 'this instance in the Lease (default: hostname + random)',
    },
    {
      key: 'httpAddress', flag: '--http-address', arg: '<host:port>', env: 'CLINOPS_HTTP_ADDRESS', kind: 'string', parse: address, default: address('0.0.0.0:8081'),
      schema: { type: 'object', properties: { host: { type: 'string' }, port: { type: 'integer', minimum: 0, maximum: 65535 } }, required: ['host', 'port'], additionalProperties: false },
      help: '/healthz, /readyz and /metrics (default 0.0.0.0:8081)',
    },
    {
      key: 'resyncPeriodMs', flag: '--resync-period', arg: '<duration>', env: 'CLINOPS_RESYNC_PERIOD', kind: 'integer', parse: parseDuration, default: 600_000,
      schema: { type: 'integer', minimum: 1000 }, expect: 'be a duration of at least 1s, such as 30s or 10m', help: 'reconcile every model at least this often (default 10m)',
    },
    { key: 'logLevel', flag: '--log-level', arg: '<level>', env: 'CLINOPS_LOG_LEVEL', kind: 'string', default: 'info', schema: { enum: ['debug', 'info', 'warn', 'error'] }, help: 'debug, info, warn or error' },
    {
      // For an operator outside the cluster, where pod IPs cannot be reached: the model's monitoring
      // window is read from these URLs instead (while the model has a ready replica).
      key: 'modelEndpoints', flag: '--model-endpoint', arg: '<ns/name=url>', repeatable: true, env: 'CLINOPS_MODEL_ENDPOINTS', kind: 'list', parse: endpoints, default: [],
      schema: { type: 'array' }, help: 'read this model\'s monitoring window from URL instead of its pods\' IPs; repeatable (env: comma-separated)',
    },
  ];
}

export function loadOperatorConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): OperatorConfig {
  const s = resolveSettings(operatorSettings(env), flags, env);
  const modelEndpoints = new Map<string, string[]>();
  for (const { key, url } of s.modelEndpoints) modelEndpoints.set(key, [...(modelEndpoints.get(key) ?? []), url]);
  return Object.freeze({
    kubeconfig: s.kubeconfig,
    namespace: s.namespace,
    workers: s.workers,
    serverImage: s.serverImage,
    acceptanceImage: s.acceptanceImage,
    notify: Object.freeze({
      allowClusterLocalHttp: s.notifyAllowClusterLocalHttp,
      allowLoopback: s.notifyAllowLoopback,
      ...(s.notifyCaFile ? { ca: readCa(s.notifyCaFile) } : {}),
      // In the cluster, the API server's Service address; the operator adds its kubeconfig's host.
      apiServerAddresses: Object.freeze(env.KUBERNETES_SERVICE_HOST ? [env.KUBERNETES_SERVICE_HOST] : []),
    }),
    leaderElect: s.leaderElect,
    leaseNamespace: s.leaseNamespace,
    leaseName: s.leaseName,
    identity: s.identity,
    httpHost: s.httpAddress.host,
    httpPort: s.httpAddress.port,
    resyncPeriodMs: s.resyncPeriodMs,
    logLevel: s.logLevel,
    modelEndpoints,
  });
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingError('--notify-ca-file (CLINOPS_NOTIFY_CA_FILE)', `${path} cannot be read: ${(err as Error).message}`);
  }
}
