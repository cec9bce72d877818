// Runs inference on a pool of worker threads, one onnxruntime session each. Requests wait in one
// bounded queue; a free worker takes the oldest. With micro-batching on (maxBatchSize > 1, a single
// input with a dynamic batch dimension), it takes every waiting request that fits into maxBatchSize
// rows, waiting up to maxQueueDelayMs from the oldest request for more to arrive, and runs them as
// one batch. A request past its timeout is answered 504 whether it is waiting or running; a full
// queue answers 503 with Retry-After. A worker thread that dies (a native crash, an out-of-memory
// abort) is not a silent outage: what it was running is answered 503 at once, a new worker takes its
// place (at most maxRespawnsPerMinute), and liveWorkers tells readiness while none is left.
//
// Inline runs: a worker's answer costs two thread wake-ups, which for a tiny model on CPU are most of
// its latency (a sepsis MLP runs in ~30 µs). Once a model's lone runs average under inlineBelowUs
// (measured through the workers), a request that finds the pool idle and nothing queued runs on the
// HTTP thread, in a session of its own there, blocking it for about that long; a model file over
// INLINE_MAX_MODEL_BYTES, a GPU model, a batch over maxBatchSize rows or runs that grow slower never do.
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { fail, ServerError } from '../errors.js';
import { ORT_TYPE, type Signature, specFromMetadata, type Tensor, type TypedArray } from './signature.js';
import type { FromWorker, ToWorker, WireTensor, WorkerInit } from './worker.js';

export interface SchedulerOptions extends WorkerInit {
  workers: number;
  /** Respawns of dead workers allowed per minute (default 5); past that the pool stays smaller, and says so. */
  maxRespawnsPerMinute?: number;
  /** What happened to the pool (a worker lost, respawned or not), for the server's log. */
  onPoolEvent?: (msg: string, fields: Record<string, unknown>) => void;
  maxBatchSize: number;
  maxQueueDelayMs: number;
  /** busy (default): wait for company only while a batch runs; always: also when the pool is idle. */
  batchWait?: 'busy' | 'always';
  /** Most rows (instances) waiting at once. */
  maxQueue: number;
  /** Mean run time (µs) under which a lone request on an idle pool runs on this thread; 0 or absent: never. */
  inlineBelowUs?: number;
  timeoutMs: number;
}

export interface Outputs {
  [name: string]: { data: TypedArray; dims: number[] };
}

interface Job {
  feeds: Tensor[];
  /** The caller gives up the feeds' buffers: they move to the worker instead of being copied. */
  transfer: boolean;
  rows: number;
  enqueuedAt: number;
  timer: NodeJS.Timeout;
  settled: boolean;
  resolve: (o: Outputs) => void;
  reject: (e: Error) => void;
}

/** Larger model files are never loaded a second time on the HTTP thread. */
export const INLINE_MAX_MODEL_BYTES = 16 * 1024 ** 2;
/** Weight of the newest run in the mean run time. */
const COST_WEIGHT = 0.1;

/** What a request sent to a worker gets back: the worker's answer, or word that the worker died. */
type Reply = FromWorker | { kind: 'lost'; error: string };

interface Slot {
  worker: Worker;
  busy: boolean;
  pending: Map<number, (m: Reply) => void>;
}

export class Scheduler {
  private readonly queue: Job[] = [];
  private queuedRows = 0;
  private slots: Slot[] = [];
  private nextId = 1;
  private delayTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private respawns: number[] = [];
  readonly batching: boolean;
  /** Mean time (µs) of a lone request's run, through a worker or inline. */
  private costUs = Infinity;
  /** The HTTP thread's own session, once the model has shown itself cheap enough (or 'loading', 'never'). */
  private inline: ort.InferenceSession | 'loading' | 'never' | undefined;
  /** Requests answered on the HTTP thread (for tests and the log). */
  inlineRuns = 0;

  private constructor(
    private readonly opts: SchedulerOptions,
    readonly signature: Signature,
    readonly provider: string,
    readonly providerNote: string | undefined,
  ) {
    this.batching = opts.maxBatchSize > 1 && signature.inputs.length === 1 && signature.inputs[0]!.shape[0] === -1;
  }

