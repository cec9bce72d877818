// Review cadence (pure): a model is reviewed by a named person every `spec.governance.reviewEvery`
// (e.g. 90d), and a model at escalation level 1 by its `reviewDueBy`; whichever comes first is due. A
// review is written like an acknowledgement (`spec.governance.review: {reviewer, note}`, the reviewer
// checked against the authenticated user by the chart's admission policy) and applied once. Past the
// due time the model is overdue: status.review says since when and what for, the ReviewOverdue
// condition turns True (with a Warning Event), and clinops_review_overdue is 1.
import type { ClinicalModel, ReviewStatus } from '../api/types.js';
import { parseDuration } from '../util/duration.js';
import { rfc3339 } from '../util/time.js';

export interface ReviewOutcome {
  review?: ReviewStatus;
  /** A review in the spec applied now (for the Reviewed Event). */
  applied?: { reviewer: string; note?: string };
  /** When the review falls due, if it is not overdue yet (to look again then). */
  nextDueMs?: number;
}

export function reviewOutcome(cr: ClinicalModel, now: number): ReviewOutcome {
  const g = cr.spec.governance;
  const previous = cr.status?.review;
  const out: ReviewOutcome = {};
  let review: ReviewStatus | undefined = previous ? { ...previous } : undefined;
  const spec = g?.review;
  const key = spec ? JSON.stringify([spec.reviewer, spec.note ?? '']) : undefined;
  if (spec && key !== previous?.appliedReview) {
    review = { lastReviewedAt: rfc3339(now), reviewedBy: spec.reviewer, appliedReview: key };
    if (spec.note) review.note = spec.note;
    out.applied = { reviewer: spec.reviewer, ...(spec.note ? { note: spec.note } : {}) };
  }

  // What is due, and when: the periodic review from the last one (or from creation), and level 1's.
  const dues: Array<{ at: number; what: string }> = [];
  if (g?.reviewEvery) {
    const from = Date.parse(review?.lastReviewedAt ?? cr.metadata.creationTimestamp ?? rfc3339(now));
    dues.push({ at: from + parseDuration(g.reviewEvery), what: `the review every ${g.reviewEvery}` });
  }
  const e = cr.status?.escalation;
  if (e?.level === 1 && e.reviewDueBy) dues.push({ at: Date.parse(e.reviewDueBy), what: 'the engineering review of escalation level 1' });
  if (dues.length === 0) {
    if (review) {
      delete review.dueBy;
      delete review.overdue;
      delete review.dueFor;
      out.review = review;
    }
    return out;
  }
  const first = dues.reduce((a, b) => (b.at < a.at ? b : a));
  review = { ...(review ?? {}), dueBy: rfc3339(first.at), dueFor: first.what, overdue: now >= first.at };
  if (!review.overdue) out.nextDueMs = first.at - now;
  out.review = review;
  return out;
}
