import { binOf } from '../../../../contract/bins.js';
import { FeatureCounts, featureEdges } from '../../../../inference-server/signals/feature-counts.js';

const reference = { features: [{ name: 'lactate', edges: [1, 2, 4] }, { name: 'heart_rate', edges: [60, 100] }] };

it('bins right-closed, as PSI does: a value on an edge belongs to the bin below it', () => {
  expect([0.5, 1, 1.5, 2, 3, 4, 9].map((v) => binOf([1, 2, 4], v))).toEqual([0, 0, 1, 1, 2, 2, 3]);
});

it('counts each prediction after the cursor once, per feature and bin, and says when the ring overtook the reader', () => {
  const c = new FeatureCounts(reference, 3);
  const rows = [[0.5, 70], [3, 120], [5, 50], [1.5, 99]];
  rows.forEach((row, i) => c.add(i + 1, c.binsOf(row, 0)));
  // The ring holds the last 3 (seq 2–4); reading from 0 misses seq 1.
  expect(c.after(0)).toEqual({ counts: [[0, 1, 1, 1], [1, 1, 1]], dropped: true });
  expect(c.after(3)).toEqual({ counts: [[0, 1, 0, 0], [0, 1, 0]], dropped: false });
  expect(c.after(4).counts.flat().every((n) => n === 0)).toBe(true);
});

it('skips predictions that gave no feature row', () => {
  const c = new FeatureCounts(reference, 10);
  c.add(2, c.binsOf([3, 80], 0));
  expect(c.after(0).counts).toEqual([[0, 0, 1, 0], [0, 1, 0]]);
});

it.each([
  ['[]', 'needs {"features"'],
  ['{"features": [{"name": "a", "edges": [2, 1]}]}', 'increasing order'],
  ['{"features": [{"name": "a", "edges": [1]}, {"name": "a", "edges": [1]}]}', 'a name of its own'],
  ['{"features": [{"name": "a", "edges": [1, null]}]}', 'finite edges'],
  ['nope', 'not valid JSON'],
])('refuses the reference %s', (text, message) => {
  expect(() => featureEdges(text, 'ref.json')).toThrow(message);
});
