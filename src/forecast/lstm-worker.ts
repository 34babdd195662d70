/**
 * Worker thread that trains one small LSTM per peer group and predicts with it. Messages:
 *   {kind:'train', seq, group, x, y, n, steps, outputs}  -> {seq, ok, seconds, error?}
 *   {kind:'predict', seq, group, x, y, n, steps}          -> {seq, ok, seconds}
 *   {kind:'drop', models}                                 -> no reply; disposes those groups' models
 * `group` and `models` are the main thread's model keys (one per peer group's data, never reused).
 * x holds (at least) n windows of `steps` normalised values; y (at least) n rows of `outputs`
 * normalised targets for training, and receives the n predicted rows. Both are views of shared
 * memory that the main thread leaves alone until the reply.
 */
import { parentPort } from 'node:worker_threads';
import { mulberry32 } from '../util/prng.js';

type Tf = typeof import('@tensorflow/tfjs');
type Model = import('@tensorflow/tfjs').LayersModel;

interface TrainMsg { kind: 'train'; seq: number; group: number; x: Float32Array; y: Float32Array; n: number; steps: number; outputs: number }
interface PredictMsg { kind: 'predict'; seq: number; group: number; x: Float32Array; y: Float32Array; n: number; steps: number }
interface DropMsg { kind: 'drop'; models: number[] }

const EPOCHS = 2;
let tfPromise: Promise<Tf> | null = null;
const models = new Map<number, Model>();

/** tfjs-node where it is installed, else pure tfjs on the wasm backend (cpu as a last resort). */
async function loadTf(): Promise<Tf> {
  try {
    const name = '@tensorflow/tfjs-node';
    return (await import(name)) as Tf;
  } catch {
    const tf = await import('@tensorflow/tfjs');
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) await tf.setBackend('cpu');
    } catch {
      await tf.setBackend('cpu');
    }
    await tf.ready();
    return tf;
  }
}

/**
 * Seeded initial weights and a seeded shuffle per model: the same pairs train the same model, so
 * `augur backtest` gives the same forecasts on every run (tfjs draws both from Math.random).
 */
const SEED = 20240101;
const shuffles = new Map<number, () => number>();

function build(tf: Tf, steps: number, outputs: number): Model {
  const m = tf.sequential();
  m.add(tf.layers.lstm({
    units: 16,
    inputShape: [steps, 1],
    kernelInitializer: tf.initializers.glorotUniform({ seed: SEED }),
    recurrentInitializer: tf.initializers.orthogonal({ seed: SEED + 1 }),
  }));
  m.add(tf.layers.dense({ units: outputs, kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 2 }) }));
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'meanAbsoluteError' });
  return m;
}

/** The n rows of `width` values of `src` in the order `perm`. */
function permuted(src: Float32Array, perm: Uint32Array, width: number): Float32Array {
  const out = new Float32Array(perm.length * width);
  for (let i = 0; i < perm.length; i++) out.set(src.subarray(perm[i]! * width, (perm[i]! + 1) * width), i * width);
  return out;
}

async function train(msg: TrainMsg): Promise<object> {
  const tf = await (tfPromise ??= loadTf());
  const t0 = performance.now();
  let model = models.get(msg.group);
  if (model === undefined || (model.outputs[0]!.shape[1] as number) !== msg.outputs) {
    model?.dispose();
    model = build(tf, msg.steps, msg.outputs);
    models.set(msg.group, model);
    shuffles.set(msg.group, mulberry32(SEED ^ msg.group));
  }
  const random = shuffles.get(msg.group)!;
  const perm = new Uint32Array(msg.n);
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = 0; i < msg.n; i++) perm[i] = i;
    for (let i = msg.n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    const xs = tf.tensor3d(permuted(msg.x, perm, msg.steps), [msg.n, msg.steps, 1]);
    const ys = tf.tensor2d(permuted(msg.y, perm, msg.outputs), [msg.n, msg.outputs]);
    try {
      await model.fit(xs, ys, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 });
    } finally {
      xs.dispose();
      ys.dispose();
    }
  }
  return { seq: msg.seq, ok: true, seconds: (performance.now() - t0) / 1000 };
}

async function predict(msg: PredictMsg): Promise<object> {
  const tf = await (tfPromise ??= loadTf());
  const model = models.get(msg.group);
  if (model === undefined) return { seq: msg.seq, ok: false };
  const t0 = performance.now();
  const xs = tf.tensor3d(msg.x.slice(0, msg.n * msg.steps), [msg.n, msg.steps, 1]);
  const out = model.predict(xs) as import('@tensorflow/tfjs').Tensor;
  const y = (await out.data()) as Float32Array;
  xs.dispose();
  out.dispose();
  msg.y.set(y.subarray(0, msg.y.length));
  return { seq: msg.seq, ok: true, seconds: (performance.now() - t0) / 1000 };
}

parentPort?.on('message', (msg: TrainMsg | PredictMsg | DropMsg) => {
  if (msg.kind === 'drop') {
    for (const g of msg.models) {
      models.get(g)?.dispose();
      models.delete(g);
      shuffles.delete(g);
    }
    return;
  }
  const job = msg.kind === 'train' ? train(msg) : predict(msg);
  job.then(
    (r) => parentPort!.postMessage(r),
    (e: unknown) => parentPort!.postMessage({ seq: msg.seq, ok: false, error: String(e) }),
  );
});
