// Review cadence: what is due when, what a recorded review changes, and level 1's review.
import { reviewOutcome } from '../../../../operator/governance/review.js';
import { clinicalModel } from '../fixtures.js';

const created = '2026-08-01T00:00:00Z';
const day = 86_400_000;
const at = (iso: string) => Date.parse(iso);

it('is due reviewEvery after creation, and overdue after that, until a named reviewer records a review', () => {
  const cr = clinicalModel({ governance: { reviewEvery: '90d' } }, { creationTimestamp: created });
  const before = reviewOutcome(cr, at(created) + 10 * day);
  expect(before.review).toEqual({ dueBy: '2026-10-30T00:00:00Z', dueFor: 'the review every 90d', overdue: false });
  expect(before.nextDueMs).toBe(80 * day);
  const late = reviewOutcome(cr, at('2026-11-22T00:00:00Z'));
  expect(late.review).toMatchObject({ overdue: true, dueBy: '2026-10-30T00:00:00Z' });
  expect(late.nextDueMs).toBeUndefined();

  // dr-lee records a review: applied once, and the next is due 90 days on.
  const reviewed = clinicalModel({ governance: { reviewEvery: '90d', review: { reviewer: 'dr-lee', note: 'calibration checked' } } }, { creationTimestamp: created });
  reviewed.status = { review: late.review };
  const now = at('2026-11-22T10:00:00Z');
  const r = reviewOutcome(reviewed, now);
  expect(r.applied).toEqual({ reviewer: 'dr-lee', note: 'calibration checked' });
  expect(r.review).toMatchObject({ lastReviewedAt: '2026-11-22T10:00:00Z', reviewedBy: 'dr-lee', note: 'calibration checked', dueBy: '2027-02-20T10:00:00Z', overdue: false });
  // The same review on a later pass is not applied again.
  reviewed.status = { review: r.review };
  expect(reviewOutcome(reviewed, now + day).applied).toBeUndefined();
  expect(reviewOutcome(reviewed, now + day).review?.lastReviewedAt).toBe('2026-11-22T10:00:00Z');
});

it('takes escalation level 1\'s review when it is due sooner', () => {
  const cr = clinicalModel({ governance: { reviewEvery: '90d' } }, { creationTimestamp: created });
  cr.status = { escalation: { level: 1, reviewDueBy: '2026-08-03T00:00:00Z' } };
  expect(reviewOutcome(cr, at('2026-08-04T00:00:00Z')).review).toMatchObject({
    dueBy: '2026-08-03T00:00:00Z', dueFor: 'the engineering review of escalation level 1', overdue: true });
  // Without a cadence, level 1 alone.
  const plain = clinicalModel({}, { creationTimestamp: created });
  plain.status = { escalation: { level: 1, reviewDueBy: '2026-08-03T00:00:00Z' } };
  expect(reviewOutcome(plain, at('2026-08-02T00:00:00Z')).review).toMatchObject({ overdue: false });
  expect(reviewOutcome(clinicalModel({}, { creationTimestamp: created }), at('2026-08-02T00:00:00Z')).review).toBeUndefined();
});
