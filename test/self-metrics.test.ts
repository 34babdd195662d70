import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPipeline } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';
import { SelfMetrics } from '../src/expose/self-metrics.js';

describe('model training self-metrics', () => {
  it('exposes a last-training timestamp only for models that have trained since start', async () => {
    const pipeline = createPipeline(defaultConfig());
    const metrics = new SelfMetrics(pipeline, 1000);
    try {
      const samples = async (name: string): Promise<Map<string, number>> => {
        const m = await metrics.register.getSingleMetric(name)!.get();
        return new Map(m.values.map((v) => [String(v.labels.model), v.value]));
      };
      // A fresh start: every model counted at zero runs, none with a (made-up) training time.
      assert.deepEqual([...(await samples('augur_model_training_runs_total')).keys()].sort(), ['clustering', 'isolation_forest', 'lstm']);
      assert.deepEqual([...(await samples('augur_model_last_training_timestamp_seconds')).keys()], []);
      const before = Date.now() / 1000;
      pipeline.forecast!.trainingRuns++;
      const trained = await samples('augur_model_last_training_timestamp_seconds');
      assert.deepEqual([...trained.keys()], ['lstm']);
      assert.ok(trained.get('lstm')! >= before && trained.get('lstm')! <= Date.now() / 1000 + 1);
    } finally {
      metrics.stop();
    }
  });
});
