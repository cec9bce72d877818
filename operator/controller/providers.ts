// Which execution provider each replica of a GPU model really uses. A server asked for CUDA falls
// back to CPU when the node has no usable GPU (a driver missing, a device plugin that handed out a
// GPU the runtime cannot open): the model still serves, much slower, and the team must know. The
// server says it in its readiness answer; this reads it once per ready pod, in the background (a
// reconcile pass never waits on a pod's HTTP), and queues the model again when an answer arrives.
import type { ReadyBody } from '../../contract/monitoring.js';
import { SERVER_PORT } from '../desired/deployment.js';
import { isReady, type ObservedPod } from '../serving/pods.js';
import { jsonWithin } from '../util/json-within.js';

export interface ProviderReport {
  pod: string;
  active: string;
  requested: string;
  note?: string;
}

interface Entry {
  report?: ProviderReport;
  /** When an unanswered probe may be tried again (ms). */
  retryAt?: number;
  inFlight?: boolean;
}

export class ProviderReports {
  /** Per model key, per pod uid (or explicit URL). */
  private readonly byKey = new Map<string, Map<string, Entry>>();

  constructor(
    private readonly enqueue: (key: string) => void,
    private readonly clock: () => number,
    private readonly fetchFn: typeof fetch = fetch,
    private readonly timeoutMs = 2000,
    private readonly retryMs = 30_000,
  ) {}

  /**
   * The reports of the model's ready pods that answered so far; starts a probe of every ready pod not
   * yet heard from (or an explicit endpoint instead, for an operator outside the cluster).
   */
  observe(key: string, pods: readonly ObservedPod[], explicit?: readonly string[], podFetch?: typeof fetch): ProviderReport[] {
    const targets = explicit
      ? (pods.some(isReady) ? explicit.map((url) => ({ id: url, pod: url, url })) : [])
      : pods.filter(isReady).flatMap((p) => {
        const ip = p.status?.podIP;
        if (!ip || !p.metadata?.uid) return [];
        return [{ id: p.metadata.uid, pod: p.metadata.name ?? p.metadata.uid, url: `${podFetch ? 'https' : 'http'}://${ip.includes(':') ? `[${ip}]` : ip}:${SERVER_PORT}` }];
      });
    const old = this.byKey.get(key) ?? new Map<string, Entry>();
    const entries = new Map<string, Entry>();
    for (const t of targets) {
      const e = old.get(t.id) ?? {};
      entries.set(t.id, e);
      if (!e.report && !e.inFlight && (e.retryAt ?? 0) <= this.clock()) void this.probe(key, t.pod, t.url, e, podFetch ?? this.fetchFn);
    }
    // Pods that went away are forgotten with their reports.
    if (entries.size > 0) this.byKey.set(key, entries);
    else this.byKey.delete(key);
    return [...entries.values()].flatMap((e) => (e.report ? [e.report] : []));
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }

  private async probe(key: string, pod: string, url: string, e: Entry, fetchFn: typeof fetch): Promise<void> {
    e.inFlight = true;
    try {
      const res = await fetchFn(`${url}/health/ready`, { signal: AbortSignal.timeout(this.timeoutMs) });
      const body = await jsonWithin<ReadyBody>(res, 64 * 1024);
      if (res.ok && body.executionProvider) {
        e.report = { pod, active: body.executionProvider, requested: body.requestedExecutionProvider ?? body.executionProvider,
          ...(body.executionProviderNote ? { note: body.executionProviderNote } : {}) };
        this.enqueue(key);
      } else {
        e.retryAt = this.clock() + this.retryMs;
      }
    } catch {
      e.retryAt = this.clock() + this.retryMs;
    } finally {
      e.inFlight = false;
    }
  }
}
