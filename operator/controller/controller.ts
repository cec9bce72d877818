// Wires informers to the work queue and the queue to the reconciler. Informers only turn events
// into keys; workers take one key at a time each, retry failures with per-key backoff, and forget a
// key after a success. Every known key is queued again each resync period.
import { DEFAULT_NOTIFY_POLICY, type NotifyPolicy } from '../governance/notify-send.js';
import { REVOKED_VERSIONS, type RevokedVersion } from '../escalation/revocation.js';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { ClinicalModel } from '../api/types.js';
import { GROUP, PLURAL, VERSION } from '../api/types.js';
import { AUTOSCALERS } from '../desired/autoscaler.js';
import type { DeploymentSettings } from '../desired/deployment.js';
import { DriftGatherer } from '../gathering/gatherer.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY } from '../desired/labels.js';
import type { KubeClient } from '../kube/client.js';
import type { EventRecorder } from '../kube/events.js';
import { Informer } from '../kube/informer.js';
import type { Logger } from '../../contract/log.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import { type QueueOptions, WorkQueue } from './queue.js';
import { ProviderReports } from './providers.js';
import { ownerKey, podKey, Reconciler, StaleCacheError, TerminalError } from './reconciler.js';
import type { ObservedPod } from '../serving/pods.js';
import { CANDIDATE_LABEL } from '../rollout/rollout.js';

/** The key of the model whose candidate a pod runs (spec.rollout), from its label. */
function candidateKey(o: KubernetesObject): string | undefined {
  const model = o.metadata?.labels?.[CANDIDATE_LABEL];
  return model ? `${o.metadata?.namespace ?? ''}/${model}` : undefined;
}

export interface ControllerOptions {
  kc: KubeConfig;
  client: KubeClient;
  /** Namespace to watch; undefined watches all. */
  namespace?: string;
  workers: number;
  resyncPeriodMs: number;
  settings: DeploymentSettings;
  recorder: EventRecorder;
  metrics: OperatorMetrics;
  log: Logger;
  clock: () => number;
  queueOptions?: QueueOptions;
  /** Explicit monitoring URLs per model key ("namespace/name"). */
  modelEndpoints?: ReadonlyMap<string, readonly string[]>;
  /** How far spec.governance.notify may reach. */
  notifyPolicy?: NotifyPolicy;
  /** fetch for the monitoring windows (tests may substitute one). */
  fetchFn?: typeof fetch;
}

const OWNED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

export class Controller {
  readonly models: Informer<ClinicalModel & KubernetesObject>;
  readonly deployments: Informer<KubernetesObject>;
  readonly services: Informer<KubernetesObject>;
  readonly autoscalers: Informer<KubernetesObject>;
  readonly pods: Informer<KubernetesObject>;
  readonly revokedVersions: Informer<KubernetesObject>;
  private readonly reconciler: Reconciler;
  /** The resourceVersion each model's last status write left it at (see ReconcilerDeps.onStatusWritten). */
  private readonly statusEchoes = new Map<string, string>();
  private running = false;
  private workerLoops: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  /** A fresh queue per term of leadership; undefined while not leading. */
  private queue: WorkQueue | undefined;

