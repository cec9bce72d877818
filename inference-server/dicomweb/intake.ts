// Studies from a PACS, end to end inside one server: each instance a STOW-RS request carries is read
// (header only), routed by the model's accept rules (others are acknowledged, ignored and counted),
// taken once (by SOP Instance UID: a re-sent instance is acknowledged and not inferred again), inferred
// as an asynchronous job (the job store's, behind synchronous predictions), written as an SR and stored
// at the destination by STOW-RS, retried with backoff until it is. Counts of each outcome and the
// latest failures' reasons are the operator's to read (GET /v1/monitoring/dicom) and Prometheus's.
// Nothing here logs or counts a patient attribute: instances are named by a digest of their UID.
// Held (a paused model, POST /v1/monitoring/hold): instances are still taken and acknowledged, but none
// is inferred and no SR leaves; they wait (bounded in bytes, as always) until the hold is released.
// Held in memory: a restart loses SRs not yet delivered; the PACS sending again makes them again, with
// the same UIDs (sr.ts), so the destination never holds two.
import { sha256Hex } from '../audit/audit-log.js';
import type { DicomCountsResponse } from '../../contract/monitoring.js';
import type { JobStore } from '../jobs/job-store.js';
import type { ServerMetrics } from '../metrics.js';
import type { Predictor } from '../predictor.js';
import { ServerError } from '../errors.js';
import { DeliveryError, type Destination, stow } from './destination.js';
import { type InstanceHeader, InstanceError, type PatientStudy, readInstance } from './instance.js';
import type { Part } from './multipart.js';
import { type AcceptRules, notAccepted } from './routing.js';
import { srUids, writeSr } from './sr.js';

export interface IntakeOptions {
  model: { name: string; version: string; sha256: string };
  accept: AcceptRules;
  destination: Destination | undefined;
  jobs: JobStore;
  predictor: () => Predictor;
  metrics: ServerMetrics;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** Instances remembered (for "taken once"); the oldest finished ones are forgotten past it. */
  ledgerSize?: number;
  /** Bytes of instances taken and not yet inferred, at most; more are refused (Out of Resources) for the PACS to send again. */
  maxQueuedBytes?: number;
  /** SRs waiting for the destination at most; more are failed (counted) rather than held. */
  outboxSize?: number;
  /** Backoff between deliveries of one SR: first, and at most. */
  retryMs?: { first: number; max: number };
  clock?: () => number;
}

export type Outcome = 'received' | 'ignored' | 'duplicate' | 'inferred' | 'delivered' | 'failed';

/** What the intake reports (GET /v1/monitoring/dicom). */
export type DicomCounts = DicomCountsResponse;

/** DICOM Failure Reasons (PS3.18 Table 10.5.3-2 / PS3.4 Annex GG). */
export const FAILURE = { processing: 0x0110, outOfResources: 0xa700, cannotUnderstand: 0xc000, sopClassNotSupported: 0x0122 } as const;

export interface StoreResult {
  stored: Array<{ sopClassUid: string; sopInstanceUid: string }>;
  failed: Array<{ sopClassUid?: string; sopInstanceUid?: string; reason: number }>;
}

type Entry = { state: 'queued' | 'inferred' | 'delivered' | 'failed' };

/** Instances in the job store at once (the rest wait in the intake). */
const JOBS_AT_ONCE = 4;
type Pending = { uid: string; sr: Buffer; attempts: number; nextAt: number };

