// One onnxruntime session in a worker thread: session.run blocks the thread it runs on, so it never
// runs on the HTTP thread. Messages: init → ready | failed; run → result | error.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

export interface WorkerInit {
  modelPath: string;
  executionProvider: 'cpu' | 'cuda';
  intraOpThreads: number;
  /**
   * Let onnxruntime's intra-op threads spin between runs. Spinning trades CPU for a few microseconds of
   * wake-up; where the pool's threads and the HTTP thread outnumber the cores, the spinning steals the
   * cores the HTTP thread needs, so the server turns it off there.
   */
  allowSpinning: boolean;
}

export interface WireTensor {
  type: string;
  data: ArrayBufferView;
  dims: number[];
}

export type ToWorker = { kind: 'run'; id: number; feeds: Record<string, WireTensor> };
export type FromWorker =
  | { kind: 'ready'; provider: string; fallbackReason?: string; inputs: unknown[]; outputs: unknown[] }
  | { kind: 'failed'; error: string }
  | { kind: 'result'; id: number; outputs: Record<string, WireTensor> }
  | { kind: 'error'; id: number; error: string };

const port = parentPort!;
const init = workerData as WorkerInit;

async function createSession(): Promise<{ session: ort.InferenceSession; provider: string; fallbackReason?: string }> {
  const spin = init.allowSpinning ? '1' : '0';
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: init.intraOpThreads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
  };
  if (init.executionProvider === 'cuda') {
    try {
      return { session: await ort.InferenceSession.create(init.modelPath, { ...base, executionProviders: ['cuda'] }), provider: 'cuda' };
    } catch (err) {
      const session = await ort.InferenceSession.create(init.modelPath, { ...base, executionProviders: ['cpu'] });
      return { session, provider: 'cpu', fallbackReason: (err as Error).message.split('\n')[0] };
    }
  }
  return { session: await ort.InferenceSession.create(init.modelPath, { ...base, executionProviders: ['cpu'] }), provider: 'cpu' };
}

try {
  const { session, provider, fallbackReason } = await createSession();
  port.postMessage({ kind: 'ready', provider, fallbackReason, inputs: [...session.inputMetadata], outputs: [...session.outputMetadata] } satisfies FromWorker);
  port.on('message', async (msg: ToWorker) => {
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type as never, t.data as never, t.dims);
      const result = await session.run(feeds);
      const outputs: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(result)) {
        const data = t.data as unknown as ArrayBufferView;
        outputs[name] = { type: t.type, data, dims: [...t.dims] };
        transfer.push(data.buffer as ArrayBuffer);
      }
      port.postMessage({ kind: 'result', id: msg.id, outputs } satisfies FromWorker, transfer);
    } catch (err) {
      port.postMessage({ kind: 'error', id: msg.id, error: (err as Error).message } satisfies FromWorker);
    }
  });
} catch (err) {
  port.postMessage({ kind: 'failed', error: (err as Error).message } satisfies FromWorker);
}
