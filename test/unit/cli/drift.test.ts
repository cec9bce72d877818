import { exitCodeOf, parseSample } from '../../../cli/drift.js';
import { featureReference } from '../../../contract/feature-reference.js';

describe('parseSample', () => {
  it('reads a JSON array or one number per line, skipping blanks and comments', () => {
    expect(parseSample('[0.9, 0.85, 1]', 'a.json')).toEqual([0.9, 0.85, 1]);
    expect(parseSample('# confidences\n0.9\n\n0.85  # second\n1e-3\n', 'a.txt')).toEqual([0.9, 0.85, 0.001]);
  });

  it('names the file and line of a bad value', () => {
    expect(() => parseSample('0.9\n0.8\nabc\n', 'current.txt')).toThrow('current.txt:3: "abc" is not a finite number');
    expect(() => parseSample('[0.9, "x"]', 'ref.json')).toThrow('ref.json: element 1 is "x", not a finite number');
    expect(() => parseSample('[0.9,', 'ref.json')).toThrow('ref.json: not valid JSON');
    expect(() => parseSample('\n# nothing\n', 'empty.txt')).toThrow('empty.txt: no numbers found');
  });
});

describe('exitCodeOf', () => {
  it('is 0 for no drift, 1 for drift, 3 when there were too few samples to tell', () => {
    expect(['NoDrift', 'Moderate', 'Significant', 'InsufficientData'].map((v) => exitCodeOf(v as never))).toEqual([0, 1, 1, 3]);
  });
});

describe('featureReference', () => {
  it('cuts each feature into equal-mass bins at numpy\'s linear quantiles and counts the holdout in them', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [i / 1000, (i % 10) / 10]);
    const ref = featureReference(rows, ['lactate', 'grade'], 10);
    expect(ref.features.map((f) => f.name)).toEqual(['lactate', 'grade']);
    const [lactate, grade] = ref.features;
    expect(lactate!.edges).toHaveLength(9);
    expect(lactate!.edges[0]).toBeCloseTo(0.0999, 10); // numpy.quantile(np.arange(1000)/1000, 0.1)
    expect(lactate!.counts).toEqual(new Array(10).fill(100));
    // Ten distinct values: the quantiles repeat, and the repeated edges are merged.
    expect(new Set(grade!.edges).size).toBe(grade!.edges.length);
    expect(grade!.counts.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('refuses an empty holdout', () => {
    expect(() => featureReference([], ['a'])).toThrow('the holdout is empty');
  });
});
