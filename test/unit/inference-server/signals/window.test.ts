import { PredictionWindow } from '../../../../inference-server/signals/window.js';

const sample = (i: number) => ({ time: `t${i}`, id: `p${i}`, confidence: i / 10, label: 'a', probabilities: [i / 10], inputMean: 0, inputStd: 1 });

it('returns each sample once by sequence number, oldest first, and says when the ring overtook the reader', () => {
  const w = new PredictionWindow(3);
  expect(w.after(0)).toEqual({ samples: [], dropped: false });
  for (let i = 1; i <= 2; i++) w.add(sample(i));
  expect(w.after(0).samples.map((s) => s.seq)).toEqual([1, 2]);
  expect(w.after(1).samples.map((s) => s.seq)).toEqual([2]);
  for (let i = 3; i <= 5; i++) w.add(sample(i));
  expect(w.lastSeq).toBe(5);
  expect(w.after(1)).toMatchObject({ dropped: true });
  expect(w.after(1).samples.map((s) => s.seq)).toEqual([3, 4, 5]);
  expect(w.after(2)).toMatchObject({ dropped: false });
  expect(w.after(0, 2).samples.map((s) => s.seq)).toEqual([3, 4]);
  expect(w.after(5).samples).toEqual([]);
});
