// The operator process, assembled: caches, leader election, workers and the probe server. Tests
// start it in-process with their own KubeConfig; `clinops operator` starts it from the CLI.
import { KubeConfig } from '@kubernetes/client-node';
import type { OperatorConfig } from './config.js';
import { Controller } from './controller/controller.js';
import type { QueueOptions } from './controller/queue.js';
import { KubeClient } from './kube/client.js';
import { EventRecorder } from './kube/events.js';
import { LeaderElector } from './leader/lease.js';
import { startProbeServer, type ProbeServer } from './observability/http.js';
import { createLogger, type Logger } from '../contract/log.js';
import { OperatorMetrics } from './observability/metrics.js';
import { isIP } from 'node:net';

export interface OperatorDeps {
  kc?: KubeConfig;
  log?: Logger;
  clock?: () => number;
  queueOptions?: QueueOptions;
  leaseTimings?: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** The kubeconfig's API server host, when it is an address (a notification receiver may never be it). */
function apiServerAddress(kc: KubeConfig): string[] {
  const server = kc.getCurrentCluster()?.server;
  const host = server ? new URL(server).hostname.replace(/^\[|\]$/g, '') : '';
  return isIP(host) ? [host] : [];
}

export class Operator {
  readonly metrics: OperatorMetrics;
  readonly controller: Controller;
  readonly elector: LeaderElector | undefined;
  readonly log: Logger;
  private probe: ProbeServer | undefined;
  private readonly client: KubeClient;
  private readonly leaseClient: KubeClient;
  private leading = false;

  constructor(readonly config: OperatorConfig, deps: OperatorDeps = {}) {
    const kc = deps.kc ?? loadKubeConfig(config.kubeconfig);
    this.log = deps.log ?? createLogger(config.logLevel, { component: 'operator', identity: config.identity });
    const clock = deps.clock ?? Date.now;
    // Each replica names itself to the API server (its audit log says which wrote), and writes only
    // while it leads; the lease is written through a client of its own, unfenced.
    const userAgent = `clinops-operator/${config.identity}`;
    const client = new KubeClient(kc, userAgent, undefined, () => !config.leaderElect || this.leading);
    this.client = client;
    this.leaseClient = new KubeClient(kc, userAgent);
    this.metrics = new OperatorMetrics(() => this.controller.queueLength);
    const recorder = new EventRecorder(client, 'clinops-operator', config.identity, this.log,
      () => this.metrics.apiWrites.inc({ resource: 'events' }), clock);
    this.controller = new Controller({
      kc,
      client,
      namespace: config.namespace,
      workers: config.workers,
      resyncPeriodMs: config.resyncPeriodMs,
      settings: { serverImage: config.serverImage, acceptanceImage: config.acceptanceImage },
      notifyPolicy: { ...config.notify, apiServerAddresses: [...config.notify.apiServerAddresses, ...apiServerAddress(kc)] },
      recorder,
      metrics: this.metrics,
      log: this.log,
      clock,
      queueOptions: deps.queueOptions,
      modelEndpoints: config.modelEndpoints,
    });
    if (config.leaderElect) {
      this.elector = new LeaderElector({
        client: this.leaseClient,
        namespace: config.leaseNamespace,
        name: config.leaseName,
        identity: config.identity,
        clock,
        log: this.log,
        ...deps.leaseTimings,
        onStartedLeading: () => this.lead(true),
        onStoppedLeading: () => this.lead(false),
      });
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get probePort(): number | undefined {
    return this.probe?.port;
  }

  async start(): Promise<void> {
    this.probe = await startProbeServer(this.config.httpHost, this.config.httpPort, () => this.controller.synced, this.metrics.registry);
    this.log.info('operator started', { probePort: this.probe.port, namespace: this.config.namespace ?? '(all)', workers: this.config.workers });
    await this.controller.startInformers();
    if (this.elector) this.elector.start();
    else this.lead(true);
  }

  /** Graceful stop: finish passes in flight, release the lease, close watches and the probe port. */
  async stop(): Promise<void> {
    await this.controller.stopWorkers();
    if (this.elector) await this.elector.stop();
    this.controller.stopInformers();
    await this.probe?.close();
    await this.client.close();
    await this.leaseClient.close();
    this.log.info('operator stopped');
  }

  private lead(leading: boolean): void {
    this.leading = leading;
    this.metrics.isLeader.set(leading ? 1 : 0);
    if (leading) {
      void this.controller.startWorkers();
    } else {
      void this.controller.stopWorkers();
    }
  }
}
