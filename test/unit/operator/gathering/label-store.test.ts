import { LabelStore } from '../../../../operator/gathering/label-store.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const prediction = (id: string, time: number, confidence = 0.8) =>
  ({ id, time, confidence, predicted: confidence >= 0.5 ? 'Sepsis' : 'No sepsis', score: confidence });

describe('LabelStore', () => {
  it('joins a label with its prediction whichever comes first, and takes a later correction', () => {
    const s = new LabelStore('Sepsis');
    s.addPrediction(prediction('a', T0));
    s.addLabel('b', 'Sepsis', T0 + 5); // its prediction is collected later (another replica, read next)
    expect(s.waitingLabels).toBe(1);
    s.addPrediction(prediction('b', T0 + 1, 0.3));
    s.addPrediction(prediction('b', T0 + 1, 0.3)); // read again: still one
    expect(s.waitingLabels).toBe(0);
    s.addLabel('a', 'No sepsis', T0 + 10);
    s.addLabel('a', 'Sepsis', T0 + 20); // a correction
    s.addLabel('a', 'No sepsis', T0 + 15); // an older report read late does not undo it
    expect(s.labelled().map((p) => [p.id, p.truth, p.labelledAt])).toEqual([['b', 'Sepsis', T0 + 5], ['a', 'Sepsis', T0 + 20]]);
    expect(s.size).toBe(2);
    expect(s.fresh).toBe(2);
    s.judged(T0 + 20);
    expect(s.fresh).toBe(0);
  });

  it('keeps the sliding window of labelled predictions, forgets predictions past the age limit and counts labels that never met theirs', () => {
    const s = new LabelStore('Sepsis', { capacity: 10, window: 3, maxAgeMs: 2 * DAY, orphans: 2 });
    for (let i = 0; i < 5; i++) {
      s.addPrediction(prediction(`l${i}`, T0 + i));
      s.addLabel(`l${i}`, 'Sepsis', T0 + DAY + i);
    }
    s.addPrediction(prediction('old', T0));
    s.addPrediction(prediction('recent', T0 + 2 * DAY));
    s.addLabel('ghost', 'Sepsis', T0);
    s.prune(T0 + 2 * DAY + 1);
    expect(s.labelled().map((p) => p.id)).toEqual(['l2', 'l3', 'l4']);
    expect(s.awaiting).toBe(1); // 'old' waited more than two days
    expect(s.expired).toBe(1);
    expect(s.unmatched).toBe(1); // 'ghost'
    // Past the capacity the oldest unlabelled go first.
    for (let i = 0; i < 12; i++) s.addPrediction(prediction(`n${i}`, T0 + 2 * DAY + 10 + i));
    s.prune(T0 + 2 * DAY + 100);
    expect(s.size).toBe(10);
    expect(s.labelled()).toHaveLength(3);
    expect(s.expired).toBe(1 + 6); // 'recent' and n0…n4
  });

  it('names the least certain recent predictions without ground truth for relabelling, ids only', () => {
    const s = new LabelStore('Sepsis');
    [0.9, 0.51, 0.7, 0.55, 0.99].forEach((c, i) => s.addPrediction(prediction(`p${i}`, T0 + i, c)));
    s.addLabel('p1', 'Sepsis', T0 + 10);
    expect(s.relabelCandidates(2)).toEqual(['p3', 'p2']);
  });

  it('starts a new regime on restart: earlier labels no longer count', () => {
    const s = new LabelStore('Sepsis');
    s.addPrediction(prediction('a', T0));
    s.addLabel('a', 'Sepsis', T0 + 1);
    s.restart();
    expect(s.labelled()).toEqual([]);
    expect(s.fresh).toBe(0);
    s.addPrediction(prediction('b', T0 + 2));
    s.addLabel('b', 'Sepsis', T0 + 3);
    expect(s.labelled().map((p) => p.id)).toEqual(['b']);
  });

  it('survives encoding, and starts afresh from a store scored for another positive label or one it cannot read', () => {
    const s = new LabelStore('Sepsis');
    s.addPrediction(prediction('a', T0, 0.3));
    s.addPrediction(prediction('b', T0 + 1));
    s.addLabel('a', 'Sepsis', T0 + 2);
    s.addLabel('c', 'No sepsis', T0 + 3);
    s.judged(T0 + 2);
    s.unmatched = 4;
    const { store, problem } = LabelStore.decode(s.encode(), 'Sepsis');
    expect(problem).toBeUndefined();
    expect(store.labelled()).toEqual(s.labelled());
    expect([store.size, store.awaiting, store.waitingLabels, store.judgedThrough, store.unmatched]).toEqual([2, 1, 1, T0 + 2, 4]);
    expect(store.dirty).toBe(false);
    expect(LabelStore.decode(s.encode(), 'No sepsis')).toMatchObject({ problem: expect.stringContaining('positive label "Sepsis", not "No sepsis"') });
    expect(LabelStore.decode(Buffer.from('not gzip'), 'Sepsis').store.size).toBe(0);
    // 5,000 predictions with UUIDs fit a Secret (1 MiB) with room to spare.
    const big = new LabelStore('Sepsis');
    for (let i = 0; i < 5000; i++) big.addPrediction(prediction(crypto.randomUUID(), T0 + i * 1000, 0.5 + (i % 500) / 1000));
    expect(big.encode().length * 4 / 3).toBeLessThan(400_000);
  });
});
