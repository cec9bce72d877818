import { FeedbackStore } from '../../../../inference-server/monitoring/feedback.js';

const prediction = (id: string) => ({ id, time: 't', label: 'Sepsis', confidence: 0.8, probabilities: [0.2, 0.8] });

it('joins ground truth to a remembered prediction once, labels its probabilities, and forgets the oldest first', () => {
  const f = new FeedbackStore(2, ['No sepsis', 'Sepsis'], () => Date.parse('2026-11-22T00:00:00Z'));
  f.remember(prediction('a'));
  f.remember(prediction('b'));
  f.remember(prediction('c'));
  expect(f.join('a', 'Sepsis')).toBeUndefined(); // forgotten: the store holds 2
  expect(f.join('b', 'No sepsis')).toMatchObject({ id: 'b', label: 'Sepsis', groundTruth: 'No sepsis' });
  expect(f.join('b', 'Sepsis')).toMatchObject({ groundTruth: 'Sepsis' }); // a correction updates the record…
  const { samples } = f.labelled.after(0);
  expect(samples).toEqual([{ seq: 1, time: '2026-11-22T00:00:00.000Z', predicted: 'Sepsis', groundTruth: 'No sepsis', probabilities: { 'No sepsis': 0.2, Sepsis: 0.8 } }]);
  // …but the ring that performance checks read counts each prediction once.
  expect(f.labelled.lastSeq).toBe(1);
});
