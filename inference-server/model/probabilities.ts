// A model's probabilities for instances, run here with onnxruntime as the server runs it (no HTTP): what
// `clinops reference` and `clinops accept` need from a model file, and the tests' reference values.
import { probabilityOutput, specFromMetadata } from './signature.js';

/**
 * Run a model on instances (each one input without the batch dimension), 64 at a time: each row's
 * probabilities from the output the server labels (inference-server/model/signature.ts: the first FP32
 * [batch, classes]).
 */
export async function modelProbabilities(modelPath: string, instances: readonly unknown[], where: string): Promise<Float32Array[]> {
  const ort = (await import('onnxruntime-node')).default;
  const session = await ort.InferenceSession.create(modelPath);
  const input = session.inputNames[0]!;
  const meta = session.inputMetadata[0] as { shape?: ReadonlyArray<number | string> };
  const inner = (meta.shape ?? []).slice(1).map((d) => (typeof d === 'number' ? d : NaN));
  const per = inner.reduce((a, b) => a * b, 1);
  if (!Number.isFinite(per)) throw new Error(`${modelPath}: the input "${input}" has dynamic inner dimensions; fixed ones are needed`);
  const outputs = session.outputMetadata.flatMap((m) => {
    try {
      return [specFromMetadata(m as never)];
    } catch {
      return []; // a type the server does not serve (string labels) is not the probabilities
    }
  });
  const probabilities = probabilityOutput(outputs, -1)?.name;
  if (!probabilities) throw new Error(`${modelPath}: no FP32 output of probabilities shaped [batch, classes]`);
  const rows: Float32Array[] = [];
  try {
    for (let start = 0; start < instances.length; start += 64) {
      const batch = instances.slice(start, start + 64);
      const data = new Float32Array(batch.length * per);
      batch.forEach((inst, i) => {
        const flat = Array.isArray(inst) ? (inst.flat(32) as unknown[]) : [];
        if (flat.length !== per || flat.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
          throw new Error(`${where}: instance ${start + i} must have ${per} finite numbers`);
        }
        data.set(flat as number[], i * per);
      });
      const out = await session.run({ [input]: new ort.Tensor('float32', data, [batch.length, ...inner]) });
      const probs = out[probabilities]!.data as Float32Array;
      const classes = probs.length / batch.length;
      for (let i = 0; i < batch.length; i++) rows.push(probs.slice(i * classes, (i + 1) * classes));
    }
  } finally {
    await session.release();
  }
  return rows;
}
