import { mergePatch } from '../../../../operator/util/merge-patch.js';

it('sets what changed, nulls what went, patches nested objects field by field and replaces arrays whole', () => {
  const from = { phase: 'Pending', drift: { verdict: 'NoDrift', message: 'x', samples: 3 }, conditions: [{ type: 'Ready', status: 'False' }], endpoint: 'e' };
  const to = { phase: 'Serving', drift: { verdict: 'NoDrift', samples: 4 }, conditions: [{ type: 'Ready', status: 'True' }], replicas: 2 };
  expect(mergePatch(from, to)).toEqual({
    phase: 'Serving', drift: { message: null, samples: 4 }, conditions: [{ type: 'Ready', status: 'True' }], replicas: 2, endpoint: null,
  });
});

it('is empty when nothing changed, and the whole object when there was none', () => {
  expect(mergePatch({ a: { b: [1] } }, { a: { b: [1] } })).toEqual({});
  expect(mergePatch(undefined, { a: 1 })).toEqual({ a: 1 });
});
