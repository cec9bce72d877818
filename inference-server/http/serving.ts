// What several routes ask of the server's state: is it ready, which predictor serves, is this the model
// (and version) the path names. Kept apart from the routes so each concern's routes stay thin.
import { fail, ServerError } from '../errors.js';
import type { Predictor } from '../predictor.js';

export interface ServerState {
  /**
   * stopping: told to stop, no longer ready (so the Service stops sending), still serving what arrives
   * while that news spreads; draining: refusing new work (503), finishing what was accepted.
   */
  phase: 'loading' | 'ready' | 'failed' | 'stopping' | 'draining';
  reason?: string;
  /** Worker threads alive; readiness fails while none is (a lost worker is being replaced). */
  workersAlive?: () => number;
  /** The execution provider in use once ready, and the one asked for (CUDA falls back to CPU). */
  provider?: { active: string; requested: string; note?: string };
  /** Why a failed model failed, as a stable word (it prefixes the container's termination message). */
  failure?: 'DigestMismatch' | 'ModelRejected' | 'LoadFailed';
  predictor?: Predictor;
  /** Why predictions cannot be audited now, if they cannot: no prediction is made without its record. */
  auditFailure?: () => string | undefined;
  /**
   * Held by the operator (a paused model that takes studies from a PACS): ready, but every prediction is
   * refused (503 HELD) and the studies taken wait; released by the operator alone (POST /v1/monitoring/hold).
   */
  held?: { reason: string; since: string };
}

export class Serving {
  constructor(
    readonly state: ServerState,
    readonly modelName: string,
    readonly modelVersion: string,
  ) {}

  private noWorkers(): boolean {
    return this.state.phase === 'ready' && (this.state.workersAlive?.() ?? 1) === 0;
  }

  ready(): boolean {
    return this.state.phase === 'ready' && !this.noWorkers() && !this.state.auditFailure?.();
  }

  notReady(): ServerError {
    const s = this.state;
    const audit = s.auditFailure?.();
    if (audit) return fail('auditUnavailable', { reason: audit });
    return this.noWorkers() ? fail('noWorkerAlive') : fail('notReady', { reason: s.reason ?? s.phase });
  }

  /** The predictor, while predictions are made: loaded (below) and not held. */
  predictor(): Predictor {
    const p = this.loaded();
    const held = this.state.held;
    if (held) throw fail('held', { reason: held.reason }, undefined, { 'retry-after': '60' });
    return p;
  }

  /** The predictor, while requests are taken (ready, or stopping while the Service forgets us), held or not. */
  loaded(): Predictor {
    const s = this.state;
    if ((s.phase !== 'ready' && s.phase !== 'stopping') || !s.predictor) {
      throw s.phase === 'draining' ? fail('draining', {}, undefined, { 'retry-after': '5' }) : fail('modelNotReady', { reason: s.reason ?? s.phase }, undefined, { 'retry-after': '5' });
    }
    const audit = s.auditFailure?.();
    if (audit) throw fail('auditUnavailable', { reason: audit }, undefined, { 'retry-after': '5' });
    return s.predictor;
  }

  /** The path names this server's model (and version, when it names one). */
  checkModel(params: Record<string, string>): void {
    if (params.model !== this.modelName) {
      throw fail('modelNotFound', { model: String(params.model).slice(0, 64), served: this.modelName }, 'model');
    }
    if (params.version !== undefined && params.version !== this.modelVersion) {
      throw fail('versionNotFound', { model: this.modelName, version: params.version.slice(0, 64), served: this.modelVersion }, 'version');
    }
  }
}
