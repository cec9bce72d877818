// Deterministic test models: small ONNX classifiers with a dynamic batch dimension and a softmax
// output, built from seeded weights, plus a plain-JavaScript forward pass of each — the independent
// computation the tests compare the server's answers with.
//   node dist/test/models/generate.js [--out DIR]   → mlp.onnx, cnn-small.onnx, cnn-resnet18.onnx
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLOAT, type Graph, modelBytes, type Node, type Tensor } from './onnx.js';

/** mulberry32: a tiny seeded PRNG, so every run writes byte-identical models. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Park–Miller uniforms in (0, 1), scaled and shifted: exact integer arithmetic below 2⁵³, so Python
 * (hack/python/reference_values.py) makes the same samples and large reference cases need no data files.
 */
export function lcgUniform(seed: number, n: number, scale = 1, shift = 0): Float64Array {
  const out = new Float64Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 48271) % 2147483647;
    out[i] = (x / 2147483647) * scale + shift;
  }
  return out;
}

function uniform(rand: () => number, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * bound;
  return out;
}

// ---------------------------------------------------------------- MLP

export interface MlpWeights {
  features: number;
  hidden: number;
  classes: number;
  w1: Float32Array; // [features, hidden]
  b1: Float32Array;
  w2: Float32Array; // [hidden, classes]
  b2: Float32Array;
}

export function mlpWeights(features = 8, hidden = 16, classes = 2, seed = 7): MlpWeights {
  const rand = rng(seed);
  return {
    features, hidden, classes,
    w1: uniform(rand, features * hidden, 1 / Math.sqrt(features)),
    b1: uniform(rand, hidden, 0.1),
    w2: uniform(rand, hidden * classes, 1 / Math.sqrt(hidden)),
    b2: uniform(rand, classes, 0.1),
  };
}

/**
 * A discriminating, calibrated sepsis model in the MLP's shape: P(sepsis) = σ(slope · v·x + bias), v fixed
 * per feature (two ReLU units carry +v·x and −v·x). Labels drawn from its own probabilities make its
 * scores calibrated by construction; on 2,000 such patients it meets the protocol (AUROC 0.96, sensitivity
 * 0.92, ECE 0.02). Inputs shrunk towards 0 are the hard cases, scored near the decision — a covariate
 * shift that lowers its AUROC without any concept shift.
 */
export function logisticWeights(slope = 4, bias = 1.5): MlpWeights {
  const v = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
  const w1 = new Float32Array(16);
  v.forEach((x, i) => {
    w1[i * 2] = x;
    w1[i * 2 + 1] = -x;
  });
  return { features: 8, hidden: 2, classes: 2, w1, b1: new Float32Array(2), w2: new Float32Array([0, slope, 0, -slope]), b2: new Float32Array([0, bias]) };
}

export function mlpGraph(w: MlpWeights): Graph {
  const t = (name: string, dims: number[], data: Float32Array): Tensor => ({ name, dims, data });
  return {
    name: 'mlp',
    nodes: [
      { op: 'MatMul', inputs: ['input', 'w1'], outputs: ['h1'] },
      { op: 'Add', inputs: ['h1', 'b1'], outputs: ['h2'] },
      { op: 'Relu', inputs: ['h2'], outputs: ['h3'] },
      { op: 'MatMul', inputs: ['h3', 'w2'], outputs: ['logits0'] },
      { op: 'Add', inputs: ['logits0', 'b2'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: -1 } },
    ],
    initializers: [
      t('w1', [w.features, w.hidden], w.w1), t('b1', [w.hidden], w.b1),
      t('w2', [w.hidden, w.classes], w.w2), t('b2', [w.classes], w.b2),
    ],
    inputs: [{ name: 'input', elemType: FLOAT, shape: ['batch', w.features] }],
    outputs: [{ name: 'probabilities', elemType: FLOAT, shape: ['batch', w.classes] }],
  };
}

export function softmax(logits: number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** n inputs of the MLP (8 features, uniform on (−1, 1) times scale) from a seeded generator: the
 * holdout population of the sepsis sample, and shifted populations for drift. */
export function mlpInputs(seed: number, n: number, scale = 1): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: 8 }, () => (r() * 2 - 1) * scale));
}

