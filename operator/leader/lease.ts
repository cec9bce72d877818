// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: a candidate takes
// the lease when its holder has not renewed it for leaseDuration (measured on the candidate's own
// clock from when it last saw the record change, so clock skew between machines does not matter);
// the leader renews every retryPeriod and steps down if it cannot renew within renewDeadline; on
// shutdown it releases the lease so a standby takes over at once.
import type { Logger } from '../../contract/log.js';
import { ApiError, type KubeClient, type ResourceRef } from '../kube/client.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: () => number;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** The deadline passed while leading: the lease, even if it still names us, is no longer ours to renew. */
  private abandoned = false;
  private observedRecord = '';
  private observedAt = 0;
  private lastRenew = 0;
  private failedTicks = 0;
  private inflight: Promise<void> | undefined;
  private readonly ref: ResourceRef;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: () => number;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.ref = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: opts.namespace, name: opts.name };
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.clock = opts.clock ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    this.inflight = this.tick();
    this.watchDeadline();
  }

  /** Stop campaigning; if leading, release the lease so another instance can take it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.deadlineTimer) clearInterval(this.deadlineTimer);
    // A renewal still in flight would otherwise land after the release and hold the lease for a
    // full lease duration.
    await this.inflight;
    if (!this.leading) return;
    this.setLeading(false);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const lease = await this.opts.client.get<Lease>(this.ref);
        if (lease?.spec.holderIdentity !== this.opts.identity) return;
        const now = microTime(this.clock());
        await this.opts.client.update(this.ref, {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
        });
        this.opts.log.info('leader lease released', { lease: `${this.opts.namespace}/${this.opts.name}` });
        return;
      } catch (err) {
        if (err instanceof ApiError && err.statusCode === 409) continue;
        this.opts.log.warn('leader lease not released', { error: err });
        return;
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      // Once per outage, then every 30th attempt: an unreachable API server must not flood the log.
      if (this.failedTicks++ % 30 === 0) this.opts.log.warn('leader lease not renewed', { error: err, attempts: this.failedTicks });
    }
    if (this.stopped) return;
    const now = this.clock();
    if (ok) {
      this.failedTicks = 0;
      this.lastRenew = now;
      if (!this.leading) this.setLeading(true);
    } else if (this.leading && now - this.lastRenew > this.renewDeadlineMs) {
      this.opts.log.warn('leader lease lost', { lease: `${this.opts.namespace}/${this.opts.name}` });
      this.abandoned = true;
      this.setLeading(false);
    }
    this.timer = setTimeout(() => {
      this.inflight = this.tick();
    }, this.retryPeriodMs);
    this.timer.unref();
  }

  /**
   * Steps down when the last renewal is older than the renew deadline, whether or not a renewal is still
   * in flight: a stalled call must not keep a leader acting past its lease (checked every retry period).
   */
  private watchDeadline(): void {
    this.deadlineTimer = setInterval(() => {
      if (!this.stopped && this.leading && this.clock() - this.lastRenew > this.renewDeadlineMs) {
        this.opts.log.warn('leader lease not renewed within its deadline; standing down', { lease: `${this.opts.namespace}/${this.opts.name}` });
        this.abandoned = true;
        this.setLeading(false);
      }
    }, Math.max(50, Math.min(this.retryPeriodMs, this.renewDeadlineMs / 10)));
    this.deadlineTimer.unref();
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    if (leading) {
      this.opts.log.info('leader lease acquired', { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity });
      this.opts.onStartedLeading();
    } else {
      this.opts.onStoppedLeading();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity } = this.opts;
    const now = this.clock();
    const lease = await client.get<Lease>(this.ref);
    const fresh: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    if (!lease) {
      try {
        await client.create(this.ref, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec: fresh,
        } satisfies Lease);
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.statusCode === 409) return false;
        throw err;
      }
    }
    const record = JSON.stringify([lease.spec.holderIdentity, lease.spec.renewTime]);
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAt = now;
    }
    const holder = lease.spec.holderIdentity ?? '';
    const durationMs = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    // A lease this replica gave up (its deadline passed) is not renewed as its own: it is taken only once
    // it has expired, and then only after one more lease duration — the replica that could not keep its
    // lease is the likeliest to be the unwell one, so a standby that watched the lease expire leads.
    if (holder !== identity) this.abandoned = false; // someone else's lease now: nothing of ours to give up
    const mine = holder === identity && !this.abandoned;
    const waitMs = this.abandoned ? 2 * durationMs : durationMs;
    if (holder !== '' && !mine && this.observedAt + waitMs > now) return false;

    const spec: LeaseSpec = mine
      ? { ...lease.spec, renewTime: microTime(now), leaseDurationSeconds: fresh.leaseDurationSeconds }
      : { ...fresh, leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 };
    try {
      await client.update(this.ref, { ...lease, spec });
      this.abandoned = false;
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 409) return false;
      throw err;
    }
  }
}