export class DicomIntake {
  private readonly ledger = new Map<string, Entry>();
  private readonly outbox: Pending[] = [];
  /** The ledger entry of each SR in the outbox, by the SR's UID. */
  private readonly pending = new Map<string, Entry>();
  private readonly counts: Record<Outcome, number> = { received: 0, ignored: 0, duplicate: 0, inferred: 0, delivered: 0, failed: 0 };
  private readonly failures: Array<{ at: string; reason: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  private queuedBytes = 0;
  /** Instances taken and not yet handed to the job store, oldest first. */
  private readonly waiting: Array<{ keyId: string | null; header: InstanceHeader; patientStudy: PatientStudy; bytes: Buffer; entry: Entry }> = [];
  private inJobs = 0;
  private retryPump: NodeJS.Timeout | undefined;
  private sending = false;
  private stopped = false;
  private held = false;

  constructor(private readonly o: IntakeOptions) {
    o.metrics.dicomPending = () => this.outbox.length;
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** Hold (infer nothing, send nothing; take and keep what arrives) or release, which starts the waiting work. */
  hold(on: boolean): void {
    this.held = on;
    if (on) return;
    this.pump();
    this.kick(0);
  }

  /** Take the instances of one STOW-RS request (`study`: a study-level request's, whose instances alone it may hold). */
  store(parts: readonly Part[], keyId: string | null, study?: string): StoreResult {
    const result: StoreResult = { stored: [], failed: [] };
    for (const part of parts) {
      this.count('received');
      if (part.type !== 'application/dicom') {
        this.fail(`a part of type ${part.type.slice(0, 64)} (only application/dicom is taken)`);
        result.failed.push({ reason: FAILURE.cannotUnderstand });
        continue;
      }
      let read: ReturnType<typeof readInstance>;
      try {
        read = readInstance(part.bytes);
      } catch (err) {
        if (!(err instanceof InstanceError)) throw err;
        this.fail(`an instance cannot be read: ${err.reason}`);
        result.failed.push({ reason: FAILURE.cannotUnderstand });
        continue;
      }
      const { header, patientStudy } = read;
      const ids = { sopClassUid: header.sopClassUid, sopInstanceUid: header.sopInstanceUid };
      if (study !== undefined && header.studyUid !== study) {
        this.fail('an instance of another study was sent to a study\'s URL');
        result.failed.push({ ...ids, reason: FAILURE.processing });
        continue;
      }
      const why = notAccepted(this.o.accept, header);
      if (why) {
        this.count('ignored');
        this.o.log('info', `instance ignored: ${why}`, { instance: digest(header) });
        result.stored.push(ids);
        continue;
      }
      const known = this.ledger.get(header.sopInstanceUid);
      if (known && known.state !== 'failed') {
        this.count('duplicate');
        result.stored.push(ids);
        continue;
      }
      const entry: Entry = { state: 'queued' };
      if (this.queuedBytes + part.bytes.length > (this.o.maxQueuedBytes ?? 256 * 1024 ** 2)) {
        this.fail('no room for the instance: the instances waiting for inference hold their bytes\' limit');
        result.failed.push({ ...ids, reason: FAILURE.outOfResources });
        continue;
      }
      // The bytes are the request's; the instance keeps its own copy, until its job runs.
      const bytes = Buffer.from(part.bytes);
      this.queuedBytes += bytes.length;
      this.waiting.push({ keyId, header, patientStudy, bytes, entry });
      this.remember(header.sopInstanceUid, entry);
      result.stored.push(ids);
    }
    this.pump();
    return result;
  }

  /**
   * Hand waiting instances to the job store, JOBS_AT_ONCE at a time: a study of hundreds of instances
   * waits here (bounded in bytes) rather than filling the store or its per-key quota, so predictions and
   * jobs of other callers keep their room. A full store (other callers' jobs) is tried again in a second.
   */
  private pump(): void {
    while (!this.stopped && !this.held && this.inJobs < JOBS_AT_ONCE && this.waiting.length > 0) {
      const w = this.waiting[0]!;
      try {
        this.o.jobs.submit(w.keyId, async () => {
          this.queuedBytes -= w.bytes.length;
          try {
            return await this.infer(w.header, w.patientStudy, w.bytes, w.entry);
          } finally {
            this.inJobs--;
            this.pump();
          }
        }, { keep: false });
      } catch (err) {
        if (!(err instanceof ServerError)) throw err;
        clearTimeout(this.retryPump);
        this.retryPump = setTimeout(() => this.pump(), 1000);
        this.retryPump.unref();
        return;
      }
      this.waiting.shift();
      this.inJobs++;
    }
  }

  snapshot(): DicomCounts {
    let queued = 0;
    for (const e of this.ledger.values()) if (e.state === 'queued') queued++;
    return { ...this.counts, pending: this.outbox.length, queued, held: this.held, failures: [...this.failures] };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.retryPump);
  }

  private async infer(header: InstanceHeader, patientStudy: PatientStudy, bytes: Buffer, entry: Entry): Promise<unknown> {
    let sr: Buffer;
    let label: string;
    try {
      const result = await this.o.predictor().predictImages([bytes], { keyId: null }, undefined, () => 'instance');
      const p = result.predictions[0]!;
      label = p.label;
      sr = writeSr({ source: header, patientStudy, model: this.o.model, label: p.label, probability: p.probabilities[p.label] ?? p.confidence, at: new Date(this.now()) });
    } catch (err) {
      entry.state = 'failed';
      this.fail(`inference failed: ${err instanceof ServerError ? err.message : 'internal error'}`);
      throw err;
    }
    entry.state = 'inferred';
    this.count('inferred');
    if (!this.o.destination) return { label, delivered: false, note: 'no destination configured' };
    if (this.outbox.length >= (this.o.outboxSize ?? 1000)) {
      entry.state = 'failed';
      this.fail('the SR was not kept: the outbox is full (the destination has been down long)');
      return { label, delivered: false };
    }
    const uid = srUids(header, this.o.model.sha256).instance;
    this.outbox.push({ uid, sr, attempts: 0, nextAt: this.now() });
    this.ledger.set(header.sopInstanceUid, entry);
    this.pending.set(uid, entry);
    this.kick(0);
    return { label, sr: uid };
  }

  private kick(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.deliver(), ms);
    this.timer.unref();
  }

