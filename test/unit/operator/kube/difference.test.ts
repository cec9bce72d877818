import { difference } from '../../../../operator/kube/difference.js';

const contains = (observed: unknown, desired: unknown) => difference(observed, desired) === undefined;

describe('contains(observed, desired)', () => {
  it('accepts extra fields the server or other managers added', () => {
    expect(contains({ a: 1, b: { c: 2, d: 3 }, status: {} }, { b: { c: 2 } })).toBe(true);
  });

  it('rejects a missing or different field', () => {
    expect(contains({ a: 1 }, { b: 1 })).toBe(false);
    expect(contains({ a: { b: 'x' } }, { a: { b: 'y' } })).toBe(false);
  });

  it('compares lists element by element and by length', () => {
    expect(contains({ l: [{ n: 'a', x: 1 }, { n: 'b' }] }, { l: [{ n: 'a' }, { n: 'b' }] })).toBe(true);
    expect(contains({ l: [{ n: 'a' }, { n: 'b' }] }, { l: [{ n: 'a' }] })).toBe(false);
    expect(contains({ l: [{ n: 'b' }, { n: 'a' }] }, { l: [{ n: 'a' }, { n: 'b' }] })).toBe(false);
  });

  it('compares resource quantities by value under requests and limits only', () => {
    expect(contains({ resources: { limits: { 'nvidia.com/gpu': '1' }, requests: { cpu: '1' } } },
      { resources: { limits: { 'nvidia.com/gpu': 1 }, requests: { cpu: '1000m' } } })).toBe(true);
    expect(contains({ replicas: '1' }, { replicas: 1 })).toBe(false);
  });

  it('treats an empty desired object as present when the server returns one', () => {
    expect(contains({ emptyDir: {} }, { emptyDir: {} })).toBe(true);
    expect(contains({}, { emptyDir: {} })).toBe(false);
  });
});

describe('difference(observed, desired)', () => {
  it('names the first field that differs, for the debug log', () => {
    expect(difference({ spec: { template: { spec: { containers: [{ name: 's', image: 'a' }] } } } },
      { spec: { template: { spec: { containers: [{ name: 's', image: 'b' }] } } } })).toBe('spec.template.spec.containers[0].image');
    expect(difference({ kind: 'Deployment' }, { apiVersion: 'apps/v1' })).toBe('apiVersion');
    expect(difference({ a: 1 }, { a: 1 })).toBeUndefined();
  });
});