/** The MLP's forward pass in plain double-precision JavaScript, one instance. */
export function mlpForward(w: MlpWeights, x: number[]): number[] {
  const h = new Array<number>(w.hidden).fill(0);
  for (let j = 0; j < w.hidden; j++) {
    let s = w.b1[j]!;
    for (let i = 0; i < w.features; i++) s += x[i]! * w.w1[i * w.hidden + j]!;
    h[j] = Math.max(0, s);
  }
  const logits = new Array<number>(w.classes).fill(0);
  for (let k = 0; k < w.classes; k++) {
    let s = w.b2[k]!;
    for (let j = 0; j < w.hidden; j++) s += h[j]! * w.w2[j * w.classes + k]!;
    logits[k] = s;
  }
  return softmax(logits);
}

// ---------------------------------------------------------------- CNN

export interface ConvLayer {
  out: number;
  stride: number;
}

export interface CnnWeights {
  size: number; // input is [batch, 1, size, size]
  classes: number;
  layers: Array<ConvLayer & { in: number; w: Float32Array; b: Float32Array }>; // w: [out, in, 3, 3]
  fc: Float32Array; // [lastChannels, classes]
  fcBias: Float32Array;
}

/** 3×3 convolutions (padding 1) with ReLU, global average pooling, a dense layer and softmax. */
export function cnnWeights(size: number, layers: ConvLayer[], classes = 2, seed = 11): CnnWeights {
  const rand = rng(seed);
  let channels = 1;
  const ls = layers.map((l) => {
    const fanIn = channels * 9;
    const layer = { ...l, in: channels, w: uniform(rand, l.out * channels * 9, Math.sqrt(6 / fanIn)), b: uniform(rand, l.out, 0.05) };
    channels = l.out;
    return layer;
  });
  return { size, classes, layers: ls, fc: uniform(rand, channels * classes, 1 / Math.sqrt(channels)), fcBias: uniform(rand, classes, 0.1) };
}

export const SMALL_CNN: ConvLayer[] = [{ out: 4, stride: 2 }, { out: 8, stride: 2 }];
/** About 2 GMAC per 224×224 image, the compute of ResNet-18 (1.8 GMAC), for benchmarks. */
export const RESNET18_LIKE: ConvLayer[] = [
  { out: 64, stride: 2 }, { out: 64, stride: 1 }, { out: 128, stride: 2 }, { out: 128, stride: 1 },
  { out: 256, stride: 2 }, { out: 256, stride: 1 }, { out: 512, stride: 2 },
];

