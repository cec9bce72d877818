// Asynchronous prediction jobs, for studies slower than a request should wait: submitted (202 with an
// id and Location), polled, fetched, cancelled while queued. Held in this process's memory: a restart
// loses them (the submit answer says so). Bounded: at most `capacity` jobs not yet expired (503 with
// Retry-After beyond); a finished job's result is kept `ttlMs`. Scheduled behind synchronous requests:
// one job at a time, and only when no synchronous request waits for a worker — or once it has waited
// `maxWaitMs`, so jobs are never starved either. Ids are 128 random bits; a job is visible only to the
// API key that made it.
import { randomBytes } from 'node:crypto';
import { fail, ServerError } from '../errors.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobView {
  id: string;
  state: JobState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** done: the body a synchronous prediction answers. */
  result?: unknown;
  /** failed: the error shape. */
  error?: { error: string; code: string; field?: string };
}

interface Job extends JobView {
  keyId: string | null;
  keep?: false;
  run: () => Promise<unknown>;
  queuedAt: number;
  expiresAt?: number;
}

export interface JobStoreOptions {
  capacity: number;
  /** Jobs one key may hold (queued, running or kept for fetching): no key fills the store for the others. */
  perKey?: number;
  ttlMs: number;
  /** True while no synchronous request waits for a worker. */
  idle: () => boolean;
  /** A queued job runs after this long even if synchronous requests keep the pool busy. */
  maxWaitMs?: number;
  clock?: () => number;
}

export class JobStore {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  /** Jobs each key holds. */
  private readonly held = new Map<string | null, number>();
  /** The key whose job ran last: the next is another key's, if one waits (round robin). */
  private lastKey: string | null | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: JobStoreOptions) {}

  /** Jobs queued or running (not finished). */
  get waiting(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  get size(): number {
    return this.jobs.size;
  }

  /** `keep: false`: a job nobody will fetch (the PACS path's), dropped as soon as it finishes, so it holds no room then. */
  submit(keyId: string | null, run: () => Promise<unknown>, opts: { keep?: boolean } = {}): JobView {
    this.purge();
    const held = this.held.get(keyId) ?? 0;
    if (this.o.perKey !== undefined && held >= this.o.perKey) throw fail('jobQuota', { held }, undefined, { 'retry-after': '5' });
    if (this.jobs.size >= this.o.capacity) throw fail('jobsFull', { capacity: this.o.capacity }, undefined, { 'retry-after': '5' });
    const now = this.now();
    const job: Job = { id: randomBytes(16).toString('base64url'), state: 'queued', createdAt: new Date(now).toISOString(), keyId, run, queuedAt: now, ...(opts.keep === false ? { keep: false } : {}) };
    this.jobs.set(job.id, job);
    this.held.set(keyId, held + 1);
    this.queue.push(job);
    this.schedule(0);
    return view(job);
  }

  /** The job, when it exists and the caller's key made it (no key configured: anyone with the id). */
  get(id: string, keyId: string | null): JobView | undefined {
    this.purge();
    const job = this.jobs.get(id);
    return job && job.keyId === keyId ? view(job) : undefined;
  }

  /** Cancel a queued job; a running or finished one cannot be (409). */
  cancel(id: string, keyId: string | null): JobView {
    const job = this.jobs.get(id);
    if (!job || job.keyId !== keyId) throw fail('jobNotFound', {}, 'id');
    if (job.state !== 'queued') throw fail('jobNotCancellable', { state: job.state }, 'id');
    this.queue.splice(this.queue.indexOf(job), 1);
    this.finish(job, 'cancelled');
    return view(job);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, ms);
    this.timer.unref();
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    if (!this.o.idle() && this.now() - this.queue[0]!.queuedAt < (this.o.maxWaitMs ?? 5000)) {
      this.schedule(20);
      return;
    }
    const next = this.queue[this.fairNext()]!;
    this.queue.splice(this.queue.indexOf(next), 1);
    this.lastKey = next.keyId;
    this.running = true;
    next.state = 'running';
    next.startedAt = new Date(this.now()).toISOString();
    next.run().then((result) => {
      next.result = result;
      this.finish(next, 'done');
    }, (err: unknown) => {
      const e = err instanceof ServerError ? err : fail('internal');
      next.error = e.toJSON() as JobView['error'];
      this.finish(next, 'failed');
    }).finally(() => {
      this.running = false;
      this.schedule(0);
    });
  }

  /** The index of the next job to run: the oldest of the first key after the last one served, in order of their oldest waiting job. */
  private fairNext(): number {
    const keys: Array<string | null> = [];
    for (const j of this.queue) if (!keys.includes(j.keyId)) keys.push(j.keyId);
    const key = keys[(keys.indexOf(this.lastKey as string | null) + 1) % keys.length];
    return this.queue.findIndex((j) => j.keyId === key);
  }

  private finish(job: Job, state: JobState): void {
    job.state = state;
    job.finishedAt = new Date(this.now()).toISOString();
    job.expiresAt = this.now() + (job.keep === false ? 0 : this.o.ttlMs);
    if (job.keep === false) this.purge();
  }

  private purge(): void {
    const now = this.now();
    for (const [id, job] of this.jobs) {
      if (job.expiresAt === undefined || job.expiresAt > now) continue;
      this.jobs.delete(id);
      const n = (this.held.get(job.keyId) ?? 1) - 1;
      if (n > 0) this.held.set(job.keyId, n);
      else this.held.delete(job.keyId);
    }
  }
}

function view(j: Job): JobView {
  const { id, state, createdAt, startedAt, finishedAt, result, error } = j;
  return { id, state, createdAt, ...(startedAt ? { startedAt } : {}), ...(finishedAt ? { finishedAt } : {}),
    ...(result !== undefined ? { result } : {}), ...(error ? { error } : {}) };
}
