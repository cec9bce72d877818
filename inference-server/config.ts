// The inference server's settings, one table: flags first, then CLINOPS_* environment variables (the
// operator's Deployment sets those named in contract/env.ts), then defaults. The only module of the
// server that reads the environment; validated once at startup against the table's schema and frozen.
// `clinops serve`'s options are made from the same table.
import { ENV } from '../contract/env.js';
import { resolveSettings, type Setting, SettingError } from '../contract/settings.js';
import { usableCpus } from './runtime/cpu-limit.js';
import type { ImagePreprocessing } from '../contract/image-preprocessing.js';
import type { AcceptRules } from './dicomweb/routing.js';

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
  /** Each input feature's reference bin edges, for per-feature drift counts (GET /v1/monitoring/features). */
  readonly featureReferenceFile: string | undefined;
  /** The request header that names a prediction's subgroup (a site, a ward), and the values it may take. */
  readonly subgroupHeader: string | undefined;
  readonly subgroups: readonly string[] | undefined;
  /** Studies from a PACS (POST /dicomweb/studies): which instances the model takes (absent: the path is off). */
  readonly dicomAccept: Readonly<AcceptRules> | undefined;
  /** Where the results go as SRs by STOW-RS (a DICOMweb base URL), its credentials' directory and CA. */
  readonly dicomDestination: string | undefined;
  readonly dicomDestinationCredentials: string | undefined;
  readonly dicomDestinationCa: string | undefined;
  /** Start held (predictions refused, studies kept) until the operator releases the replica. */
  readonly startHeld: boolean;
  readonly host: string;
  readonly port: number;
  /** Serve the monitoring signals on this port alone (absent: on `port`, beside everything else). */
  readonly monitoringPort: number | undefined;
  /** The operator's key for /v1/monitoring/*: when set, no other key opens them. */
  readonly monitoringKeyFile: string | undefined;
  readonly apiKeysFile: string | undefined;
  /** TLS on every listener: PEM certificate (chain) and key files, read again when they change. */
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  /** The CA a candidate's certificate is verified against when shadow copies go over HTTPS. */
  readonly tlsCaFile: string | undefined;
  /** Require an API key for /health*, /v2/health*, /metrics and /v1/monitoring/* too. */
  readonly protectHealth: boolean;
  /** Serve without API keys, to anyone who reaches the port: only when said (closed by default). */
  readonly allowUnauthenticated: boolean;
  readonly bodyLimitBytes: number;
  /** What one request's images and studies may decode to. */
  readonly decodeBudgetBytes: number;
  /** Threads that decode images and studies, and the requests one key may have waiting or decoding. */
  readonly decodeThreads: number;
  readonly decodePerKey: number;
  /** How long a request's headers and body may take to arrive before 408 (slow clients hold no socket for ever). */
  readonly readTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  /** busy: wait for a fuller batch only while another is running; always: also when the pool is idle. */
  readonly batchWait: 'busy' | 'always';
  readonly maxQueue: number;
  /** Under this mean run time (µs) a CPU model answers a lone request on the HTTP thread; 0: never. */
  readonly inlineBelowUs: number;
  readonly workers: number;
  readonly intraOpThreads: number;
  /** onnxruntime's threads spin between runs; by default only where they and the HTTP thread fit the cores. */
  readonly allowSpinning: boolean;
  readonly executionProvider: 'cpu' | 'cuda';
  readonly auditFile: string | undefined;
  readonly windowSize: number;
  readonly feedbackCapacity: number;
  /** Multipart uploads: the largest file, and files per request. */
  readonly uploadFileBytes: number;
  readonly maxUploads: number;
  /** Asynchronous jobs held at once, and how long a finished one is kept. */
  readonly jobCapacity: number;
  /** Jobs one API key may hold. */
  readonly jobQuota: number;
  readonly jobTtlMs: number;
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

export { SettingError as ServerConfigError };

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };
const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum });

function size(text: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) throw new Error('must be a size such as 512kb or 10mb');
  return Number(m[1]) * unit;
}

function labelList(text: string): unknown {
  if (!text.trim().startsWith('[')) return text.split(',').map((l) => l.trim());
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('is not valid JSON');
  }
}

