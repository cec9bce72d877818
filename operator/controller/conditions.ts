// Conditions in the shape of metav1.Condition. lastTransitionTime moves only when status flips, so
// a pass that observes the same state produces an identical list and writes nothing.
import type { ConditionReason } from '../api/reasons.js';
import type { Condition, ConditionStatus } from '../api/types.js';

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: ConditionReason;
  message: string;
}

export function buildConditions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionInput[],
  generation: number | undefined,
  now: string,
): Condition[] {
  return next.map((c) => {
    const prev = previous?.find((p) => p.type === c.type);
    const lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : now;
    const out: Condition = { type: c.type, status: c.status, lastTransitionTime, reason: c.reason, message: c.message };
    if (generation !== undefined) out.observedGeneration = generation;
    return out;
  });
}
