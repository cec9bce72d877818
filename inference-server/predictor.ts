// The domain of the server: validate a request against the model's signature, run it, turn the
// probabilities into labelled predictions, and record what monitoring and audit need. Routes call
// this and serialize; they hold no logic of their own.
import { randomUUID } from 'node:crypto';
import { fail } from './errors.js';
import type { AuditLog, AuditRecord } from './audit/audit-log.js';
import { sha256Hex } from './audit/audit-log.js';
import type { ServerMetrics } from './metrics.js';
import type { ImagePreprocessing } from '../contract/image-preprocessing.js';
import { decodeBase64 } from './preprocess/image.js';
import { decodeImages, type DicomDigests } from './preprocess/decode-images.js';
import type { DecodePool } from './preprocess/decode-pool.js';
import { checkShape, jsonValues, probabilityOutput, type Signature, type Tensor, tensorFromBinary, tensorFromJson, type TensorSpec } from './model/signature.js';
import type { Outputs, Scheduler } from './model/scheduler.js';
import type { FeedbackStore } from './signals/feedback.js';
import type { FeatureCounts } from './signals/feature-counts.js';
import type { PredictionWindow } from './signals/window.js';
import type { ShadowMirror } from './shadow/mirror.js';
import type { RequestBody } from './http/body.js';

export interface Prediction {
  id: string;
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
  /** ?explain=occlusion: how much the predicted label's probability drops when each patch is masked. */
  explanation?: Occlusion;
}

/** Occlusion sensitivity over a grid×grid of patches, row by row from the image's top left. */
export interface Occlusion {
  method: 'occlusion';
  grid: number;
  label: string;
  probability: number;
  /** drops[row][column]: the label's probability minus its probability with that patch masked. */
  drops: number[][];
}

export interface Explain {
  method: 'occlusion';
  grid: number;
}

/** ?explain=occlusion[&grid=N] (N from 2 to 16, default 8); undefined when not asked. */
export function parseExplain(query: URLSearchParams): Explain | undefined {
  const method = query.get('explain');
  if (method === null) return undefined;
  if (method !== 'occlusion') throw fail('explainUnknown', { given: method.slice(0, 32) }, 'explain');
  const g = query.get('grid') ?? '8';
  if (!/^\d{1,2}$/.test(g) || Number(g) < 2 || Number(g) > 16) throw fail('explainGrid', {}, 'grid');
  return { method, grid: Number(g) };
}

export interface PredictResult {
  requestId: string;
  model: { name: string; version: string };
  timestamp: string;
  predictions: Prediction[];
}

export interface PredictorDeps {
  scheduler: Scheduler;
  modelName: string;
  modelVersion: string;
  labels: readonly string[];
  window: PredictionWindow;
  feedback: FeedbackStore;
  audit: AuditLog;
  metrics: ServerMetrics;
  preprocessing?: ImagePreprocessing;
  /** What one request's images and studies may decode to (--decode-budget). */
  decodeBudgetBytes?: number;
  /** The decode threads; without them (unit tests) images are decoded in this thread. */
  decoder?: Pick<DecodePool, 'decode'>;
  /** Per-feature bin counts, when a feature reference is configured (rows of the primary input). */
  features?: FeatureCounts;
  /** Copies of each prediction's input for a candidate version, while the operator runs a shadow. */
  mirror?: ShadowMirror;
  clock?: () => number;
}

export const MAX_INSTANCES = 1024;

/** Who asked: the API key's id (null where no key is needed) and the subgroup the request named, if any. */
export interface Caller {
  keyId: string | null;
  /** One of the declared subgroups (--subgroups), from the request's --subgroup-header. */
  subgroup?: string;
}

/** A caller, or a key id alone. */
export type Who = Caller | string | null;

const callerOf = (who: Who): Caller => (who !== null && typeof who === 'object' ? who : { keyId: who });
/** --decode-budget's default: 256 MiB. */
export const DEFAULT_DECODE_BUDGET = 256 * 1024 ** 2;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknown(body: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw fail('unknownField', { field: k, allowed: allowed.join(', ') }, where ? `${where}.${k}` : k);
  }
}

function meanStd(data: ArrayLike<number | bigint>, from: number, to: number): [number, number] {
  let s = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const v = Number(data[i]);
    s += v;
    s2 += v * v;
  }
  const n = Math.max(1, to - from);
  const mean = s / n;
  return [mean, Math.sqrt(Math.max(0, s2 / n - mean * mean))];
}

