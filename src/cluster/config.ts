import { z } from 'zod';
import { durationMs } from '../config/duration.js';

const duration = (min: number) =>
  z.string().refine((s) => durationMs(s) >= min, {
    message: `a Prometheus duration of at least ${min / 1000}s, e.g. 1m`,
  });

export const clusterSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Labels that, with the metric name, make a peer group. */
  group_by: z.array(z.string().min(1)).default(['job']),
  /**
   * Labels that tell peers apart: the MAD peer outlier score compares a series with the members of
   * its group that agree with it on every other label (the same cpu and mode on other instances).
   */
  peer_labels: z.array(z.string().min(1)).default(['instance', 'pod']),
  /** MAD peer outliers: a value this many robust deviations from its peers' median scores 0.5. */
  tolerance: z.number().positive().default(3),
  /** The recent stretch of each series that its behaviour features describe. */
  window: duration(32_000).default('1h'),
  recluster_interval: duration(1000).default('1m'),
  /** Between full rounds (k chosen anew), clusters are updated from the previous centroids. */
  full_recluster_interval: duration(1000).default('10m'),
  max_clusters: z.number().int().min(1).max(16).default(8),
  /** Best silhouette below this means the group has no cluster structure: one cluster. */
  min_silhouette: z.number().min(0).max(1).default(0.6),
  dbscan: z
    .strictObject({
      /** Neighbourhood radius in feature space, or `auto` (from the group's k-distances). */
      eps: z.union([z.literal('auto'), z.number().positive()]).default('auto'),
      min_pts: z.number().int().min(2).default(4),
    })
    .prefault({}),
});

export type ClusterConfig = z.output<typeof clusterSchema>;
export type ClusterConfigInput = z.input<typeof clusterSchema>;
