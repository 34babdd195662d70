import { parentPort } from 'node:worker_threads';
import { clusterRound, transferables, type RoundInput, type RoundState } from './round.js';

const state: RoundState = new Map();

parentPort!.on('message', (input: RoundInput) => {
  try {
    const out = clusterRound(input, state);
    parentPort!.postMessage({ ok: true, out }, transferables(out));
  } catch (err) {
    parentPort!.postMessage({ ok: false, round: input.round, error: String((err as Error)?.stack ?? err) });
  }
});