/** What monitoring and audit keep of one input row: its mean and spread, and its sha256 — never the values. */
interface RowSummary {
  inputMean: number;
  inputStd: number;
  inputSha256: string;
  /** Each feature's bin, when per-feature counts are kept. */
  bins?: Uint16Array;
  /** A DICOM row's digests for the audit record. */
  dicom?: DicomDigests;
}


/**
 * Each row's summary, taken before the tensor goes to a worker: its buffer is handed over (not copied)
 * and is no longer readable here afterwards.
 */
function summarize(input: Tensor, features?: FeatureCounts): RowSummary[] {
  const rows = input.shape[0]!;
  const perRow = input.data.length / rows;
  const out: RowSummary[] = [];
  for (let r = 0; r < rows; r++) {
    const [inputMean, inputStd] = meanStd(input.data as ArrayLike<number>, r * perRow, (r + 1) * perRow);
    const row = input.data.subarray(r * perRow, (r + 1) * perRow);
    const summary: RowSummary = { inputMean, inputStd, inputSha256: sha256Hex(new Uint8Array(row.buffer, row.byteOffset, row.byteLength)) };
    if (features?.image && input.shape.length === 4) summary.bins = features.binsOfImage(input.data as ArrayLike<number>, r * perRow, input.shape.slice(1));
    else if (features && !features.image && perRow === features.width) summary.bins = features.binsOf(input.data as ArrayLike<number | bigint>, r * perRow);
    out.push(summary);
  }
  return out;
}

export class Predictor {
  readonly signature: Signature;
  /** The name of the output holding the class probabilities (the server checked there is one). */
  private probabilities: string | undefined;
  private readonly clock: () => number;

  constructor(private readonly deps: PredictorDeps) {
    this.signature = deps.scheduler.signature;
    this.clock = deps.clock ?? Date.now;
  }

  get primaryInput(): TensorSpec {
    return this.signature.inputs[0]!;
  }

  /**
   * POST /v1/models/{m}/predict with {"instances": [...]}: each instance is one input without its
   * batch dimension, as a nested or flat array. Single-input models only.
   */
  async predictInstances(body: unknown, who: Who, explain?: Explain): Promise<PredictResult> {
    const caller = callerOf(who);
    if (!isPlainObject(body)) throw fail('predictBodyNotObject', {}, '');
    rejectUnknown(body, ['instances', 'images', 'id'], '');
    const requestId = typeof body.id === 'string' && body.id.length <= 128 ? body.id : randomUUID();
    if (body.images !== undefined) {
      if (body.instances !== undefined) throw fail('instancesAndImages', {}, 'images');
      if (!Array.isArray(body.images) || body.images.length === 0) throw fail('imagesEmpty', {}, 'images');
      if (body.images.length > MAX_INSTANCES) throw fail('tooManyImages', { max: MAX_INSTANCES }, 'images');
      const bytes = body.images.map((b: unknown, i: number) => decodeBase64(b, `images[${i}]`));
      return this.predictImages(bytes, caller, requestId, (i) => `images[${i}]`, explain);
    }
    const { instances } = body;
    if (explain) throw fail('explainNeedsImage', {}, 'explain');
    if (instances === undefined) throw fail('instancesMissing', {}, 'instances');
    if (!Array.isArray(instances) || instances.length === 0) throw fail('instancesEmpty', {}, 'instances');
    if (instances.length > MAX_INSTANCES) throw fail('tooManyInstances', { max: MAX_INSTANCES }, 'instances');
    if (this.signature.inputs.length !== 1) {
      throw fail('multiInputModel', { count: this.signature.inputs.length }, 'instances');
    }
    const spec = this.primaryInput;
    const perInstance = spec.shape.slice(1);
    if (perInstance.includes(-1)) {
      throw fail('dynamicInnerDimensions', { name: spec.name }, 'instances');
    }
    const rows: Tensor[] = instances.map((inst, i) => tensorFromJson(spec, [1, ...perInstance], inst, `instances[${i}]`));
    const n = rows.length;
    const perRow = rows[0]!.data.length;
    const Ctor = rows[0]!.data.constructor as new (n: number) => Tensor['data'];
    const data = new Ctor(n * perRow);
    rows.forEach((r, i) => (data as Float32Array).set(r.data as Float32Array, i * perRow));
    const tensor: Tensor = { name: spec.name, datatype: spec.datatype, shape: [n, ...perInstance], data };
    const started = this.clock();
    const inputs = summarize(tensor, this.deps.features);
    return (await this.run([tensor], inputs, requestId, started, caller)).result;
  }

