import { FeedbackStore } from '../../../../inference-server/signals/feedback.js';

it('records every ground-truth report in the ring, and answers what it predicted for the predictions it remembers', () => {
  const f = new FeedbackStore(2, () => Date.parse('2026-11-22T00:00:00Z'));
  f.remember({ id: 'a', label: 'Sepsis' });
  f.remember({ id: 'b', label: 'Sepsis' });
  f.remember({ id: 'c', label: 'No sepsis' });
  // 'a' is forgotten (the store holds 2) and 'elsewhere' was never made here: both are still recorded,
  // for the operator to join with the prediction it collected from whichever replica made it.
  expect(f.report('a', 'Sepsis')).toBeUndefined();
  expect(f.report('elsewhere', 'No sepsis')).toBeUndefined();
  expect(f.report('c', 'Sepsis')).toEqual({ id: 'c', label: 'No sepsis' });
  // The ring holds the last 2 reports.
  expect(f.reports.after(0).samples).toEqual([
    { seq: 2, time: '2026-11-22T00:00:00.000Z', predictionId: 'elsewhere', groundTruth: 'No sepsis' },
    { seq: 3, time: '2026-11-22T00:00:00.000Z', predictionId: 'c', groundTruth: 'Sepsis' },
  ]);
  expect(f.reports.lastSeq).toBe(3);
});
