// The inference server's settings: flags first, then CLINOPS_* environment variables (the operator's
// Deployment sets these; see docs/architecture.md), then defaults. The only module of the server that
// reads the environment; validated once at startup and frozen. A bad value names the setting.
import { usableCpus } from './runtime/cpu-limit.js';

export interface ImagePreprocessing {
  width: number;
  height: number;
  channels: 1 | 3;
  mean: number[];
  std: number[];
}

export interface ServerConfig {
  readonly modelPath: string;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly sha256: string;
  readonly labels: readonly string[];
  readonly preprocessing: Readonly<ImagePreprocessing> | undefined;
  readonly modelCard: Readonly<Record<string, string>>;
  /** A JSON file with the model card, read again when it changes (the operator mounts a ConfigMap here). */
  readonly modelCardFile: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly apiKeysFile: string | undefined;
  /** Require an API key for /health*, /v2/health*, /metrics and /v1/monitoring/window too. */
  readonly protectHealth: boolean;
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly maxQueue: number;
  readonly workers: number;
  readonly intraOpThreads: number;
  readonly executionProvider: 'cpu' | 'cuda';
  readonly auditFile: string | undefined;
  readonly windowSize: number;
  readonly feedbackCapacity: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Exit (status 3) when the model cannot be served — wrong sha256, unloadable or unsuitable model —
   * after writing why to `terminationLog`, instead of staying live and never ready. In a pod this puts
   * the reason in the container's termination message, where the operator and `kubectl describe` read it.
   */
  readonly exitOnLoadFailure: boolean;
  /** After SIGTERM, keep serving this long with readiness failing, before refusing new work. */
  readonly drainDelayMs: number;
  /** Then wait at most this long for accepted requests to finish before exiting anyway. */
  readonly drainTimeoutMs: number;
  readonly terminationLog: string;
}

export interface ServerFlags {
  model?: string;
  name?: string;
  version?: string;
  sha256?: string;
  labels?: string;
  preprocessing?: string;
  modelCard?: string;
  modelCardFile?: string;
  exitOnLoadFailure?: boolean;
  drainDelay?: string;
  drainTimeout?: string;
  host?: string;
  port?: string;
  apiKeys?: string;
  protectHealth?: boolean;
  bodyLimit?: string;
  timeout?: string;
  maxBatch?: string;
  batchDelay?: string;
  maxQueue?: string;
  workers?: string;
  intraOpThreads?: string;
  executionProvider?: string;
  auditFile?: string;
  windowSize?: string;
  feedbackCapacity?: string;
  logLevel?: string;
}

