// What a route is and what it is given: the types the router, the app and every route share, in a
// room of their own below all of them (routes never import the app).
import type { ApiKeys, Scope } from '../auth/api-keys.js';
import type { DicomIntake } from '../dicomweb/intake.js';
import type { JobStore } from '../jobs/job-store.js';
import type { ServerMetrics } from '../metrics.js';
import type { FeatureCounts } from '../signals/feature-counts.js';
import type { FeedbackStore } from '../signals/feedback.js';
import type { PredictionWindow } from '../signals/window.js';
import type { ShadowMirror } from '../shadow/mirror.js';
import type { Caller } from '../predictor.js';
import type { Accepts, RequestBody, UploadLimits } from './body.js';
import type { ServerState } from './serving.js';

export interface AppDeps {
  state: ServerState;
  modelName: string;
  modelVersion: string;
  labels: readonly string[];
  /** The current model card (it may change while the server runs). */
  modelCard: () => Readonly<Record<string, string>>;
  bodyLimitBytes: number;
  /** Multipart uploads: bytes per file, files per request. */
  uploads?: UploadLimits;
  keys: ApiKeys | undefined;
  /** The key the operator reads the monitoring signals with; when set, only it opens /v1/monitoring/*. */
  monitoringKey?: ApiKeys;
  protectHealth: boolean;
  /** The header naming a request's subgroup, and the values it may take (--subgroup-header, --subgroups). */
  subgroups?: { header: string; values: ReadonlySet<string> };
  window: PredictionWindow;
  feedback: FeedbackStore;
  /** Asynchronous prediction jobs (POST /v1/models/{m}/jobs). */
  jobs?: JobStore;
  /** Studies from a PACS (POST /dicomweb/studies), when the model takes them. */
  dicom?: DicomIntake;
  /** Per-feature bin counts, when a feature reference is configured. */
  features?: FeatureCounts;
  /** Shadow traffic to a candidate version (set by the operator on the monitoring port). */
  mirror?: ShadowMirror;
  metrics: ServerMetrics;
  epoch: string;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** What a route is handed: its path parameters, the query, the caller, and the body on demand. */
export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  requestId: string;
  /** The API key's id, when keys are configured. */
  keyId: string | null;
  /** The caller as a prediction records it: the key's id and the subgroup the request named. */
  caller: Caller;
  body(accepts?: Accepts): Promise<RequestBody>;
}

/** What a route answers: JSON by default, or text with its content type. */
export type Reply = { status?: number; json: unknown; headers?: Record<string, string> } | { status?: number; text: string; contentType: string };

export interface RouteDef {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** Served without an API key (health and metrics, unless protectHealth). */
  open?: boolean;
  /** A monitoring signal (/v1/monitoring/*): for the operator's key alone when one is configured. */
  monitoring?: boolean;
  /** The scope an API key needs for the route (when keys are configured). */
  scope?: Scope;
  /** The monitoring key alone opens it, and nothing when there is none (shadow targets, mirrored copies). */
  operatorOnly?: boolean;
  /** /metrics: open on the monitoring port; on the serving port an API key's when keys are configured. */
  metrics?: boolean;
  handler: (ctx: RequestContext) => Reply | Promise<Reply>;
}
