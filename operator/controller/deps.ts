// What a reconcile pass is given: the informers' caches, the API client, the drift gatherer and the
// process's clocks and metrics. A unit test gives fakes of the same shapes (test/unit/operator/controller).
import type { ClinicalModel } from '../api/types.js';
import type { DeploymentSettings } from '../desired/deployment.js';
import type { Revocation } from '../escalation/revocation.js';
import type { DriftGatherer } from '../gathering/gatherer.js';
import type { NotifyPolicy } from '../governance/notify-send.js';
import type { KubeClient } from '../kube/client.js';
import type { EventRecorder } from '../kube/events.js';
import type { DriftMetrics } from '../observability/metrics.js';
import type { ObservedPod } from '../serving/pods.js';
import type { Logger } from '../../contract/log.js';
import type { Owned } from './pass.js';
import type { ProviderReports } from './providers.js';
import type { ObservedDeployment } from './status.js';

/** What the reconciler reads: the informers' caches. */
export interface Caches {
  model(namespace: string, name: string): ClinicalModel | undefined;
  /** A version revoked in a namespace (its RevokedVersion, named after the sha256), if it is. */
  revokedVersion(namespace: string, sha256: string): Revocation | undefined;
  deployment(namespace: string, name: string): (ObservedDeployment & Owned) | undefined;
  service(namespace: string, name: string): (Record<string, unknown> & Owned) | undefined;
  /** The model's HorizontalPodAutoscaler (spec.serving.autoscaling), when it has one. */
  autoscaler(namespace: string, name: string): (Record<string, unknown> & Owned) | undefined;
  pods(namespace: string, instance: string): readonly ObservedPod[];
  /** The pods of a model's candidate Deployment (spec.rollout). */
  candidatePods(namespace: string, model: string): readonly ObservedPod[];
}

/** The API calls a pass makes. */
export type KubeApi = Pick<KubeClient, 'get' | 'getMetadata' | 'list' | 'create' | 'update' | 'apply' | 'mergePatch' | 'delete'>;

export interface ReconcilerDeps {
  client: KubeApi;
  caches: Caches;
  settings: DeploymentSettings;
  recorder: Pick<EventRecorder, 'record'>;
  log: Logger;
  clock: () => number;
  onWrite: (resource: string) => void;
  /**
   * The resourceVersion a status write of a pass left the model at: its watch event only echoes what the
   * pass already knew, so it queues no pass of its own (the controller skips it).
   */
  onStatusWritten?: (key: string, resourceVersion: string) => void;
  gatherer: DriftGatherer;
  /** Explicit monitoring URLs per model key, instead of its pods' IPs (local development). */
  modelEndpoints: ReadonlyMap<string, readonly string[]>;
  driftMetrics: DriftMetrics;
  /** What GPU models' replicas run on, read from their readiness answers in the background. */
  providers: ProviderReports;
  random?: () => number;
  /** fetch for the pods' monitoring port (shadow targets). */
  fetchFn?: typeof fetch;
  /** How far the retraining signal (spec.governance.notify) may reach. */
  notifyPolicy?: NotifyPolicy;
}

/** The status on the server moved on since the cache's copy; the pass runs again on fresher data. */
export class StaleCacheError extends Error {
  constructor(key: string) {
    super(`status of ${key} changed since it was read; retrying with the newer object`);
    this.name = 'StaleCacheError';
  }
}

/** An error that retrying cannot fix; the key is not requeued until the object changes. */
export class TerminalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminalError';
  }
}
