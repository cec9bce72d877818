// The feature and label references a reference ConfigMap holds: what `clinops reference` writes is
// accepted; anything else is refused with the key and what is wrong.
import { binsDigest } from '../../../../contract/bins.js';
import { featureReference } from '../../../../contract/feature-reference.js';
import { referenceForFeatures, parseLabelCounts } from '../../../../operator/drift/reference-files.js';

const where = 'reference ConfigMap icu/ref key features.json';
const rows = Array.from({ length: 500 }, (_, i) => [i % 97, (i * 7) % 101]);

it('reads what clinops reference writes, with the digest the server reports for the same edges', () => {
  const file = featureReference(rows, ['heart_rate', 'lactate'], 20);
  const r = referenceForFeatures(JSON.stringify(file), where, ['heart_rate', 'lactate']);
  expect(r.names).toEqual(['heart_rate', 'lactate']);
  expect(r.counts.map((c) => c.reduce((a, b) => a + b, 0))).toEqual([500, 500]);
  expect(r.bins).toBe(binsDigest(file.features));
  expect(r.bins).toMatch(/^[0-9a-f]{16}$/);
  // Other edges, another digest.
  expect(binsDigest([{ ...file.features[0]!, edges: file.features[0]!.edges.map((e) => e + 1) }, file.features[1]!])).not.toBe(r.bins);
});

it('refuses a reference whose features are not the ones the model declares, in order', () => {
  const text = JSON.stringify(featureReference(rows, ['heart_rate', 'lactate'], 20));
  expect(() => referenceForFeatures(text, where, ['lactate', 'heart_rate'])).toThrow(
    `${where}: the reference's features are [heart_rate, lactate], spec.monitoring.features is [lactate, heart_rate]; they must match, in input order`);
  expect(() => referenceForFeatures('{"features": 3}', where, ['a'])).toThrow(/needs \{"features"/);
  expect(() => referenceForFeatures('nope', where, ['a'])).toThrow(`${where}: not valid JSON`);
  expect(() => referenceForFeatures(JSON.stringify({ features: [{ name: 'a', edges: [1, 2], counts: [1, 2] }] }), where, ['a']))
    .toThrow(`${where}: features[0] ("a") needs one whole count per bin (edges + 1 of them), not all zero`);
  expect(() => referenceForFeatures(JSON.stringify({ features: [{ name: 'a', edges: [2, 1], counts: [1, 2, 3] }] }), where, ['a']))
    .toThrow(`${where}: features[0] ("a") needs 1 to 1000 finite edges in increasing order`);
});

it('reads label counts, and refuses anything but label to whole count', () => {
  expect(parseLabelCounts('{"Normal": 812, "Pneumonia": 188}', 'k')).toEqual({ Normal: 812, Pneumonia: 188 });
  for (const bad of ['[1, 2]', '{"Normal": -1}', '{"Normal": 0.5}', '{"Normal": 0}', 'null']) {
    expect(() => parseLabelCounts(bad, 'k')).toThrow('k: needs a JSON object of label to count');
  }
});