/** Every setting of `clinops serve`, in the order they are resolved (a default may use those before it). */
export function serverSettings(cpus: number): readonly Setting<ServerConfig>[] {
  return [
    { key: 'modelPath', flag: '--model', arg: '<path>', env: ENV.modelPath, kind: 'string', schema: { type: 'string', minLength: 1 }, required: true, help: 'ONNX file' },
    {
      key: 'modelName', flag: '--name', arg: '<name>', env: ENV.modelName, kind: 'string', required: true,
      schema: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 }, expect: 'be lower-case letters, digits, "-" and "."',
      help: 'model name in URLs and responses',
    },
    { key: 'modelVersion', flag: '--model-version', arg: '<version>', env: ENV.modelVersion, kind: 'string', required: true, schema: { type: 'string', minLength: 1, maxLength: 128 }, help: 'model version' },
    {
      key: 'sha256', flag: '--sha256', arg: '<hex>', env: ENV.sha256, kind: 'string', required: true, parse: (t) => t.toLowerCase(),
      schema: { type: 'string', pattern: '^[0-9a-f]{64}$' }, expect: 'be 64 hexadecimal characters',
      help: 'expected SHA-256 of the file; the server never becomes ready on a mismatch',
    },
    {
      key: 'labels', flag: '--labels', arg: '<list>', env: ENV.labels, kind: 'json', required: true, parse: labelList,
      schema: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }, expect: 'be class names: a JSON array or a comma-separated list of non-empty names',
      help: 'class names, JSON array or comma-separated, in output order',
    },
    {
      key: 'preprocessing', flag: '--preprocessing', arg: '<json>', env: ENV.preprocessing, kind: 'json',
      schema: {
        type: 'object', required: ['width', 'height', 'channels'], additionalProperties: false,
        properties: {
          width: int(1, 8192), height: int(1, 8192), channels: { enum: [1, 3] }, mean: { type: 'array', items: { type: 'number' } }, std: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 } },
          dicom: {
            type: 'object', additionalProperties: false,
            properties: {
              window: { type: 'object', required: ['center', 'width'], additionalProperties: false, properties: { center: { type: 'number' }, width: { type: 'number', minimum: 1 } } },
              modalities: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 16 } },
              bodyParts: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 16 } },
              frames: { enum: ['first', 'all'] },
            },
          },
        },
      },
      expect: 'be {"width","height","channels"[,"mean","std","dicom"]}: width and height from 1 to 8192, channels 1 or 3, std > 0; dicom {window {center, width ≥ 1}, modalities, bodyParts, frames first|all}',
      help: 'image preprocessing {width,height,channels,mean,std}',
    },
    {
      key: 'modelCard', flag: '--model-card', arg: '<json>', env: 'CLINOPS_MODEL_CARD', kind: 'json', default: {},
      schema: { type: 'object', additionalProperties: { type: 'string' } }, expect: 'be a JSON object of strings', help: 'model card fields',
    },
    { key: 'modelCardFile', flag: '--model-card-file', arg: '<path>', env: ENV.modelCardFile, kind: 'string', schema: { type: 'string' }, help: 'JSON file with the model card, read again when it changes' },
    {
      key: 'featureReferenceFile', flag: '--feature-reference', arg: '<file>', env: ENV.featureReferenceFile, kind: 'string', schema: { type: 'string' },
      help: 'JSON {"features": [{"name", "edges"}]}: each input column\'s reference bin edges; enables GET /v1/monitoring/features (counts, never values)',
    },
    {
      key: 'subgroupHeader', flag: '--subgroup-header', arg: '<name>', env: ENV.subgroupHeader, kind: 'string', parse: (t) => t.toLowerCase(),
      schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }, expect: 'be a header name (letters, digits and -)',
      help: 'the request header naming the prediction\'s subgroup (a site, a ward) for per-subgroup monitoring; needs --subgroups',
    },
    {
      key: 'subgroups', flag: '--subgroups', arg: '<list>', env: ENV.subgroups, kind: 'string',
      parse: (t) => t.split(',').map((x) => x.trim()).filter((x) => x !== ''),
      schema: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' } },
      expect: 'be 1 to 20 distinct names of lower-case letters, digits and -, comma-separated',
      help: 'the values --subgroup-header may take (never free text: a subgroup is recorded with each prediction); another value is refused (400)',
    },
    {
      key: 'dicomAccept', flag: '--dicom-accept', arg: '<json>', env: ENV.dicomAccept, kind: 'json',
      schema: {
        type: 'object', additionalProperties: false,
        properties: Object.fromEntries(['modalities', 'bodyParts', 'sopClasses', 'seriesDescriptions'].map((k) => [k, { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 64 } }])),
      },
      help: 'take studies from a PACS at POST /dicomweb/studies (STOW-RS), the instances these rules accept: {"modalities": ["CR","DX"], "bodyParts": ["CHEST"], "sopClasses": [...], "seriesDescriptions": ["*PA*"]} ({} takes all); others are acknowledged and ignored',
    },
    {
      key: 'dicomDestination', flag: '--dicom-destination', arg: '<url>', env: ENV.dicomDestination, kind: 'string',
      schema: { type: 'string', pattern: '^https?://[^\\s]+$', maxLength: 2048 }, expect: 'be an http or https URL',
      help: 'the DICOMweb base URL the results go to as SRs (STOW-RS to <url>/studies), retried with backoff; needs --dicom-accept',
    },
    { key: 'dicomDestinationCredentials', flag: '--dicom-destination-credentials', arg: '<dir>', env: ENV.dicomDestinationCredentials, kind: 'string', schema: { type: 'string', minLength: 1 }, help: 'a directory with the destination\'s `username` and `password`, or `token` (a mounted Secret), read at each delivery' },
    {
      key: 'startHeld', flag: '--start-held', env: ENV.startHeld, kind: 'boolean', default: false, schema: { type: 'boolean' },
      help: 'start held: every prediction refused (503 HELD), studies from the PACS taken and kept, until the operator releases the replica (POST /v1/monitoring/hold); the operator sets it for a model that takes studies, so a replica it has not reached never sends a result',
    },
    { key: 'dicomDestinationCa', flag: '--dicom-destination-ca', arg: '<file>', env: ENV.dicomDestinationCa, kind: 'string', schema: { type: 'string', minLength: 1 }, help: 'PEM CA bundle the destination\'s https certificate is verified against' },
    { key: 'tlsCertFile', flag: '--tls-cert', arg: '<file>', env: ENV.tlsCertFile, kind: 'string', schema: { type: 'string', minLength: 1 }, help: 'serve HTTPS with this PEM certificate (chain), read again when it changes; needs --tls-key' },
    { key: 'tlsKeyFile', flag: '--tls-key', arg: '<file>', env: ENV.tlsKeyFile, kind: 'string', schema: { type: 'string', minLength: 1 }, help: 'the PEM private key of --tls-cert' },
    {
      key: 'tlsCaFile', flag: '--tls-ca', arg: '<file>', env: ENV.tlsCaFile, kind: 'string', schema: { type: 'string', minLength: 1 },
      help: 'PEM CA that an https shadow target (a candidate version) is verified against',
    },
    { key: 'host', flag: '--host', arg: '<host>', env: 'CLINOPS_HOST', kind: 'string', default: '0.0.0.0', schema: { type: 'string', minLength: 1 }, help: 'listen address' },
    { key: 'port', flag: '--port', arg: '<port>', env: ENV.port, kind: 'integer', default: 8080, schema: int(0, 65535), help: 'listen port, 0 for any' },
    {
      key: 'monitoringPort', flag: '--monitoring-port', arg: '<port>', env: ENV.monitoringPort, kind: 'integer', schema: int(0, 65535),
      help: 'serve /v1/monitoring/* on this port alone, apart from predictions (a NetworkPolicy can open it to the operator only); 0 for any',
    },
    {
      key: 'monitoringKeyFile', flag: '--monitoring-key-file', arg: '<file>', env: ENV.monitoringKeyFile, kind: 'string', schema: { type: 'string' },
      help: 'a file holding the one key that opens /v1/monitoring/* (the operator\'s), reloaded when it changes (default: the API keys)',
    },
    { key: 'apiKeysFile', flag: '--api-keys', arg: '<file>', env: ENV.apiKeysFile, kind: 'string', schema: { type: 'string' }, help: 'API key file, reloaded when it changes (default: no authentication)' },
    {
      key: 'allowUnauthenticated', flag: '--allow-unauthenticated', env: ENV.allowUnauthenticated, kind: 'boolean', default: false, schema: { type: 'boolean' },
      help: 'serve without API keys, to anyone who can reach the port (without it and without --api-keys the server refuses to start)',
    },
    {
      key: 'protectHealth', flag: '--protect-health', env: 'CLINOPS_PROTECT_HEALTH', kind: 'boolean', default: false, schema: { type: 'boolean' },
      help: 'require an API key for health and metrics too (and the monitoring endpoints, without --monitoring-key-file)',
    },
    {
      key: 'bodyLimitBytes', flag: '--body-limit', arg: '<size>', env: 'CLINOPS_BODY_LIMIT', kind: 'integer', parse: size, default: 10 * 1024 ** 2,
      schema: int(1, 1024 ** 3), expect: 'be a size such as 512kb or 10mb, at most 1gb', help: 'largest request body (default 10mb)',
    },
    {
      key: 'decodeBudgetBytes', flag: '--decode-budget', arg: '<size>', env: 'CLINOPS_DECODE_BUDGET', kind: 'integer', parse: size, default: 256 * 1024 ** 2,
      schema: int(1024 ** 2, 16 * 1024 ** 3), expect: 'be a size such as 256mb or 1gb, between 1mb and 16gb',
      help: 'what one request\'s images and DICOM studies may decode to (pixels, frames, inflated data sets, the model\'s input), judged from their headers before decoding; past it 413 (default 256mb)',
    },
    {
      key: 'decodeThreads', flag: '--decode-threads', arg: '<n>', env: 'CLINOPS_DECODE_THREADS', kind: 'integer', default: () => Math.max(1, Math.min(4, Math.floor(cpus / 2))), schema: int(1, 64),
      help: 'threads that decode images and DICOM studies, off the HTTP thread (default: usable cores / 2, at most 4)',
    },
    {
      key: 'decodePerKey', flag: '--decode-per-key', arg: '<n>', env: 'CLINOPS_DECODE_PER_KEY', kind: 'integer', default: 64, schema: int(1, 100_000),
      help: 'image requests one API key may have decoding or waiting to; more is 429, and waiting requests are taken one key at a time',
    },
    {
      key: 'readTimeoutMs', flag: '--read-timeout', arg: '<ms>', env: 'CLINOPS_READ_TIMEOUT_MS', kind: 'integer', default: 30_000, schema: int(100, 600_000),
      help: 'how long a request\'s headers and body may take to arrive; then 408 and the connection is closed',
    },
    { key: 'requestTimeoutMs', flag: '--timeout', arg: '<ms>', env: 'CLINOPS_TIMEOUT_MS', kind: 'integer', default: 10_000, schema: int(1, 600_000), help: 'per-request decode and inference timeout, then 504' },
    { key: 'maxBatchSize', flag: '--max-batch', arg: '<n>', env: 'CLINOPS_MAX_BATCH', kind: 'integer', default: 8, schema: int(1, 1024), help: 'micro-batch up to n instances; 1 turns batching off' },
    {
      key: 'maxQueueDelayMs', flag: '--batch-delay', arg: '<ms>', env: 'CLINOPS_BATCH_DELAY_MS', kind: 'integer', default: 2, schema: int(0, 1000),
      help: 'longest wait for a batch to fill while another batch runs',
    },
    {
      key: 'batchWait', flag: '--batch-wait', arg: '<when>', env: 'CLINOPS_BATCH_WAIT', kind: 'string', default: 'busy', schema: { enum: ['busy', 'always'] },
      help: 'busy: a request that finds the pool idle runs at once; always: it too waits up to --batch-delay for company (fills GPU batches)',
    },
    {
      key: 'inlineBelowUs', flag: '--inline-below-us', arg: '<µs>', env: 'CLINOPS_INLINE_BELOW_US', kind: 'integer', default: 500, schema: int(0, 10_000),
      help: 'a model on CPU whose runs take under this (averaged) answers a lone request on the HTTP thread, without the hop to a worker; 0 turns it off',
    },
    { key: 'maxQueue', flag: '--max-queue', arg: '<n>', env: 'CLINOPS_MAX_QUEUE', kind: 'integer', default: 256, schema: int(1, 100_000), help: 'instances waiting before 503 + Retry-After' },
    {
      key: 'workers', flag: '--workers', arg: '<n>', env: ENV.workers, kind: 'integer', default: () => Math.max(1, Math.floor(cpus / 2)), schema: int(1, 256),
      help: 'worker threads, one onnxruntime session each (default: usable cores / 2)',
    },
    {
      key: 'intraOpThreads', flag: '--intra-op-threads', arg: '<n>', env: ENV.intraOpThreads, kind: 'integer', schema: int(1, 256),
      default: (c: Partial<ServerConfig>) => Math.max(1, Math.floor(cpus / (c.workers ?? 1))), help: 'onnxruntime threads per session (default: usable cores / workers)',
    },
    {
      key: 'allowSpinning', flag: '--allow-spinning', arg: '<true|false>', env: 'CLINOPS_ALLOW_SPINNING', kind: 'boolean', schema: { type: 'boolean' },
      default: (c: Partial<ServerConfig>) => (c.workers ?? 1) * (c.intraOpThreads ?? 1) < cpus,
      help: 'let onnxruntime threads spin between runs (default: only when they leave a core for the HTTP thread)',
    },
    {
      key: 'executionProvider', flag: '--execution-provider', arg: '<ep>', env: ENV.executionProvider, kind: 'string', parse: (t) => t.toLowerCase(), default: 'cpu',
      schema: { enum: ['cpu', 'cuda'] }, help: 'cpu or cuda (falls back to cpu, logged)',
    },
    { key: 'auditFile', flag: '--audit-file', arg: '<path>', env: ENV.auditFile, kind: 'string', schema: { type: 'string' }, help: 'also append hash-chained audit records here' },
    { key: 'windowSize', flag: '--window-size', arg: '<n>', env: 'CLINOPS_WINDOW_SIZE', kind: 'integer', default: 10_000, schema: int(1, 10_000_000), help: 'predictions kept for /v1/monitoring/window' },
    {
      key: 'feedbackCapacity', flag: '--feedback-capacity', arg: '<n>', env: 'CLINOPS_FEEDBACK_CAPACITY', kind: 'integer', default: 10_000, schema: int(1, 10_000_000),
      help: 'ground-truth reports kept for the operator to read (and recent predictions remembered to answer them)',
    },
    {
      key: 'uploadFileBytes', flag: '--upload-file-limit', arg: '<size>', env: 'CLINOPS_UPLOAD_FILE_LIMIT', kind: 'integer', parse: size, default: 10 * 1024 ** 2,
      schema: int(1, 1024 ** 3), help: 'largest file in a multipart upload (the request stays within --body-limit); larger gets 413 naming the field',
    },
    {
      key: 'maxUploads', flag: '--max-uploads', arg: '<n>', env: 'CLINOPS_MAX_UPLOADS', kind: 'integer', default: 16, schema: int(1, 1024),
      help: 'files in one multipart upload; more gets 413',
    },
    {
      key: 'jobCapacity', flag: '--job-capacity', arg: '<n>', env: 'CLINOPS_JOB_CAPACITY', kind: 'integer', default: 100, schema: int(1, 100_000),
      help: 'asynchronous jobs held at once (queued, running, or finished and not yet expired); beyond, 503 + Retry-After',
    },
    {
      key: 'jobQuota', flag: '--job-quota', arg: '<n>', env: 'CLINOPS_JOB_QUOTA', kind: 'integer', schema: int(1, 100_000),
      default: (c: Partial<ServerConfig>) => Math.max(1, Math.ceil((c.jobCapacity ?? 100) / 4)),
      help: 'jobs one API key may hold, queued or kept for fetching (default: a quarter of --job-capacity); past it 429, and the queue runs keys in turn',
    },
    {
      key: 'jobTtlMs', flag: '--job-ttl', arg: '<ms>', env: 'CLINOPS_JOB_TTL_MS', kind: 'integer', default: 600_000, schema: int(1000, 86_400_000),
      help: 'how long a finished job\'s result is kept',
    },
    { key: 'logLevel', flag: '--log-level', arg: '<level>', env: ENV.logLevel, kind: 'string', default: 'info', schema: { enum: ['debug', 'info', 'warn', 'error'] }, help: 'debug, info, warn or error' },
    {
      key: 'drainDelayMs', flag: '--drain-delay', arg: '<ms>', env: ENV.drainDelayMs, kind: 'integer', default: 0, schema: int(0, 120_000),
      help: 'after SIGTERM, keep serving this long while readiness fails, then drain',
    },
    {
      key: 'drainTimeoutMs', flag: '--drain-timeout', arg: '<ms>', env: 'CLINOPS_DRAIN_TIMEOUT_MS', kind: 'integer', default: 20_000, schema: int(1, 600_000),
      help: 'then wait at most this long for accepted requests before exiting anyway',
    },
    {
      key: 'exitOnLoadFailure', flag: '--exit-on-load-failure', env: ENV.exitOnLoadFailure, kind: 'boolean', default: false, schema: { type: 'boolean' },
      help: `exit 3 when the model cannot be served, writing why to ${ENV.terminationLog}, instead of staying live and never ready`,
    },
    { key: 'terminationLog', env: ENV.terminationLog, kind: 'string', default: '/dev/termination-log', schema: { type: 'string', minLength: 1 }, help: 'where the reason for exit 3 is written' },
  ];
}