  /** Start the workers and wait until each has loaded the model. */
  static async start(opts: SchedulerOptions): Promise<Scheduler> {
    const started = await Promise.all(Array.from({ length: opts.workers }, () => spawnWorker(opts)));
    const first = started[0]!.ready;
    const signature: Signature = {
      inputs: (first.inputs as Array<{ name: string; type?: string; shape?: Array<number | string> }>).map(specFromMetadata),
      outputs: (first.outputs as Array<{ name: string; type?: string; shape?: Array<number | string> }>).map(specFromMetadata),
    };
    const s = new Scheduler(opts, signature, first.provider, first.fallbackReason);
    for (const { worker } of started) s.adopt(worker);
    return s;
  }

  get queueLength(): number {
    return this.queuedRows;
  }

  /** Workers alive now: none means no request can be served until one is respawned. */
  get liveWorkers(): number {
    return this.slots.length;
  }

  private adopt(worker: Worker): void {
    const slot: Slot = { worker, busy: false, pending: new Map() };
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'result' || m.kind === 'error') {
        slot.pending.get(m.id)?.(m);
        slot.pending.delete(m.id);
      }
    });
    worker.on('error', () => {}); // 'exit' follows and says what matters
    worker.once('exit', (code) => this.lost(slot, code));
    this.slots.push(slot);
  }

  /** A worker exited: answer what it was running, and put a new one in its place while allowed. */
  private lost(slot: Slot, code: number): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    for (const reply of slot.pending.values()) reply({ kind: 'lost', error: `the worker thread exited (code ${code})` });
    slot.pending.clear();
    if (this.closed) return;
    const now = Date.now();
    this.respawns = this.respawns.filter((t) => now - t < 60_000);
    if (this.respawns.length >= (this.opts.maxRespawnsPerMinute ?? 5)) {
      this.opts.onPoolEvent?.('worker lost; not respawned (too many this minute)', { code, liveWorkers: this.slots.length });
      return;
    }
    this.respawns.push(now);
    this.opts.onPoolEvent?.('worker lost; respawning', { code, liveWorkers: this.slots.length });
    spawnWorker(this.opts).then(({ worker }) => {
      if (this.closed) {
        void worker.terminate();
        return;
      }
      this.adopt(worker);
      this.opts.onPoolEvent?.('worker respawned', { liveWorkers: this.slots.length });
      this.dispatch();
    }, (err: Error) => this.opts.onPoolEvent?.('worker respawn failed', { error: err.message, liveWorkers: this.slots.length }));
  }

  /**
   * Run one request (its tensors carry the batch as their first dimension). With `transfer`, the
   * caller gives up the feeds' buffers: a lone request's move to the worker instead of being copied,
   * and are unreadable afterwards.
   */
  infer(feeds: Tensor[], transfer = false): Promise<Outputs> {
    if (this.closed) return Promise.reject(fail('shuttingDown'));
    const rows = feeds[0]?.shape[0] ?? 1;
    if (this.queuedRows + rows > this.opts.maxQueue) {
      return Promise.reject(fail('queueFull', { maxQueue: this.opts.maxQueue }, undefined, { 'retry-after': '1' }));
    }
    return new Promise<Outputs>((resolve, reject) => {
      const job: Job = {
        feeds, transfer, rows, enqueuedAt: Date.now(), settled: false, resolve, reject,
        timer: setTimeout(() => this.expire(job), this.opts.timeoutMs),
      };
      this.queue.push(job);
      this.queuedRows += rows;
      this.dispatch();
    });
  }

  private expire(job: Job): void {
    if (job.settled) return;
    job.settled = true;
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.queuedRows -= job.rows;
    }
    job.reject(fail('inferenceTimeout', { timeoutMs: this.opts.timeoutMs }));
  }

  private dispatch(): void {
    for (;;) {
      const slot = this.slots.find((s) => !s.busy);
      if (!slot || this.queue.length === 0) return;
      // Waiting for a fuller batch pays only while other work is running (more is likely on its way);
      // a request that finds the pool idle runs at once, so a lone request never waits for company.
      if (this.batching && (this.inFlight > 0 || this.opts.batchWait === 'always') && this.queuedRows < this.opts.maxBatchSize) {
        const wait = this.queue[0]!.enqueuedAt + this.opts.maxQueueDelayMs - Date.now();
        if (wait > 0) {
          if (!this.delayTimer) {
            this.delayTimer = setTimeout(() => {
              this.delayTimer = undefined;
              this.dispatch();
            }, wait);
          }
          return;
        }
      }
      if (typeof this.inline === 'object' && this.inFlight === 0 && this.queue.length === 1 && this.queue[0]!.rows <= this.opts.maxBatchSize) {
        const job = this.queue.shift()!;
        this.queuedRows -= job.rows;
        void this.runInline(this.inline, job);
        continue;
      }
      const jobs: Job[] = [this.queue.shift()!];
      let rows = jobs[0]!.rows;
      if (this.batching) {
        while (this.queue.length > 0 && rows + this.queue[0]!.rows <= this.opts.maxBatchSize) {
          const j = this.queue.shift()!;
          rows += j.rows;
          jobs.push(j);
        }
      }
      this.queuedRows -= rows;
      void this.runOn(slot, jobs, rows);
    }
  }

  /** Fold one lone run's time into the mean; a model that became cheap gets its inline session, one that grew slow loses it. */
  private observe(us: number): void {
    this.costUs = this.costUs === Infinity ? us : this.costUs + COST_WEIGHT * (us - this.costUs);
    const below = this.opts.inlineBelowUs ?? 0;
    if (typeof this.inline === 'object' && this.costUs > 2 * below) {
      void this.inline.release();
      this.inline = 'never';
    } else if (this.inline === undefined && this.costUs < below) {
      this.loadInline();
    }
  }

  private loadInline(): void {
    let size = Infinity;
    try {
      size = statSync(this.opts.modelPath).size;
    } catch {
      // unreadable now: never inline
    }
    if (this.provider !== 'cpu' || size > INLINE_MAX_MODEL_BYTES) {
      this.inline = 'never';
      return;
    }
    this.inline = 'loading';
    ort.InferenceSession.create(this.opts.modelPath, {
      intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'],
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    }).then((session) => {
      if (this.closed || this.inline !== 'loading') void session.release();
      else this.inline = session;
    }, () => (this.inline = 'never'));
  }

  private async runInline(session: ort.InferenceSession, job: Job): Promise<void> {
    this.inFlight += 1;
    this.inlineRuns += 1;
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of job.feeds) feeds[t.name] = new ort.Tensor(ORT_TYPE[t.datatype] as never, t.data as never, t.shape);
      const started = performance.now();
      const result = await session.run(feeds);
      this.observe((performance.now() - started) * 1000);
      const out: Outputs = {};
      for (const [name, t] of Object.entries(result)) out[name] = { data: t.data as unknown as TypedArray, dims: [...t.dims] };
      settle(job, () => job.resolve(out));
    } catch (err) {
      settle(job, () => job.reject(fail('inferenceFailed', { reason: (err as Error).message.split('\n')[0] })));
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      this.dispatch();
    }
  }

  private async runOn(slot: Slot, jobs: Job[], rows: number): Promise<void> {
    slot.busy = true;
    this.inFlight += 1;
    try {
      // A batch is a new tensor of its own; a lone request's may be moved if its caller gave it up.
      const feeds = jobs.length === 1 ? jobs[0]!.feeds : [concat(jobs.map((j) => j.feeds[0]!), rows)];
      const started = performance.now();
      const outputs = await this.send(slot, feeds, jobs.length > 1 || jobs[0]!.transfer);
      if (jobs.length === 1 && this.opts.inlineBelowUs) this.observe((performance.now() - started) * 1000);
      let offset = 0;
      for (const job of jobs) {
        const part: Outputs = {};
        for (const [name, o] of Object.entries(outputs)) {
          const perRow = o.dims.slice(1).reduce((a, b) => a * b, 1);
          part[name] = jobs.length === 1 ? o : { data: o.data.slice(offset * perRow, (offset + job.rows) * perRow) as TypedArray, dims: [job.rows, ...o.dims.slice(1)] };
        }
        offset += job.rows;
        settle(job, () => job.resolve(part));
      }
    } catch (err) {
      const e = err instanceof ServerError ? err : fail('inferenceFailed', { reason: (err as Error).message.split('\n')[0] });
      for (const job of jobs) settle(job, () => job.reject(e));
    } finally {
      slot.busy = false;
      this.inFlight -= 1;
      if (this.inFlight === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      this.dispatch();
    }
  }

  private send(slot: Slot, feeds: Tensor[], transfer: boolean): Promise<Outputs> {
    if (!this.slots.includes(slot)) return Promise.reject(fail('workerLost', {}, undefined, { 'retry-after': '1' }));
    const id = this.nextId++;
    const wire: Record<string, WireTensor> = {};
    for (const t of feeds) wire[t.name] = { type: ORT_TYPE[t.datatype], data: t.data, dims: t.shape };
    return new Promise((resolve, reject) => {
      slot.pending.set(id, (m) => {
        if (m.kind === 'result') {
          const out: Outputs = {};
          for (const [name, t] of Object.entries(m.outputs)) out[name] = { data: t.data as TypedArray, dims: t.dims };
          resolve(out);
        } else if (m.kind === 'error') {
          reject(new Error(m.error));
        } else if (m.kind === 'lost') {
          reject(fail('workerLostWhileRunning', { error: m.error }, undefined, { 'retry-after': '1' }));
        }
      });
      const buffers = transfer ? [...new Set(feeds.map((t) => t.data.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer) : [];
      slot.worker.postMessage({ kind: 'run', id, feeds: wire } satisfies ToWorker, buffers);
    });
  }

  /**
   * Stop taking requests; resolves once every accepted request has been answered, or after
   * `deadlineMs` (what is still waiting then is answered 503), so a stuck request never holds the exit.
   */
  async drain(deadlineMs = Infinity): Promise<void> {
    this.closed = true;
    if (this.inFlight === 0 && this.queue.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<void>((r) => this.idleWaiters.push(r));
    const late = Number.isFinite(deadlineMs) ? new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deadlineMs))) : new Promise<never>(() => {});
    const outcome = await Promise.race([idle, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      const e = fail('shuttingDown');
      for (const job of this.queue.splice(0)) settle(job, () => job.reject(e));
      this.queuedRows = 0;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.delayTimer) clearTimeout(this.delayTimer);
    if (typeof this.inline === 'object') await this.inline.release();
    this.inline = 'never';
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

function spawnWorker(opts: WorkerInit): Promise<{ worker: Worker; ready: Extract<FromWorker, { kind: 'ready' }> }> {
  const init: WorkerInit = { modelPath: opts.modelPath, executionProvider: opts.executionProvider, intraOpThreads: opts.intraOpThreads, allowSpinning: opts.allowSpinning };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    worker.once('message', (m: FromWorker) => {
      if (m.kind === 'ready') resolve({ worker, ready: m });
      else reject(new Error(m.kind === 'failed' ? m.error : 'worker did not start'));
    });
    worker.once('error', reject);
  });
}

function settle(job: Job, fn: () => void): void {
  if (job.settled) return;
  job.settled = true;
  clearTimeout(job.timer);
  fn();
}

/** Concatenate tensors along the batch dimension. */
function concat(ts: Tensor[], rows: number): Tensor {
  const first = ts[0]!;
  const perRow = first.shape.slice(1).reduce((a, b) => a * b, 1);
  const Ctor = first.data.constructor as new (n: number) => TypedArray;
  const data = new Ctor(rows * perRow);
  let offset = 0;
  for (const t of ts) {
    (data as Float32Array).set(t.data as Float32Array, offset);
    offset += t.data.length;
  }
  return { name: first.name, datatype: first.datatype, shape: [rows, ...first.shape.slice(1)], data };
}