  /** Send what is due, one SR after another; come back when the next one is. */
  private async deliver(): Promise<void> {
    if (this.sending || this.stopped || this.held || !this.o.destination) return;
    this.sending = true;
    try {
      for (let i = 0; i < this.outbox.length;) {
        const item = this.outbox[i]!;
        if (item.nextAt > this.now()) {
          i++;
          continue;
        }
        try {
          await stow(this.o.destination, [item.sr]);
          this.outbox.splice(i, 1);
          const entry = this.pending.get(item.uid);
          if (entry) entry.state = 'delivered';
          this.pending.delete(item.uid);
          this.count('delivered');
        } catch (err) {
          const reason = err instanceof DeliveryError ? err.message : 'internal error';
          item.attempts++;
          const { first, max } = this.o.retryMs ?? { first: 1000, max: 60_000 };
          item.nextAt = this.now() + Math.min(max, first * 2 ** (item.attempts - 1));
          this.fail(`delivery attempt ${item.attempts} failed: ${reason}`, false);
          if (err instanceof DeliveryError && err.permanent) {
            this.outbox.splice(i, 1);
            const entry = this.pending.get(item.uid);
            if (entry) entry.state = 'failed';
            this.pending.delete(item.uid);
            this.count('failed');
            continue;
          }
          i++;
        }
      }
    } finally {
      this.sending = false;
    }
    if (this.outbox.length > 0 && !this.held) this.kick(Math.max(0, Math.min(...this.outbox.map((p) => p.nextAt)) - this.now()));
  }

  private remember(uid: string, entry: Entry): void {
    this.ledger.delete(uid);
    this.ledger.set(uid, entry);
    const limit = this.o.ledgerSize ?? 100_000;
    if (this.ledger.size <= limit) return;
    for (const [k, e] of this.ledger) {
      if (this.ledger.size <= limit) break;
      if (e.state === 'delivered' || e.state === 'failed') this.ledger.delete(k);
    }
  }

  private count(outcome: Outcome): void {
    this.counts[outcome]++;
    this.o.metrics.dicomInstances.inc({ outcome });
  }

  /** A failure's reason, kept (the latest 20) and logged; `counted`: the instance gets no SR. */
  private fail(reason: string, counted = true): void {
    if (counted) this.count('failed');
    this.failures.unshift({ at: new Date(this.now()).toISOString(), reason });
    this.failures.length = Math.min(this.failures.length, 20);
    this.o.log('warn', reason);
  }

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }
}

/** How an instance is named in a log line: a digest of its SOP Instance UID, never the UID or a patient attribute. */
function digest(h: InstanceHeader): string {
  return sha256Hex(h.sopInstanceUid).slice(0, 16);
}