  /** Whatever /predict (and a job) was sent: JSON instances, an uploaded image, or a form's files. */
  predictBody(body: RequestBody, who: Who, requestId: string, explain?: Explain): Promise<PredictResult> {
    if (body.kind === 'image') return this.predictImages([body.bytes], who, requestId, undefined, explain);
    if (body.kind === 'images') return this.predictImages(body.files.map((f) => f.bytes), who, requestId, (i) => body.files[i]!.field, explain);
    return this.predictInstances(body.kind === 'json' ? body.value : undefined, who, explain);
  }

  /** PNG, JPEG or DICOM images, preprocessed as configured: one prediction each (a DICOM with every frame: one a frame). */
  async predictImages(images: Uint8Array[], who: Who, requestId: string = randomUUID(), fieldOf = (_i: number) => 'body', explain?: Explain): Promise<PredictResult> {
    const caller = callerOf(who);
    const p = this.deps.preprocessing;
    if (!p) throw fail('noImagePreprocessing', {}, 'body');
    const spec = this.primaryInput;
    // A DICOM file gives one row, or one per frame when the model takes every frame; its audit record
    // carries digests of its SOP Instance UID and pixel data, and nothing else of its header. Decoded
    // in a decode thread when the server has them (always, when it serves), within one decode budget.
    const fields = images.map((_, i) => fieldOf(i));
    const limits = { budgetBytes: this.deps.decodeBudgetBytes ?? DEFAULT_DECODE_BUDGET, maxRows: MAX_INSTANCES };
    const decoded = this.deps.decoder ? await this.deps.decoder.decode(images, fields, caller.keyId) : await decodeImages(images, fields, p, limits);
    const rows = decoded.audits;
    const per = p.channels * p.height * p.width;
    const data = decoded.data;
    const tensor: Tensor = { name: spec.name, datatype: 'FP32', shape: [rows.length, p.channels, p.height, p.width], data };
    const started = this.clock();
    const inputs = summarize(tensor, this.deps.features);
    rows.forEach((audit, i) => {
      if (audit) inputs[i]!.dicom = audit;
    });
    if (explain && rows.length * explain.grid ** 2 > MAX_INSTANCES) {
      throw fail('explainTooMany', { images: rows.length, grid: explain.grid, max: MAX_INSTANCES }, 'grid');
    }
    // The scheduler takes the tensor's buffer: the explanation works on a copy.
    const original = explain ? data.slice() : undefined;
    const { result } = await this.run([tensor], inputs, requestId, started, caller);
    if (explain && original) {
      for (let r = 0; r < rows.length; r++) {
        result.predictions[r]!.explanation = await this.occlusion(original.subarray(r * per, (r + 1) * per), [p.channels, p.height, p.width], result.predictions[r]!, explain.grid);
      }
    }
    return result;
  }

