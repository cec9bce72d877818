// The model's input/output signature, read from the ONNX session, and the validation of request
// tensors derived from it: input names, datatypes, shapes (a dynamic dimension accepts any size ≥ 1),
// element counts and finiteness. Datatype names are the Open Inference Protocol's.
import { fail } from '../errors.js';

export type Datatype = 'FP32' | 'FP64' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'UINT8' | 'UINT16' | 'BOOL';

export const ORT_TYPE: Record<Datatype, string> = {
  FP32: 'float32', FP64: 'float64', INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64', UINT8: 'uint8', UINT16: 'uint16', BOOL: 'bool',
};
const FROM_ORT: Record<string, Datatype> = Object.fromEntries(Object.entries(ORT_TYPE).map(([k, v]) => [v, k as Datatype]));

export type TypedArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** -1 marks a dynamic dimension. */
  shape: number[];
}

export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TypedArray;
}

/** A tensor spec from onnxruntime's metadata ({name, type, shape} with symbolic dims as strings). */
export function specFromMetadata(m: { name: string; type?: string; shape?: ReadonlyArray<number | string> }): TensorSpec {
  const datatype = FROM_ORT[m.type ?? ''];
  if (!datatype) throw new Error(`tensor "${m.name}" has type ${m.type}, which this server does not serve`);
  return { name: m.name, datatype, shape: (m.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : -1)) };
}

/**
 * The output holding the class probabilities: the first FP32 output shaped [batch, classes] (classes
 * matching the labels, or dynamic). A plain network's first output; for a scikit-learn classifier
 * exported by skl2onnx with zipmap off, its second ("probabilities"), after the predicted label.
 * `classes` −1: any number of classes.
 */
export function probabilityOutput(outputs: readonly TensorSpec[], classes: number): TensorSpec | undefined {
  return outputs.find((o) => o.datatype === 'FP32' && o.shape.length === 2 && (o.shape[1] === -1 || classes === -1 || o.shape[1] === classes));
}

function allocate(datatype: Datatype, n: number): TypedArray {
  switch (datatype) {
    case 'FP32': return new Float32Array(n);
    case 'FP64': return new Float64Array(n);
    case 'INT8': return new Int8Array(n);
    case 'INT16': return new Int16Array(n);
    case 'INT32': return new Int32Array(n);
    case 'INT64': return new BigInt64Array(n);
    case 'UINT8':
    case 'BOOL': return new Uint8Array(n);
    case 'UINT16': return new Uint16Array(n);
  }
}

function view(datatype: Datatype, buffer: ArrayBuffer, offset: number, n: number): TypedArray {
  switch (datatype) {
    case 'FP32': return new Float32Array(buffer, offset, n);
    case 'FP64': return new Float64Array(buffer, offset, n);
    case 'INT8': return new Int8Array(buffer, offset, n);
    case 'INT16': return new Int16Array(buffer, offset, n);
    case 'INT32': return new Int32Array(buffer, offset, n);
    case 'INT64': return new BigInt64Array(buffer, offset, n);
    case 'UINT8':
    case 'BOOL': return new Uint8Array(buffer, offset, n);
    case 'UINT16': return new Uint16Array(buffer, offset, n);
  }
}

const INT_RANGE: Partial<Record<Datatype, [number, number]>> = {
  INT8: [-128, 127], INT16: [-32768, 32767], INT32: [-2147483648, 2147483647], UINT8: [0, 255], UINT16: [0, 65535],
};

/** Check a shape against a spec; returns the first dimension (the batch). */
export function checkShape(spec: TensorSpec, shape: unknown, field: string): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1 || d > 1e9)) {
    throw fail('shapeNotPositive', { got: JSON.stringify(shape)?.slice(0, 80) }, field);
  }
  const s = shape as number[];
  if (s.length !== spec.shape.length) {
    throw fail('rankMismatch', { name: spec.name, rank: spec.shape.length, expected: fmt(spec.shape), gotRank: s.length, got: fmt(s) }, field);
  }
  spec.shape.forEach((want, i) => {
    if (want !== -1 && s[i] !== want) {
      throw fail('dimensionMismatch', { name: spec.name, dimension: i, want, expected: fmt(spec.shape), got: s[i] }, field);
    }
  });
  return s;
}

function fmt(shape: number[]): string {
  return `[${shape.map((d) => (d === -1 ? '?' : d)).join(', ')}]`;
}

