// What each escalation level does to a model (pure). The level lives in status.escalation.level; the
// action comes from spec.escalation.levelN, with the CRD's defaults: level 1 Alert, level 2 Pause,
// level 3 Shutdown; level 1 is reviewed within 48 h unless its policy says otherwise.
//   Alert      serve as before (an Event and a review due time are recorded)
//   ScaleDown  at most `replicas` replicas
//   Pause      zero replicas, phase Paused; spec.serving.replicas is untouched, so an acknowledgement
//              brings the model back at its declared size. A model that takes studies from a PACS keeps
//              one replica, held: it takes studies and sends no result until the acknowledgement
//   Shutdown   zero replicas, phase ShutDown, an incident record
import type { EscalationAction, EscalationSpec, LevelPolicy } from './types.js';

const DEFAULT_ACTION: Record<1 | 2 | 3, EscalationAction> = { 1: 'Alert', 2: 'Pause', 3: 'Shutdown' };

export function levelPolicy(spec: EscalationSpec | undefined, level: number): LevelPolicy | undefined {
  if (level !== 1 && level !== 2 && level !== 3) return undefined;
  const p = spec?.[`level${level}`];
  // Level 1 always has a review window: the protocol's engineering review within 48 h.
  const reviewWithin = p?.reviewWithin ?? (level === 1 ? '48h' : undefined);
  return { ...p, action: p?.action ?? DEFAULT_ACTION[level], ...(reviewWithin ? { reviewWithin } : {}) };
}

/**
 * Replicas the Deployment runs at an escalation level, given the declared count; `holds`: the model takes
 * studies from a PACS, so a pause keeps one replica to take them (held: see controller/phases/integration.ts).
 */
export function replicasAtLevel(declared: number, level: number, spec: EscalationSpec | undefined, holds = false): number {
  const p = levelPolicy(spec, level);
  switch (p?.action) {
    case undefined:
    case 'Alert':
      return declared;
    case 'ScaleDown':
      return Math.min(declared, p.replicas ?? declared);
    case 'Pause':
      return holds ? Math.min(declared, 1) : 0;
    case 'Shutdown':
      return 0;
  }
}

/** The phase an escalation level imposes, if any. */
export function phaseAtLevel(level: number, spec: EscalationSpec | undefined): 'Paused' | 'ShutDown' | undefined {
  const action = levelPolicy(spec, level)?.action;
  return action === 'Pause' ? 'Paused' : action === 'Shutdown' ? 'ShutDown' : undefined;
}