  /**
   * Occlusion sensitivity (Zeiler & Fergus): the image again with each of grid×grid patches masked — set
   * to 0 in the model's input, the normalization's mean — run as one batch; each patch's drop in the
   * predicted label's probability. These runs are not predictions: no window, audit record or metric.
   */
  private async occlusion(image: Float32Array, [c, h, w]: number[], prediction: Prediction, grid: number): Promise<Occlusion> {
    const k = this.deps.labels.indexOf(prediction.label);
    const per = image.length;
    const data = new Float32Array(grid * grid * per);
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++) {
        const cell = gy * grid + gx;
        const out = data.subarray(cell * per, (cell + 1) * per);
        out.set(image);
        const [y0, y1] = [Math.floor((gy * h!) / grid), Math.floor(((gy + 1) * h!) / grid)];
        const [x0, x1] = [Math.floor((gx * w!) / grid), Math.floor(((gx + 1) * w!) / grid)];
        for (let ch = 0; ch < c!; ch++) for (let y = y0; y < y1; y++) out.fill(0, ch * h! * w! + y * w! + x0, ch * h! * w! + y * w! + x1);
      }
    }
    const outputs = await this.deps.scheduler.infer([{ name: this.primaryInput.name, datatype: 'FP32', shape: [grid * grid, c!, h!, w!], data }], true);
    const probs = outputs[(this.probabilities ??= probabilityOutput(this.signature.outputs, this.deps.labels.length)!.name)]!;
    const classes = this.deps.labels.length;
    const drops = Array.from({ length: grid }, (_, gy) => Array.from({ length: grid }, (_, gx) =>
      Number((prediction.confidence - Number(probs.data[(gy * grid + gx) * classes + k])).toPrecision(6))));
    return { method: 'occlusion', grid, label: prediction.label, probability: prediction.confidence, drops };
  }

  /** POST /v2/models/{m}/infer, the Open Inference Protocol's request. */
  async inferOip(body: unknown, who: Who, binary?: Uint8Array, binaryOwned = false): Promise<{ id: string; outputs: Array<{ name: string; datatype: string; shape: number[]; data: number[] }>; prediction: PredictResult }> {
    if (!isPlainObject(body)) throw fail('inferBodyNotObject', {}, '');
    rejectUnknown(body, ['id', 'inputs', 'outputs', 'parameters'], '');
    if (!Array.isArray(body.inputs) || body.inputs.length === 0) throw fail('inputsMissing', {}, 'inputs');
    const binaryParts = binary ? splitBinary(body.inputs, binary) : undefined;
    const seen = new Set<string>();
    const feeds = body.inputs.map((raw: unknown, i: number): Tensor => {
      const field = `inputs[${i}]`;
      if (!isPlainObject(raw)) throw fail('inputNotObject', {}, field);
      rejectUnknown(raw, ['name', 'shape', 'datatype', 'data', 'parameters'], field);
      const spec = this.signature.inputs.find((s) => s.name === raw.name);
      if (!spec) {
        throw fail('unknownInput', { given: JSON.stringify(raw.name)?.slice(0, 64), expected: this.signature.inputs.map((s) => `"${s.name}"`).join(', ') }, `${field}.name`);
      }
      if (seen.has(spec.name)) throw fail('inputTwice', { name: spec.name }, `${field}.name`);
      seen.add(spec.name);
      if (raw.datatype !== spec.datatype) {
        throw fail('datatypeMismatch', { name: spec.name, expected: spec.datatype, got: JSON.stringify(raw.datatype)?.slice(0, 20) }, `${field}.datatype`);
      }
      const shape = checkShape(spec, raw.shape, `${field}.shape`);
      const binary = binaryParts?.[i];
      if (binary) return tensorFromBinary(spec, shape, binary, `${field}.parameters.binary_data_size`, binaryOwned);
      if (raw.data === undefined) throw fail('inputWithoutData', { name: spec.name }, `${field}.data`);
      return tensorFromJson(spec, shape, raw.data, `${field}.data`);
    });
    for (const s of this.signature.inputs) {
      if (!seen.has(s.name)) throw fail('inputRequired', { name: s.name }, 'inputs');
    }
    const batch = feeds[0]!.shape[0]!;
    if (feeds.some((f) => f.shape[0] !== batch)) throw fail('batchSizesDiffer', {}, 'inputs');
    let wanted: string[] | undefined;
    if (body.outputs !== undefined) {
      if (!Array.isArray(body.outputs)) throw fail('outputsNotArray', {}, 'outputs');
      wanted = body.outputs.map((o: unknown, i: number) => {
        const name = isPlainObject(o) ? o.name : undefined;
        if (typeof name !== 'string' || !this.signature.outputs.some((s) => s.name === name)) {
          throw fail('unknownOutput', { given: JSON.stringify(name)?.slice(0, 64) }, `outputs[${i}].name`);
        }
        return name;
      });
    }
    const requestId = typeof body.id === 'string' && body.id.length <= 128 ? body.id : randomUUID();
    const started = this.clock();
    const inputs = summarize(feeds[0]!, this.deps.features);
    const { result: prediction, outputs } = await this.run(feeds, inputs, requestId, started, callerOf(who));
    return {
      id: requestId,
      prediction,
      outputs: this.signature.outputs
        .filter((s) => !wanted || wanted.includes(s.name))
        .map((s) => ({ name: s.name, datatype: s.datatype, shape: outputs[s.name]!.dims, data: jsonValues(outputs[s.name]!.data) })),
    };
  }

  /** Run the tensors (copied for a shadow first, and sent to it after), then record. */
  private async run(feeds: Tensor[], inputs: RowSummary[], requestId: string, started: number, caller: Caller): Promise<{ result: PredictResult; outputs: Outputs }> {
    const copy = this.deps.mirror?.capture(feeds);
    const outputs = await this.deps.scheduler.infer(feeds, true).catch((err: unknown) => {
      copy?.drop();
      throw err;
    });
    const result = this.record(requestId, inputs, outputs, started, caller);
    copy?.send(requestId, result.predictions);
    return { result, outputs };
  }

  /** Label the probabilities, and feed monitoring, feedback and audit. */
  private record(requestId: string, inputs: RowSummary[], outputs: Outputs, started: number, caller: Caller): PredictResult {
    const { keyId, subgroup } = caller;
    const { labels, window, feedback, audit, metrics, modelName, modelVersion } = this.deps;
    const probs = outputs[(this.probabilities ??= probabilityOutput(this.signature.outputs, labels.length)!.name)]!;
    const rows = inputs.length;
    const classes = labels.length;
    const now = this.clock();
    const time = new Date(now).toISOString();
    const predictions: Prediction[] = [];
    const records: AuditRecord[] = [];
    for (let r = 0; r < rows; r++) {
      const p = jsonValues(probs.data.subarray(r * classes, (r + 1) * classes) as never);
      let best = 0;
      for (let k = 1; k < classes; k++) if (p[k]! > p[best]!) best = k;
      const id = rows === 1 ? requestId : `${requestId}.${r}`;
      const label = labels[best]!;
      const confidence = p[best]!;
      const { inputMean, inputStd, inputSha256, bins, dicom } = inputs[r]!;
      const seq = window.add({ time, id, confidence, label, probabilities: p, inputMean, inputStd, ...(subgroup ? { subgroup } : {}) });
      if (bins) this.deps.features?.add(seq, bins);
      feedback.remember({ id, label });
      metrics.predicted(label, confidence);
      records.push({
        time, requestId, predictionId: id, keyId,
        inputSha256, ...dicom,
        model: modelName, modelVersion, prediction: label, confidence, latencyMs: now - started,
      });
      const probabilities: Record<string, number> = {};
      for (let k = 0; k < classes; k++) probabilities[labels[k]!] = p[k]!;
      predictions.push({ id, label, confidence, probabilities });
    }
    audit.write(records);
    return { requestId, model: { name: modelName, version: modelVersion }, timestamp: time, predictions };
  }

  /**
   * POST /v1/feedback {"predictionId": …, "label": …}: accepted for any prediction id — the prediction may
   * have been made by another replica, or days ago; the operator joins them. What was predicted, and
   * whether the label agrees, is answered when this replica made the prediction recently.
   */
  feedback(body: unknown): { predictionId: string; label: string; predicted?: string; correct?: boolean } {
    if (!isPlainObject(body)) throw fail('feedbackBodyNotObject', {}, '');
    rejectUnknown(body, ['predictionId', 'label'], '');
    if (body.predictionId === undefined || body.predictionId === '') throw fail('predictionIdMissing', {}, 'predictionId');
    if (typeof body.predictionId !== 'string' || !PREDICTION_ID.test(body.predictionId)) throw fail('predictionIdInvalid', {}, 'predictionId');
    if (typeof body.label !== 'string' || !this.deps.labels.includes(body.label)) {
      throw fail('unknownLabel', { labels: this.deps.labels.map((l) => `"${l}"`).join(', ') }, 'label');
    }
    const rec = this.deps.feedback.report(body.predictionId, body.label);
    return { predictionId: body.predictionId, label: body.label, ...(rec ? { predicted: rec.label, correct: rec.label === body.label } : {}) };
  }
}

/** A prediction id: a request id (≤ 128 characters, as X-Request-Id) and, for a batch, `.row`. */
const PREDICTION_ID = /^[\w.:-]{1,140}$/;

/**
 * The binary tensor extension: after the JSON header come the raw bytes of each input whose
 * parameters carry binary_data_size, in order.
 */
function splitBinary(inputs: unknown[], bytes: Uint8Array): Array<Uint8Array | undefined> {
  let offset = 0;
  const parts = inputs.map((raw, i) => {
    const size = isPlainObject(raw) && isPlainObject(raw.parameters) ? raw.parameters.binary_data_size : undefined;
    if (size === undefined) return undefined;
    if (!Number.isSafeInteger(size) || (size as number) < 0 || offset + (size as number) > bytes.byteLength) {
      throw fail('binarySizeDoesNotFit', { size: JSON.stringify(size), left: bytes.byteLength - offset }, `inputs[${i}].parameters.binary_data_size`);
    }
    const part = bytes.subarray(offset, offset + (size as number));
    offset += size as number;
    return part;
  });
  if (offset !== bytes.byteLength) throw fail('binaryBytesLeftOver', { count: bytes.byteLength - offset }, 'body');
  return parts;
}