/**
 * The server's configuration from the CLI's parsed options (commander's names) and the environment.
 * `cpus`: what workers and intra-op threads are sized by; the container's CPU limit, not the host's cores.
 */
export function loadServerConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, cpus = usableCpus()): ServerConfig {
  const table = serverSettings(cpus);
  // What the schema cannot say: mean and std, when given, have one value per channel.
  const pre = resolveSettings(table, flags, env) as ServerConfig;
  if ((pre.tlsCertFile === undefined) !== (pre.tlsKeyFile === undefined)) {
    throw new SettingError(pre.tlsCertFile ? '--tls-key (CLINOPS_TLS_KEY_FILE)' : '--tls-cert (CLINOPS_TLS_CERT_FILE)', 'TLS needs both a certificate and its key');
  }
  if (!pre.apiKeysFile && !pre.allowUnauthenticated) {
    throw new SettingError('--api-keys (CLINOPS_API_KEYS_FILE)', 'no API keys: every caller would be served unauthenticated. Give a key file, or --allow-unauthenticated (CLINOPS_ALLOW_UNAUTHENTICATED=true) to serve anyone who can reach the port');
  }
  if (pre.apiKeysFile && pre.allowUnauthenticated) {
    throw new SettingError('--allow-unauthenticated (CLINOPS_ALLOW_UNAUTHENTICATED)', 'cannot be given with --api-keys: choose one');
  }
  if ((pre.subgroupHeader === undefined) !== (pre.subgroups === undefined)) {
    throw new SettingError(pre.subgroupHeader ? '--subgroups (CLINOPS_SUBGROUPS)' : '--subgroup-header (CLINOPS_SUBGROUP_HEADER)', 'a subgroup header and its values go together');
  }
  if ((pre.dicomDestination || pre.dicomDestinationCredentials || pre.dicomDestinationCa) && !pre.dicomAccept) {
    throw new SettingError('--dicom-accept (CLINOPS_DICOM_ACCEPT)', 'a DICOM destination serves studies taken from a PACS: say which with --dicom-accept ({} takes all)');
  }
  if (pre.startHeld && !pre.monitoringKeyFile) {
    throw new SettingError('--monitoring-key-file (CLINOPS_MONITORING_KEY_FILE)', 'a server started held is released by the operator\'s key alone: give the monitoring key');
  }
  if (pre.dicomAccept && !pre.preprocessing) {
    throw new SettingError('--preprocessing (CLINOPS_PREPROCESSING)', 'studies from a PACS are images: the model needs its image preprocessing');
  }
  const p = pre.preprocessing as Partial<ImagePreprocessing> | undefined;
  if (p && ((p.mean && p.mean.length !== p.channels) || (p.std && p.std.length !== p.channels))) {
    throw new SettingError('--preprocessing (CLINOPS_PREPROCESSING)', 'mean and std need one value per channel');
  }
  if (!p || (p.mean && p.std)) return pre;
  return Object.freeze({
    ...pre,
    preprocessing: Object.freeze({ ...p, mean: p.mean ?? new Array<number>(p.channels!).fill(0), std: p.std ?? new Array<number>(p.channels!).fill(1) }) as ImagePreprocessing,
  });
}