export class ServerConfigError extends Error {
  constructor(setting: string, message: string) {
    super(`invalid setting ${setting}: ${message}`);
    this.name = 'ServerConfigError';
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2 };

/** `cpus`: what workers and intra-op threads are sized by; the container's CPU limit, not the host's cores. */
export function loadServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv, cpus = usableCpus()): ServerConfig {
  const get = (flag: string | undefined, envName: string): string | undefined => {
    const v = flag ?? env[envName];
    return v === undefined || v === '' ? undefined : v;
  };
  const required = (flag: string | undefined, flagName: string, envName: string): string => {
    const v = get(flag, envName);
    if (v === undefined) throw new ServerConfigError(`${flagName} (${envName})`, 'is required');
    return v;
  };
  const int = (flag: string | undefined, flagName: string, envName: string, dflt: number, min: number, max: number): number => {
    const raw = get(flag, envName);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ServerConfigError(`${flagName} (${envName})`, `"${raw}" must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
  const json = <T>(flag: string | undefined, flagName: string, envName: string): T | undefined => {
    const raw = get(flag, envName);
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      throw new ServerConfigError(`${flagName} (${envName})`, 'is not valid JSON');
    }
  };

  const modelPath = required(flags.model, '--model', 'CLINOPS_MODEL_PATH');
  const modelName = required(flags.name, '--name', 'CLINOPS_MODEL_NAME');
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(modelName) || modelName.length > 253) {
    throw new ServerConfigError('--name (CLINOPS_MODEL_NAME)', `"${modelName}" must be lower-case letters, digits, "-" and "."`);
  }
  const modelVersion = required(flags.version, '--model-version', 'CLINOPS_MODEL_VERSION');
  const sha256 = required(flags.sha256, '--sha256', 'CLINOPS_MODEL_SHA256').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ServerConfigError('--sha256 (CLINOPS_MODEL_SHA256)', 'must be 64 hexadecimal characters');

  const labelsRaw = required(flags.labels, '--labels', 'CLINOPS_MODEL_LABELS');
  let labels: string[];
  if (labelsRaw.trim().startsWith('[')) {
    const parsed = json<unknown>(labelsRaw, '--labels', 'CLINOPS_MODEL_LABELS');
    if (!Array.isArray(parsed) || parsed.some((l) => typeof l !== 'string' || l === '')) {
      throw new ServerConfigError('--labels (CLINOPS_MODEL_LABELS)', 'must be a JSON array of non-empty strings');
    }
    labels = parsed as string[];
  } else {
    labels = labelsRaw.split(',').map((l) => l.trim());
  }
  if (labels.length === 0 || labels.some((l) => l === '')) {
    throw new ServerConfigError('--labels (CLINOPS_MODEL_LABELS)', 'needs at least one non-empty class name');
  }

  const pre = json<Partial<ImagePreprocessing>>(flags.preprocessing, '--preprocessing', 'CLINOPS_PREPROCESSING');
  let preprocessing: ImagePreprocessing | undefined;
  if (pre) {
    const { width, height, channels } = pre;
    const ok = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 8192;
    if (!ok(width) || !ok(height) || (channels !== 1 && channels !== 3)) {
      throw new ServerConfigError('--preprocessing (CLINOPS_PREPROCESSING)', 'needs width and height from 1 to 8192 and channels 1 or 3');
    }
    const mean = pre.mean ?? new Array<number>(channels).fill(0);
    const std = pre.std ?? new Array<number>(channels).fill(1);
    if (mean.length !== channels || std.length !== channels || std.some((s) => !(s > 0)) || mean.some((m) => !Number.isFinite(m))) {
      throw new ServerConfigError('--preprocessing (CLINOPS_PREPROCESSING)', 'mean and std need one finite value per channel, std > 0');
    }
    preprocessing = Object.freeze({ width: width!, height: height!, channels, mean, std });
  }

  const card = json<Record<string, unknown>>(flags.modelCard, '--model-card', 'CLINOPS_MODEL_CARD') ?? {};
  if (typeof card !== 'object' || Array.isArray(card) || Object.values(card).some((v) => typeof v !== 'string')) {
    throw new ServerConfigError('--model-card (CLINOPS_MODEL_CARD)', 'must be a JSON object of strings');
  }

  const limitRaw = get(flags.bodyLimit, 'CLINOPS_BODY_LIMIT') ?? '10mb';
  const lm = /^(\d+)\s*([a-z]*)$/i.exec(limitRaw);
  const unit = SIZE_UNITS[(lm?.[2] ?? '').toLowerCase()];
  if (!lm || unit === undefined) throw new ServerConfigError('--body-limit (CLINOPS_BODY_LIMIT)', `"${limitRaw}" must be a size such as 512kb or 10mb`);

  const provider = (get(flags.executionProvider, 'CLINOPS_EXECUTION_PROVIDER') ?? 'cpu').toLowerCase();
  if (provider !== 'cpu' && provider !== 'cuda') {
    throw new ServerConfigError('--execution-provider (CLINOPS_EXECUTION_PROVIDER)', `"${provider}" must be cpu or cuda`);
  }
  const logLevel = (get(flags.logLevel, 'CLINOPS_LOG_LEVEL') ?? 'info') as ServerConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ServerConfigError('--log-level (CLINOPS_LOG_LEVEL)', `"${logLevel}" must be debug, info, warn or error`);
  }
  const bool = (flag: boolean | undefined, envName: string): boolean => {
    const raw = flag ?? env[envName];
    if (typeof raw === 'string' && !['true', 'false'].includes(raw)) {
      throw new ServerConfigError(envName, `"${raw}" must be true or false`);
    }
    return raw === true || raw === 'true';
  };

  const workers = int(flags.workers, '--workers', 'CLINOPS_WORKERS', Math.max(1, Math.floor(cpus / 2)), 1, 256);
  return Object.freeze({
    modelPath,
    modelName,
    modelVersion,
    sha256,
    labels: Object.freeze(labels),
    preprocessing,
    modelCard: Object.freeze(card as Record<string, string>),
    modelCardFile: get(flags.modelCardFile, 'CLINOPS_MODEL_CARD_FILE'),
    host: get(flags.host, 'CLINOPS_HOST') ?? '0.0.0.0',
    port: int(flags.port, '--port', 'CLINOPS_PORT', 8080, 0, 65535),
    apiKeysFile: get(flags.apiKeys, 'CLINOPS_API_KEYS_FILE'),
    protectHealth: bool(flags.protectHealth, 'CLINOPS_PROTECT_HEALTH'),
    bodyLimitBytes: Number(lm[1]) * unit,
    requestTimeoutMs: int(flags.timeout, '--timeout', 'CLINOPS_TIMEOUT_MS', 10_000, 1, 600_000),
    maxBatchSize: int(flags.maxBatch, '--max-batch', 'CLINOPS_MAX_BATCH', 8, 1, 1024),
    maxQueueDelayMs: int(flags.batchDelay, '--batch-delay', 'CLINOPS_BATCH_DELAY_MS', 2, 0, 1000),
    maxQueue: int(flags.maxQueue, '--max-queue', 'CLINOPS_MAX_QUEUE', 256, 1, 100_000),
    workers,
    intraOpThreads: int(flags.intraOpThreads, '--intra-op-threads', 'CLINOPS_INTRA_OP_THREADS', Math.max(1, Math.floor(cpus / workers)), 1, 256),
    executionProvider: provider,
    auditFile: get(flags.auditFile, 'CLINOPS_AUDIT_FILE'),
    windowSize: int(flags.windowSize, '--window-size', 'CLINOPS_WINDOW_SIZE', 10_000, 1, 10_000_000),
    feedbackCapacity: int(flags.feedbackCapacity, '--feedback-capacity', 'CLINOPS_FEEDBACK_CAPACITY', 10_000, 1, 10_000_000),
    logLevel,
    exitOnLoadFailure: bool(flags.exitOnLoadFailure, 'CLINOPS_EXIT_ON_LOAD_FAILURE'),
    terminationLog: get(undefined, 'CLINOPS_TERMINATION_LOG') ?? '/dev/termination-log',
    drainDelayMs: int(flags.drainDelay, '--drain-delay', 'CLINOPS_DRAIN_DELAY_MS', 0, 0, 120_000),
    drainTimeoutMs: int(flags.drainTimeout, '--drain-timeout', 'CLINOPS_DRAIN_TIMEOUT_MS', 20_000, 1, 600_000),
  });
}