export function cnnGraph(w: CnnWeights, name: string): Graph {
  const nodes: Node[] = [];
  const initializers: Tensor[] = [];
  let x = 'input';
  w.layers.forEach((l, i) => {
    initializers.push({ name: `conv${i}_w`, dims: [l.out, l.in, 3, 3], data: l.w }, { name: `conv${i}_b`, dims: [l.out], data: l.b });
    nodes.push(
      { op: 'Conv', inputs: [x, `conv${i}_w`, `conv${i}_b`], outputs: [`conv${i}`],
        attrs: { kernel_shape: [3, 3], strides: [l.stride, l.stride], pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: [`conv${i}`], outputs: [`relu${i}`] },
    );
    x = `relu${i}`;
  });
  const last = w.layers[w.layers.length - 1]!.out;
  initializers.push({ name: 'fc_w', dims: [last, w.classes], data: w.fc }, { name: 'fc_b', dims: [w.classes], data: w.fcBias });
  nodes.push(
    { op: 'GlobalAveragePool', inputs: [x], outputs: ['pooled'] },
    { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'], attrs: { axis: 1 } },
    { op: 'MatMul', inputs: ['flat', 'fc_w'], outputs: ['logits0'] },
    { op: 'Add', inputs: ['logits0', 'fc_b'], outputs: ['logits'] },
    { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: -1 } },
  );
  return {
    name, nodes, initializers,
    inputs: [{ name: 'input', elemType: FLOAT, shape: ['batch', 1, w.size, w.size] }],
    outputs: [{ name: 'probabilities', elemType: FLOAT, shape: ['batch', w.classes] }],
  };
}

/** The CNN's forward pass in plain JavaScript, one image given as [size*size] values. */
export function cnnForward(w: CnnWeights, image: ArrayLike<number>): number[] {
  let size = w.size;
  let act: Float64Array = Float64Array.from(image);
  for (const l of w.layers) {
    const outSize = Math.floor((size + 2 - 3) / l.stride) + 1;
    const out = new Float64Array(l.out * outSize * outSize);
    for (let o = 0; o < l.out; o++) {
      for (let y = 0; y < outSize; y++) {
        for (let x = 0; x < outSize; x++) {
          let s = l.b[o]!;
          for (let c = 0; c < l.in; c++) {
            for (let ky = 0; ky < 3; ky++) {
              const iy = y * l.stride + ky - 1;
              if (iy < 0 || iy >= size) continue;
              for (let kx = 0; kx < 3; kx++) {
                const ix = x * l.stride + kx - 1;
                if (ix < 0 || ix >= size) continue;
                s += act[(c * size + iy) * size + ix]! * l.w[((o * l.in + c) * 3 + ky) * 3 + kx]!;
              }
            }
          }
          out[(o * outSize + y) * outSize + x] = Math.max(0, s);
        }
      }
    }
    act = out;
    size = outSize;
  }
  const channels = w.layers[w.layers.length - 1]!.out;
  const pooled = Array.from({ length: channels }, (_, c) => {
    let s = 0;
    for (let i = 0; i < size * size; i++) s += act[c * size * size + i]!;
    return s / (size * size);
  });
  const logits = Array.from({ length: w.classes }, (_, k) =>
    pooled.reduce((s, p, c) => s + p * w.fc[c * w.classes + k]!, w.fcBias[k]!));
  return softmax(logits);
}

// ---------------------------------------------------------------- files

export interface GeneratedModel {
  path: string;
  sha256: string;
}

export function writeModel(dir: string, file: string, g: Graph): GeneratedModel {
  mkdirSync(dir, { recursive: true });
  const bytes = modelBytes(g);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const path = join(dir, file);
  if (!existsSync(path) || createHash('sha256').update(readFileSync(path)).digest('hex') !== sha256) writeFileSync(path, bytes);
  return { path, sha256 };
}

export const SMALL_CNN_SIZE = 32;

export function generateAll(dir: string, withLarge = true): Record<string, GeneratedModel> {
  const out: Record<string, GeneratedModel> = {
    mlp: writeModel(dir, 'mlp.onnx', mlpGraph(mlpWeights())),
    logistic: writeModel(dir, 'logistic.onnx', mlpGraph(logisticWeights())),
    'cnn-small': writeModel(dir, 'cnn-small.onnx', cnnGraph(cnnWeights(SMALL_CNN_SIZE, SMALL_CNN), 'cnn-small')),
  };
  if (withLarge) out['cnn-resnet18'] = writeModel(dir, 'cnn-resnet18.onnx', cnnGraph(cnnWeights(224, RESNET18_LIKE), 'cnn-resnet18'));
  return out;
}

if (process.argv[1]?.endsWith('generate.js')) {
  const i = process.argv.indexOf('--out');
  const dir = i > 0 ? process.argv[i + 1]! : '.clinops/models';
  for (const [name, m] of Object.entries(generateAll(dir))) console.log(`${name}\t${m.sha256}\t${m.path}`);
}

/**
 * A model that shows what it was given: its "probabilities" are its input image flattened
 * ([batch, channels·size·size]), so a test reads the exact tensor the server made from an upload.
 */
export function identityImageGraph(size: number, channels = 1): Graph {
  return {
    name: 'identity-image',
    nodes: [{ op: 'Flatten', inputs: ['input'], outputs: ['probabilities'], attrs: { axis: 1 } }],
    initializers: [],
    inputs: [{ name: 'input', elemType: FLOAT, shape: ['batch', channels, size, size] }],
    outputs: [{ name: 'probabilities', elemType: FLOAT, shape: ['batch', channels * size * size] }],
  };
}
