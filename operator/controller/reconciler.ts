// One reconcile pass of one ClinicalModel, by key: gather what the pass needs once (gather.ts), run the
// phases — pure functions of what was gathered and of the model as the phases before left it
// (phases/chain.ts) — and act on what each decides (act.ts): status is written only at the points a
// phase declares ("record before act") and once at the end if it changed, children are applied only
// where they differ. Level-triggered: the pass never looks at the event that queued the key.
import { GROUP, KIND } from '../api/types.js';
import type { ClinicalModelStatus } from '../api/types.js';
import { LABEL_INSTANCE } from '../desired/labels.js';
import { RecordConflictError } from '../desired/records.js';
import { Act } from './act.js';
import { type ReconcilerDeps, StaleCacheError, TerminalError } from './deps.js';
import { Gather } from './gather.js';
import { Memory } from './memory.js';
import type { Observed, PassState, Phase } from './pass.js';
import type { Logger } from '../../contract/log.js';
import { phases } from './phases/chain.js';

export { type Caches, type ReconcilerDeps, StaleCacheError, TerminalError } from './deps.js';

export interface Result {
  /** Run the key again after this many ms (controller-runtime's RequeueAfter). */
  requeueAfterMs?: number;
}

export class Reconciler {
  private readonly memory = new Memory();
  private readonly gather: Gather;
  private readonly act: Act;
  private readonly chain: Array<[string, Phase]>;

  constructor(private readonly deps: ReconcilerDeps) {
    this.gather = new Gather(deps, this.memory);
    this.act = new Act(deps, this.memory, this.gather);
    this.chain = phases(deps.settings);
  }

  async reconcile(key: string): Promise<Result> {
    const [namespace, name] = splitKey(key);
    const read = this.deps.caches.model(namespace, name);
    if (!read || read.metadata.deletionTimestamp) {
      // Gone or going: the garbage collector removes the children through their owner references.
      this.deps.gatherer.forget(key);
      this.deps.providers.forget(key);
      this.deps.driftMetrics.forget(namespace, name);
      this.memory.forget(key);
      return {};
    }
    const log = this.deps.log.child({ kind: KIND, namespace, name });
    const obs = await this.gather.observe(key, read, log).catch(async (err: unknown) => {
      if (err instanceof RecordConflictError) {
        // Someone else's Secret in the monitoring key's place: said in status and once as an Event, retried with backoff.
        const seen = { key, namespace, name, now: this.deps.clock(), random: 0, cr: read, monitoringKey: '', drift: {}, revocations: new Map() };
        if (await this.act.writeStatus(seen, read, err.message, read.status).catch(() => false)) void this.deps.recorder.record(read, 'Warning', 'RecordConflict', err.message);
      }
      throw err;
    });

    let pass: PassState = { cr: read, escalated: false, candidate: 'none' };
    // What the server holds: the status as read, then as each record point wrote it (at its new resourceVersion).
    let held: ClinicalModelStatus | undefined = read.status;
    let applied = false;
    let requeueAfterMs = Infinity;
    for (const [phase, decide] of this.chain) {
      const out = decide(obs, pass);
      pass = { ...pass, ...out.pass };
      if (out.requeueAfterMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs, out.requeueAfterMs);
      if (out.forget) this.act.forget(obs, out.forget);
      if (out.fail) {
        this.act.announce(obs, pass.cr, out.events ?? [], log);
        await this.fail(obs, pass, held, out.fail.terminal ? new TerminalError(out.fail.message) : new Error(out.fail.message), log);
      }
      try {
        await this.act.run(out.before ?? [], obs, pass.cr, log);
        if (out.record) {
          const w = await this.act.writeStatus(obs, pass.cr, undefined, held);
          if (w) {
            // What the server holds now, at its new resourceVersion: a later phase's change is written after.
            held = w.status;
            if (w.resourceVersion) pass = { ...pass, cr: { ...pass.cr, metadata: { ...pass.cr.metadata, resourceVersion: w.resourceVersion } } };
          }
        }
        applied = (await this.act.run(out.actions ?? [], obs, pass.cr, log)) || applied;
        this.act.announce(obs, pass.cr, out.events ?? [], log);
      } catch (err) {
        if (phase !== 'children' || err instanceof StaleCacheError) throw err;
        // A child that cannot be applied: status says why.
        await this.fail(obs, pass, held, err, log);
      }
      if (out.stop) return { requeueAfterMs };
    }
    // A child that just changed will report its new state through the watch, which queues this key
    // again; a status computed now would describe the old state and cost a second write. Otherwise what
    // the phases after the last record point changed (the PACS counts, say) is written now, not lost.
    if (!applied) await this.act.writeStatus(obs, pass.cr, undefined, held);
    return { requeueAfterMs };
  }

  /** Status says why the pass cannot go on (one Warning per distinct failure, not one per retry); then it fails. */
  private async fail(obs: Observed, pass: PassState, held: ClinicalModelStatus | undefined, err: unknown, log: Logger): Promise<never> {
    const message = err instanceof Error ? err.message : String(err);
    const changed = await this.act.writeStatus(obs, pass.cr, message, held).catch((e: unknown) => {
      // A stale copy means our last status write (which recorded a failure) is not cached yet.
      if (e instanceof StaleCacheError) return false;
      log.warn('status not written', { error: e });
      return true;
    });
    // A retry that fails the same way leaves the status as it was, so says nothing again.
    if (changed) void this.deps.recorder.record(pass.cr, 'Warning', 'ReconcileFailed', message);
    throw err;
  }
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
}

/** The key of the ClinicalModel that controls an object, from its owner references. */
export function ownerKey(obj: { metadata?: { namespace?: string; ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; controller?: boolean }> } }): string | undefined {
  const ref = obj.metadata?.ownerReferences?.find((o) => o.controller && o.kind === KIND && o.apiVersion.startsWith(`${GROUP}/`));
  return ref ? `${obj.metadata?.namespace ?? ''}/${ref.name}` : undefined;
}

/** The key of the ClinicalModel a pod serves, from its instance label. */
export function podKey(pod: { metadata?: { namespace?: string; labels?: Record<string, string> } }): string | undefined {
  const instance = pod.metadata?.labels?.[LABEL_INSTANCE];
  return instance ? `${pod.metadata?.namespace ?? ''}/${instance}` : undefined;
}
