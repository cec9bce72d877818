// Validating request tensors against the model's signature (pure): shapes, value counts, datatypes,
// finiteness, and the binary extension's byte counts — with the field and a message that says why.
import { checkShape, jsonValues, specFromMetadata, tensorFromBinary, tensorFromJson, type TensorSpec } from '../../../../inference-server/model/signature.js';

const spec: TensorSpec = { name: 'input', datatype: 'FP32', shape: [-1, 3] };
const expectFail = (fn: () => unknown, code: string, message: RegExp) => {
  try {
    fn();
  } catch (err) {
    expect(err).toMatchObject({ code, field: 'f', message: expect.stringMatching(message) });
    return;
  }
  throw new Error('expected a refusal');
};

it('reads a spec from onnxruntime metadata, symbolic dimensions as -1', () => {
  expect(specFromMetadata({ name: 'x', type: 'float32', shape: ['batch', 8] })).toEqual({ name: 'x', datatype: 'FP32', shape: [-1, 8] });
  expect(() => specFromMetadata({ name: 'x', type: 'string' })).toThrow('does not serve');
});

it('checks a shape against the spec, any size ≥ 1 for a dynamic dimension', () => {
  expect(checkShape(spec, [5, 3], 'f')).toEqual([5, 3]);
  expectFail(() => checkShape(spec, [5, 4], 'f'), 'INVALID_SHAPE', /^input "input" dimension 1 must be 3 \[\?, 3\], got 4$/);
  expectFail(() => checkShape(spec, [3], 'f'), 'INVALID_SHAPE', /needs 2 dimensions \[\?, 3\], got 1 \[3\]/);
  expectFail(() => checkShape(spec, [0, 3], 'f'), 'INVALID_SHAPE', /positive whole numbers, got \[0,3\]/);
});

it('builds tensors from flat or nested JSON, refusing wrong counts, types and non-finite values', () => {
  expect(jsonValues(tensorFromJson(spec, [2, 3], [[1, 2, 3], [4, 5, 6]], 'f').data)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(tensorFromJson(spec, [1, 3], [1, 2, 3], 'f').data).toBeInstanceOf(Float32Array);
  expectFail(() => tensorFromJson(spec, [2, 3], [1, 2, 3], 'f'), 'INVALID_DATA', /needs 6 values, got 3/);
  expectFail(() => tensorFromJson(spec, [1, 3], [1, '2', 3], 'f'), 'INVALID_DATA', /value 1 of "input" must be a number, got "2"/);
  expectFail(() => tensorFromJson(spec, [1, 3], [1, 2, 1e39], 'f'), 'NON_FINITE', /value 2 of "input" overflows FP32/);
  // The flat fast path gives way to the general one on anything else, with the same answers.
  expect(jsonValues(tensorFromJson(spec, [1, 3], [1, [2], 3], 'f').data)).toEqual([1, 2, 3]);
  expectFail(() => tensorFromJson(spec, [1, 3], [1, 2, null], 'f'), 'INVALID_DATA', /value 2 of "input" must be a number/);
  const doubles: TensorSpec = { name: 'd', datatype: 'FP64', shape: [1, 2] };
  expect(jsonValues(tensorFromJson(doubles, [1, 2], [1e300, -0.5], 'f').data)).toEqual([1e300, -0.5]);
  const ints: TensorSpec = { name: 'ids', datatype: 'INT8', shape: [1, 2] };
  expectFail(() => tensorFromJson(ints, [1, 2], [1, 300], 'f'), 'INVALID_DATA', /from -128 to 127/);
  const bools: TensorSpec = { name: 'mask', datatype: 'BOOL', shape: [1, 2] };
  expect(jsonValues(tensorFromJson(bools, [1, 2], [true, false], 'f').data)).toEqual([1, 0]);
  const big: TensorSpec = { name: 'n', datatype: 'INT64', shape: [1, 1] };
  expect(tensorFromJson(big, [1, 1], [2 ** 40], 'f').data).toEqual(new BigInt64Array([2n ** 40n]));
});

it('reads binary tensors by byte count, in place when the bytes are the request\'s own and aligned, else copied', () => {
  const values = new Float32Array([1, 2, 3]);
  const owned = new Uint8Array(values.buffer);
  const inPlace = tensorFromBinary(spec, [1, 3], owned, 'f', true);
  expect(inPlace.data.buffer).toBe(values.buffer);
  const copied = tensorFromBinary(spec, [1, 3], owned, 'f', false);
  expect(copied.data.buffer).not.toBe(values.buffer);
  expect(jsonValues(copied.data)).toEqual([1, 2, 3]);
  const odd = new Uint8Array(13);
  odd.set(owned, 1);
  expect(jsonValues(tensorFromBinary(spec, [1, 3], odd.subarray(1), 'f', true).data)).toEqual([1, 2, 3]);
  expectFail(() => tensorFromBinary(spec, [2, 3], owned, 'f'), 'INVALID_DATA', /needs 24 bytes of FP32, got 12/);
  expectFail(() => tensorFromBinary(spec, [1, 3], new Uint8Array(new Float32Array([1, NaN, 3]).buffer), 'f'), 'NON_FINITE', /value 1 of "input" is not finite/);
});
