// Phase 8, review: when the model's next clinical review falls due, so the pass looks again then (the
// ReviewOverdue condition itself is part of the status computed at each write).
import { reviewOutcome } from '../../governance/review.js';
import type { Observed, Outcome, PassState } from '../pass.js';

export function reviewPhase(obs: Observed, pass: PassState): Outcome {
  const review = reviewOutcome(pass.cr, obs.now);
  return {
    actions: [{ do: 'reviewMetrics', overdue: review.review?.overdue === true }],
    ...(review.nextDueMs !== undefined ? { requeueAfterMs: review.nextDueMs + 1000 } : {}),
  };
}
