// The escalation state machine (pure): from the previous state, one check's findings, a reported
// patient-safety event, the acknowledgement in the spec and the clock, the next state.
//
// Rules, from the clinical protocol:
// - A check finds a level: drift Moderate → 1, Significant → 2; a performance dip of 5–10 % → 1,
//   over 10 % → 2; the higher wins. InsufficientData finds nothing and breaks no run.
// - Levels rise automatically, but only after `consecutiveBreaches` checks in a row found a level
//   above the current one; the rise is to the lowest level that run found. Outside a cooldown after
//   an acknowledgement (so one noisy check cannot re-escalate a model a reviewer just resumed).
// - A reported patient-safety event raises level 3 at once, without waiting for a run.
// - Levels fall only through an acknowledgement that names a reviewer and the current level; it
//   brings the model back to level 0. Each acknowledgement is applied once: the same one left in the
//   spec does not lower a later escalation (write a new one, e.g. with a new note).
// - Leaving level 3 also needs a new model version: the acknowledgement is refused while the spec's
//   sha256 is the one that was served when level 3 was entered.
// - Every transition is appended to a bounded history with its time, reason and numbers.

import { rfc3339 } from '../util/time.js';
import type { CheckFindings } from '../drift/judge.js';

export type Level = 0 | 1 | 2 | 3;

export interface Acknowledgement {
  reviewer: string;
  level: number;
  note?: string;
}

export interface Transition {
  time: string;
  from: Level;
  to: Level;
  reason: string;
  reviewer?: string;
  psi?: number;
  ksPValue?: number;
  dip?: number;
  /** The dip was estimated (CBPE, before labels), not realized. */
  estimated?: boolean;
}

export interface EscalationState {
  level: Level;
  since?: string;
  reason?: string;
  reviewDueBy?: string;
  acknowledgedBy?: string;
  /** The last acknowledgement applied, as JSON, so it is never applied twice. */
  appliedAcknowledgement?: string;
  /** Level and length of the current run of checks that found a level above `level`. */
  pending?: { level: Level; checks: number };
  /** sha256 served when level 3 was entered. */
  shutdownSha256?: string;
  /** Safety events already acted on (bounded). */
  safetyEvents?: string[];
  cooldownUntil?: string;
  history: Transition[];
}

export interface SafetyEvent {
  id: string;
  description: string;
}

export interface EscalationPolicy {
  consecutiveBreaches: number;
  /** Review window per level (ms), from the level's reviewWithin. */
  reviewWithinMs: Partial<Record<1 | 2 | 3, number>>;
  cooldownMs: number;
  historyLimit: number;
}

export interface EscalationInputs {
  /** Findings of a check that ran now, if one did. */
  check?: CheckFindings;
  safetyEvents: readonly SafetyEvent[];
  acknowledgement?: Acknowledgement;
  sha256: string;
  now: number;
  policy: EscalationPolicy;
}

export interface EscalationResult {
  state: EscalationState;
  /** The transition made now, if any. */
  transition?: Transition;
  /** Why an acknowledgement in the spec was not applied, if one was refused. */
  refusedAcknowledgement?: string;
}

export const INITIAL_STATE: EscalationState = { level: 0, history: [] };


function enter(prev: EscalationState, to: Level, reason: string, inputs: EscalationInputs, extra: Partial<Transition> = {}): EscalationResult {
  const time = rfc3339(inputs.now);
  const t: Transition = { time, from: prev.level, to, reason, ...extra };
  const review = to > 0 ? inputs.policy.reviewWithinMs[to as 1 | 2 | 3] : undefined;
  const state: EscalationState = {
    ...prev,
    level: to,
    since: time,
    reason,
    reviewDueBy: review !== undefined ? rfc3339(inputs.now + review) : undefined,
    pending: undefined,
    history: [...prev.history, t].slice(-inputs.policy.historyLimit),
  };
  if (to === 3) state.shutdownSha256 = inputs.sha256;
  if (to === 0) state.shutdownSha256 = undefined;
  return { state, transition: t };
}

export function nextEscalation(prev: EscalationState, inputs: EscalationInputs): EscalationResult {
  const { policy } = inputs;

  // 1. A new patient-safety event: level 3 at once.
  const seen = new Set(prev.safetyEvents ?? []);
  const fresh = inputs.safetyEvents.filter((e) => !seen.has(e.id));
  if (fresh.length > 0) {
    const recorded = [...(prev.safetyEvents ?? []), ...fresh.map((e) => e.id)].slice(-policy.historyLimit);
    const withEvents = { ...prev, safetyEvents: recorded };
    if (prev.level === 3) return { state: withEvents };
    return enter(withEvents, 3, `patient-safety event ${fresh[0]!.id}: ${fresh[0]!.description}`, inputs);
  }

  // 2. An acknowledgement not applied before.
  const ack = inputs.acknowledgement;
  const ackKey = ack ? JSON.stringify([ack.reviewer, ack.level, ack.note ?? '']) : undefined;
  let refusedAcknowledgement: string | undefined;
  if (ack && ackKey !== prev.appliedAcknowledgement && prev.level > 0) {
    if (ack.level !== prev.level) {
      refusedAcknowledgement = `the acknowledgement is for level ${ack.level}, the model is at level ${prev.level}`;
    } else if (prev.level === 3 && inputs.sha256 === prev.shutdownSha256) {
      refusedAcknowledgement = 'leaving level 3 needs a new model version: the one that would serve (spec.model, or the version accepted last while a newer one has not passed acceptance) is the one that was shut down';
    }
  }
  if (ack && ackKey !== prev.appliedAcknowledgement && prev.level > 0 && !refusedAcknowledgement) {
    const r = enter(prev, 0, `acknowledged by ${ack.reviewer}${ack.note ? `: ${ack.note}` : ''}`, inputs, { reviewer: ack.reviewer });
    r.state.acknowledgedBy = ack.reviewer;
    r.state.appliedAcknowledgement = ackKey;
    r.state.cooldownUntil = rfc3339(inputs.now + policy.cooldownMs);
    return r;
  }

  // 3. A check: count a run of breaches above the current level.
  const r = afterCheck(prev, inputs);
  return refusedAcknowledgement ? { ...r, refusedAcknowledgement } : r;
}

function afterCheck(prev: EscalationState, inputs: EscalationInputs): EscalationResult {
  const check = inputs.check;
  if (!check) return { state: prev };
  const found = Math.max(check.driftLevel ?? -1, check.dipLevel ?? -1);
  if (found < 0) return { state: prev }; // nothing could be judged
  if (found <= prev.level) return { state: { ...prev, pending: undefined } };
  const run = prev.pending && prev.pending.checks > 0
    ? { level: Math.min(prev.pending.level, found) as Level, checks: prev.pending.checks + 1 }
    : { level: found as Level, checks: 1 };
  const cooling = prev.cooldownUntil !== undefined && inputs.now < Date.parse(prev.cooldownUntil);
  if (run.checks < inputs.policy.consecutiveBreaches || cooling) return { state: { ...prev, pending: run } };
  return enter(prev, run.level, `${check.summary} (${run.checks} consecutive check${run.checks === 1 ? '' : 's'})`, inputs, {
    psi: check.psi, ksPValue: check.ksPValue, dip: check.dip, ...(check.estimated && check.dipLevel === run.level ? { estimated: true } : {}),
  });
}