/** Flatten row-major nested arrays (OIP allows either flat or nested data). */
function flatten(data: unknown, out: unknown[], depth = 0): void {
  if (Array.isArray(data)) {
    if (depth > 32) throw fail('nestedTooDeeply', {}, 'data');
    for (const x of data) flatten(x, out, depth + 1);
  } else {
    out.push(data);
  }
}

/**
 * Build a typed tensor from JSON data for a spec: checks the element count against the shape, the
 * element type against the datatype, and rejects NaN and ±Infinity (JSON cannot carry them, but
 * strings such as "NaN" and out-of-range numbers are refused here too).
 */
export function tensorFromJson(spec: TensorSpec, shape: number[], data: unknown, field: string): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  // The common case, a flat array of floats, in one pass; anything else through the general path.
  if ((spec.datatype === 'FP32' || spec.datatype === 'FP64') && Array.isArray(data) && data.length === n) {
    const out = allocate(spec.datatype, n) as Float32Array | Float64Array;
    let i = 0;
    for (; i < n; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !(Math.abs(v) <= 3.4028234663852886e38) || (spec.datatype === 'FP64' && !Number.isFinite(v))) break;
      out[i] = v;
    }
    if (i === n) return { name: spec.name, datatype: spec.datatype, shape, data: out };
  }
  const values: unknown[] = [];
  flatten(data, values);
  if (values.length !== n) {
    throw fail('valueCountMismatch', { name: spec.name, shape: fmt(shape), n, got: values.length }, field);
  }
  const out = allocate(spec.datatype, n);
  const range = INT_RANGE[spec.datatype];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (spec.datatype === 'BOOL') {
      if (typeof v !== 'boolean') throw fail('notBoolean', { index: i, name: spec.name }, field);
      out[i] = v ? 1 : 0;
    } else if (typeof v !== 'number') {
      throw fail('notNumber', { index: i, name: spec.name, got: typeof v === 'string' ? JSON.stringify(v).slice(0, 20) : typeof v }, field);
    } else if (!Number.isFinite(v)) {
      throw fail('notFinite', { index: i, name: spec.name }, field);
    } else if (spec.datatype === 'INT64') {
      if (!Number.isSafeInteger(v)) throw fail('notWhole', { index: i, name: spec.name }, field);
      (out as BigInt64Array)[i] = BigInt(v);
    } else if (range) {
      if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
        throw fail('outOfRange', { index: i, name: spec.name, min: range[0], max: range[1] }, field);
      }
      out[i] = v;
    } else {
      if (spec.datatype === 'FP32' && Math.abs(v) > 3.4028234663852886e38) {
        throw fail('overflowsFp32', { index: i, name: spec.name }, field);
      }
      out[i] = v;
    }
  }
  return { name: spec.name, datatype: spec.datatype, shape, data: out };
}

/** JSON-ready values of a typed array (int64 as numbers; they are class scores and ids here). */
export function jsonValues(data: TypedArray): number[] {
  return data instanceof BigInt64Array ? Array.from(data, (v) => Number(v)) : Array.from(data as ArrayLike<number>);
}

const BYTES: Record<Datatype, number> = { FP32: 4, FP64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, UINT8: 1, UINT16: 2, BOOL: 1 };

/**
 * A tensor from raw little-endian bytes (the OIP binary tensor extension): the byte count must match
 * the shape, and floating-point values must be finite. Bytes the request owns (`owned`: a buffer of
 * its own, nothing else in it is read later) that are aligned for the datatype are viewed, not copied.
 */
export function tensorFromBinary(spec: TensorSpec, shape: number[], bytes: Uint8Array, field: string, owned = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const size = BYTES[spec.datatype];
  if (bytes.byteLength !== n * size) {
    throw fail('byteCountMismatch', { name: spec.name, shape: fmt(shape), bytes: n * size, datatype: spec.datatype, got: bytes.byteLength }, field);
  }
  let out: TypedArray;
  if (owned && bytes.byteOffset % size === 0) {
    out = view(spec.datatype, bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
  } else {
    out = allocate(spec.datatype, n);
    new Uint8Array(out.buffer).set(bytes);
  }
  if (out instanceof Float32Array || out instanceof Float64Array) {
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i])) throw fail('notFinite', { index: i, name: spec.name }, field);
    }
  }
  return { name: spec.name, datatype: spec.datatype, shape, data: out };
}
