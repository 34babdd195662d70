import { parentPort } from 'node:worker_threads';
import { trainForest } from './forest.js';

/** Worker thread: trains one isolation forest per message, off the request path. */
export interface TrainJob { job: number; slot: number; data: Float32Array; rows: number; seed: number }
export interface TrainResult {
  job: number; slot: number; feat?: Int8Array; split?: Int32Array; mean?: number; spread?: number;
  seconds: number; error?: string;
}

parentPort?.on('message', (m: TrainJob) => {
  const t0 = process.hrtime.bigint();
  try {
    const f = trainForest(m.data, m.rows, m.seed);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const r: TrainResult = { job: m.job, slot: m.slot, feat: f.feat, split: f.split, mean: f.mean, spread: f.spread, seconds };
    parentPort!.postMessage(r, [f.feat.buffer as ArrayBuffer, f.split.buffer as ArrayBuffer]);
  } catch (e) {
    const r: TrainResult = { job: m.job, slot: m.slot, seconds: 0, error: String(e) };
    parentPort!.postMessage(r);
  }
});
