// The operator's settings: flags first, then CLINOPS_* environment variables, then defaults. This is
// the only module of the operator that reads the environment; everything is validated here, once,
// at startup, and frozen. A bad value stops the process with a message naming the setting.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Level } from './observability/log.js';
import { parseDuration } from './util/duration.js';

export interface OperatorConfig {
  readonly kubeconfig: string | undefined;
  readonly namespace: string | undefined;
  readonly workers: number;
  readonly serverImage: string;
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

/** Flags as the CLI parsed them (strings, or booleans for switches). */
export interface OperatorFlags {
  kubeconfig?: string;
  namespace?: string;
  workers?: string;
  serverImage?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  identity?: string;
  httpAddress?: string;
  resyncPeriod?: string;
  logLevel?: string;
  /** NAMESPACE/NAME=URL, repeatable. */
  modelEndpoint?: string[];
}

export class ConfigError extends Error {
  constructor(setting: string, message: string) {
    super(`invalid setting ${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function loadOperatorConfig(flags: OperatorFlags, env: NodeJS.ProcessEnv): OperatorConfig {
  const pick = (flag: string | undefined, envName: string): string | undefined => {
    const v = flag ?? env[envName];
    return v === undefined || v === '' ? undefined : v;
  };

  const workersRaw = pick(flags.workers, 'CLINOPS_WORKERS') ?? '8';
  const workers = Number(workersRaw);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new ConfigError('--workers (CLINOPS_WORKERS)', `"${workersRaw}" must be a whole number from 1 to 64`);
  }

  const namespace = pick(flags.namespace, 'CLINOPS_WATCH_NAMESPACE');
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) {
    throw new ConfigError('--namespace (CLINOPS_WATCH_NAMESPACE)', `"${namespace}" is not a namespace name`);
  }
  const leaseNamespace = pick(flags.leaseNamespace, 'CLINOPS_LEASE_NAMESPACE') ?? env.POD_NAMESPACE ?? 'clinops-system';
  if (!DNS_LABEL.test(leaseNamespace)) {
    throw new ConfigError('--lease-namespace (CLINOPS_LEASE_NAMESPACE)', `"${leaseNamespace}" is not a namespace name`);
  }
  const leaseName = pick(flags.leaseName, 'CLINOPS_LEASE_NAME') ?? 'clinops-operator';
  if (!DNS_LABEL.test(leaseName)) throw new ConfigError('--lease-name (CLINOPS_LEASE_NAME)', `"${leaseName}" is not a valid name`);

  const leaderRaw = flags.leaderElect ?? env.CLINOPS_LEADER_ELECT;
  let leaderElect = true;
  if (typeof leaderRaw === 'boolean') leaderElect = leaderRaw;
  else if (leaderRaw !== undefined) {
    if (!['true', 'false'].includes(leaderRaw)) throw new ConfigError('CLINOPS_LEADER_ELECT', `"${leaderRaw}" must be true or false`);
    leaderElect = leaderRaw === 'true';
  }

  const address = pick(flags.httpAddress, 'CLINOPS_HTTP_ADDRESS') ?? '0.0.0.0:8081';
  const m = /^(.*):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new ConfigError('--http-address (CLINOPS_HTTP_ADDRESS)', `"${address}" must be HOST:PORT, e.g. 0.0.0.0:8081 (port 0 picks a free one)`);

  const resyncRaw = pick(flags.resyncPeriod, 'CLINOPS_RESYNC_PERIOD') ?? '10m';
  let resyncPeriodMs: number;
  try {
    resyncPeriodMs = parseDuration(resyncRaw);
  } catch (err) {
    throw new ConfigError('--resync-period (CLINOPS_RESYNC_PERIOD)', (err as Error).message);
  }
  if (resyncPeriodMs < 1000) throw new ConfigError('--resync-period (CLINOPS_RESYNC_PERIOD)', 'must be at least 1s');

  const logLevel = (pick(flags.logLevel, 'CLINOPS_LOG_LEVEL') ?? 'info') as Level;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError('--log-level (CLINOPS_LOG_LEVEL)', `"${logLevel}" must be debug, info, warn or error`);
  }

  const serverImage = pick(flags.serverImage, 'CLINOPS_SERVER_IMAGE') ?? 'clinops/inference-server:0.1.0';
  if (/\s/.test(serverImage)) throw new ConfigError('--server-image (CLINOPS_SERVER_IMAGE)', `"${serverImage}" is not an image reference`);

  // For running the operator outside the cluster, where pod IPs cannot be reached: the model's
  // monitoring window is read from these URLs instead (while the model has a ready replica).
  const endpointSpecs = flags.modelEndpoint ?? (env.CLINOPS_MODEL_ENDPOINTS ? env.CLINOPS_MODEL_ENDPOINTS.split(',') : []);
  const modelEndpoints = new Map<string, string[]>();
  for (const spec of endpointSpecs) {
    const m2 = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)=(https?:\/\/\S+)$/.exec(spec.trim());
    if (!m2) {
      throw new ConfigError('--model-endpoint (CLINOPS_MODEL_ENDPOINTS)', `"${spec}" must be NAMESPACE/NAME=URL, e.g. radiology/pneumonia-cxr=http://127.0.0.1:8080`);
    }
    const key = `${m2[1]}/${m2[2]}`;
    modelEndpoints.set(key, [...(modelEndpoints.get(key) ?? []), m2[3]!.replace(/\/$/, '')]);
  }

  return Object.freeze({
    kubeconfig: pick(flags.kubeconfig, 'KUBECONFIG'),
    namespace,
    workers,
    serverImage,
    leaderElect,
    leaseNamespace,
    leaseName,
    identity: pick(flags.identity, 'CLINOPS_IDENTITY') ?? `${env.HOSTNAME ?? hostname()}_${randomBytes(4).toString('hex')}`,
    httpHost: m[1] || '0.0.0.0',
    httpPort: port,
    resyncPeriodMs,
    logLevel,
    modelEndpoints,
  });
}