  constructor(private readonly opts: ControllerOptions) {
    const { kc, client, namespace, log } = opts;
    const enqueue = (key: string | undefined) => {
      if (key) this.queue?.add(key);
    };
    this.models = new Informer(kc, client, { group: GROUP, version: VERSION, plural: PLURAL, namespace }, {
      log,
      onEvent: (e, o) => {
        const key = `${o.metadata?.namespace}/${o.metadata?.name}`;
        // The echo of a pass's own status write carries nothing that pass did not know: no pass for it.
        const echo = this.statusEchoes.get(key);
        if (echo !== undefined) this.statusEchoes.delete(key);
        if (e === 'update' && echo !== undefined && echo === o.metadata?.resourceVersion) return;
        enqueue(key);
      },
    });
    const owned = { log, labelSelector: OWNED_SELECTOR, onEvent: (_e: unknown, o: KubernetesObject) => enqueue(ownerKey(o as never)) };
    this.deployments = new Informer(kc, client, { group: 'apps', version: 'v1', plural: 'deployments', namespace }, owned);
    this.services = new Informer(kc, client, { group: '', version: 'v1', plural: 'services', namespace }, owned);
    this.autoscalers = new Informer(kc, client, { ...AUTOSCALERS, namespace }, owned);
    this.pods = new Informer(kc, client, { group: '', version: 'v1', plural: 'pods', namespace }, {
      log,
      labelSelector: OWNED_SELECTOR,
      onEvent: (_e, o) => enqueue(podKey(o as never) ?? candidateKey(o)),
    });
    // Revoked versions (few, written by the operator alone): a change queues every model of the namespace
    // that declares the version, so a revocation or its lift acts at once.
    this.revokedVersions = new Informer(kc, client, { ...REVOKED_VERSIONS, namespace }, {
      log,
      onEvent: (_e, o) => {
        const sha = (o as unknown as RevokedVersion).spec?.sha256;
        for (const m of this.models.list(o.metadata?.namespace)) {
          if (m.spec?.model?.sha256?.toLowerCase() === sha || m.status?.acceptance?.accepted?.sha256 === sha) enqueue(`${m.metadata?.namespace}/${m.metadata?.name}`);
        }
      },
    });
    this.reconciler = new Reconciler({
      client,
      settings: opts.settings,
      recorder: opts.recorder,
      log,
      clock: opts.clock,
      onWrite: (resource) => opts.metrics.apiWrites.inc({ resource }),
      onStatusWritten: (key, resourceVersion) => this.statusEchoes.set(key, resourceVersion),
      gatherer: new DriftGatherer(client, opts.fetchFn),
      fetchFn: opts.fetchFn,
      notifyPolicy: opts.notifyPolicy ?? DEFAULT_NOTIFY_POLICY,
      modelEndpoints: opts.modelEndpoints ?? new Map(),
      driftMetrics: opts.metrics.drift,
      providers: new ProviderReports((key) => enqueue(key), opts.clock, opts.fetchFn),
      caches: {
        model: (ns, name) => this.models.get(ns, name),
        revokedVersion: (ns, sha) => (this.revokedVersions.get(ns, sha) as unknown as RevokedVersion | undefined)?.spec,
        deployment: (ns, name) => this.deployments.get(ns, name) as never,
        service: (ns, name) => this.services.get(ns, name) as never,
        autoscaler: (ns, name) => this.autoscalers.get(ns, name) as never,
        pods: (ns, instance) =>
          this.pods.list(ns).filter((p) => p.metadata?.labels?.[LABEL_INSTANCE] === instance) as ObservedPod[],
        candidatePods: (ns, model) =>
          this.pods.list(ns).filter((p) => p.metadata?.labels?.[CANDIDATE_LABEL] === model) as ObservedPod[],
      },
    });
  }

  private get informers(): Array<Informer<any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return [this.models, this.deployments, this.services, this.autoscalers, this.pods, this.revokedVersions];
  }

  /** Start the caches (every instance keeps them warm, leader or not). */
  async startInformers(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
  }

  get synced(): boolean {
    return this.informers.every((i) => i.isSynced);
  }

  /** Start reconciling: only the leader does this. */
  async startWorkers(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await Promise.all(this.informers.map((i) => i.synced));
    const queue = new WorkQueue(this.opts.queueOptions);
    this.queue = queue;
    const addAll = () => {
      for (const m of this.models.list()) queue.add(`${m.metadata?.namespace}/${m.metadata?.name}`);
    };
    addAll();
    this.workerLoops = Array.from({ length: this.opts.workers }, () => this.worker(queue));
    const resync = () => {
      addAll();
      this.resyncTimer = setTimeout(resync, this.opts.resyncPeriodMs);
      this.resyncTimer.unref();
    };
    this.resyncTimer = setTimeout(resync, this.opts.resyncPeriodMs);
    this.resyncTimer.unref();
  }

  /** Stop taking keys; resolves when the passes in flight have finished. */
  async stopWorkers(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.queue?.shutDown();
    this.queue = undefined;
    await Promise.all(this.workerLoops);
  }

  stopInformers(): void {
    for (const i of this.informers) i.stop();
  }

  /** Keys waiting in the queue (0 while not leading). */
  get queueLength(): number {
    return this.queue?.length ?? 0;
  }

  private async worker(queue: WorkQueue): Promise<void> {
    const { metrics, log } = this.opts;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const end = metrics.reconcileDuration.startTimer();
      try {
        const result = await this.reconciler.reconcile(key);
        queue.forget(key);
        if (result.requeueAfterMs !== undefined) {
          queue.addAfter(key, result.requeueAfterMs);
          metrics.reconcileTotal.inc({ result: 'requeue' });
        } else {
          metrics.reconcileTotal.inc({ result: 'success' });
        }
      } catch (err) {
        metrics.reconcileTotal.inc({ result: err instanceof StaleCacheError ? 'conflict' : 'error' });
        const [namespace, name] = key.split('/');
        if (err instanceof StaleCacheError) {
          // Our own write has not reached the cache yet: not a failure, just wait for it.
          queue.addRateLimited(key);
          log.debug(err.message, { kind: 'ClinicalModel', namespace, name });
        } else if (err instanceof TerminalError) {
          queue.forget(key);
          log.error('reconcile failed; not retrying until the object changes', { kind: 'ClinicalModel', namespace, name, error: err });
        } else {
          const delay = queue.addRateLimited(key);
          log.warn('reconcile failed; retrying', { kind: 'ClinicalModel', namespace, name, error: err, retryInMs: delay });
        }
      } finally {
        end();
        queue.done(key);
      }
    }
  }
}
