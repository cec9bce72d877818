// The decode threads: a fixed pool of worker threads that turn one request's images and studies into
// model rows (decode-worker.ts), so the HTTP thread only parses and routes. Each request is decoded
// within the request's deadline (--timeout): one still waiting then is dropped, one still decoding
// has its thread stopped and replaced (the only way to stop synchronous decoding), and either is
// answered 504. Waiting requests are taken fairly: one from each API key in turn, and a key may have
// at most --decode-per-key requests waiting or decoding (more is 429), so one client's flood of
// studies delays its own requests, not everyone's.
import { Worker } from 'node:worker_threads';
import { fail, ServerError } from '../errors.js';
import type { DecodedImages } from './decode-images.js';
import type { DecodeThreadInit, FromDecoder, ToDecoder } from './decode-worker.js';

export interface DecodePoolOptions extends DecodeThreadInit {
  threads: number;
  /** Requests one key may have waiting or decoding. */
  perKey: number;
  deadlineMs: number;
  /** JS heap a decode thread may use before it is stopped (its pixel buffers are bounded by the budget). */
  heapMb?: number;
  onEvent?: (msg: string, fields: Record<string, unknown>) => void;
}

interface Task {
  id: number;
  key: string;
  images: Uint8Array[];
  fields: string[];
  resolve: (d: DecodedImages) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  slot?: Slot;
}

interface Slot {
  worker: Worker;
  task?: Task;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  /** Waiting tasks by key; the map's order is the turn order (a key served goes to the back). */
  private readonly waiting = new Map<string, Task[]>();
  private readonly held = new Map<string, number>();
  private nextId = 1;
  private closed = false;

  private constructor(private readonly opts: DecodePoolOptions) {}

  static async start(opts: DecodePoolOptions): Promise<DecodePool> {
    const pool = new DecodePool(opts);
    await Promise.all(Array.from({ length: opts.threads }, () => pool.spawn()));
    return pool;
  }

  /** Requests waiting for a decode thread. */
  get queueLength(): number {
    let n = 0;
    for (const q of this.waiting.values()) n += q.length;
    return n;
  }

  /** Requests being decoded now. */
  get decoding(): number {
    return this.slots.filter((s) => s.task).length;
  }

  decode(images: Uint8Array[], fields: string[], keyId: string | null): Promise<DecodedImages> {
    if (this.closed) return Promise.reject(fail('shuttingDown'));
    const key = keyId ?? '';
    const held = this.held.get(key) ?? 0;
    if (held >= this.opts.perKey) return Promise.reject(fail('decodeBusy', { held }, 'body', { 'retry-after': '1' }));
    this.held.set(key, held + 1);
    return new Promise<DecodedImages>((resolve, reject) => {
      const task: Task = {
        id: this.nextId++, key, images, fields, resolve, reject,
        timer: setTimeout(() => this.expire(task), this.opts.deadlineMs),
      };
      const q = this.waiting.get(key);
      if (q) q.push(task);
      else this.waiting.set(key, [task]);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.waiting.values()) for (const t of q) this.settle(t, fail('shuttingDown'));
    this.waiting.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Promise<void> {
    const worker = new Worker(new URL('./decode-worker.js', import.meta.url), {
      workerData: { preprocessing: this.opts.preprocessing, limits: this.opts.limits } satisfies DecodeThreadInit,
      resourceLimits: { maxOldGenerationSizeMb: this.opts.heapMb ?? 256 },
    });
    const slot: Slot = { worker };
    worker.on('message', (m: FromDecoder) => {
      const task = slot.task;
      if (!task || task.id !== m.id) return;
      slot.task = undefined;
      if (m.kind === 'done') this.settle(task, undefined, m.decoded);
      else if (m.kind === 'refused') this.settle(task, new ServerError(m.error.code, m.error.message, m.error.field));
      else this.settle(task, fail('imageUndecodable', { format: 'file', reason: m.error.split('\n')[0] }, task.fields[0]));
      this.dispatch();
    });
    worker.on('error', () => {}); // 'exit' follows
    worker.once('exit', (code) => this.lost(slot, code));
    return new Promise((resolve, reject) => {
      worker.once('online', () => {
        this.slots.push(slot);
        this.dispatch();
        resolve();
      });
      worker.once('error', reject);
    });
  }

  /** A thread stopped (past a deadline, out of heap, or crashed): answer its task, put a new one in its place. */
  private lost(slot: Slot, code: number): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.task) this.settle(slot.task, fail('decodeThreadLost', { code }, slot.task.fields[0]));
    slot.task = undefined;
    if (this.closed) return;
    this.opts.onEvent?.('decode thread replaced', { code, threads: this.slots.length });
    this.spawn().catch((err: Error) => this.opts.onEvent?.('decode thread could not start', { error: err.message }));
  }

  private expire(task: Task): void {
    if (task.slot) {
      // Out of the pool at once: nothing more is given to a thread being stopped.
      const slot = task.slot;
      slot.task = undefined;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      void slot.worker.terminate();
    } else {
      const q = this.waiting.get(task.key);
      const i = q?.indexOf(task) ?? -1;
      if (q && i >= 0) q.splice(i, 1);
      if (q?.length === 0) this.waiting.delete(task.key);
    }
    this.settle(task, fail('decodeTimeout', { timeoutMs: this.opts.deadlineMs }, task.fields[0]));
  }

  private settle(task: Task, err?: Error, decoded?: DecodedImages): void {
    clearTimeout(task.timer);
    task.slot = undefined;
    const held = (this.held.get(task.key) ?? 1) - 1;
    if (held > 0) this.held.set(task.key, held);
    else this.held.delete(task.key);
    if (err) task.reject(err);
    else task.resolve(decoded!);
  }

  /** Give each idle thread the next waiting task, one key after another. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.task) continue;
      const next = this.waiting.entries().next();
      if (next.done) return;
      const [key, q] = next.value;
      const task = q.shift()!;
      this.waiting.delete(key);
      if (q.length > 0) this.waiting.set(key, q);
      slot.task = task;
      task.slot = slot;
      slot.worker.postMessage({ kind: 'decode', id: task.id, images: task.images, fields: task.fields } satisfies ToDecoder);
      task.images = [];
    }
  }
}
