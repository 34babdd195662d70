import type { SeriesFamily } from './expose/derived.js';
import type { Scorer } from './detect/scorer.js';

/** The anomaly families of DESIGN.md, read straight from the scorer's arrays. */
export function anomalyFamilies(scorer: Scorer): SeriesFamily[] {
  return [
    { name: 'augur_anomaly_score', help: 'Anomaly likelihood of the latest sample, 0 to 1.', extraLabels: '', skipNaN: false, values: () => scorer.score },
    { name: 'augur_anomaly', help: '1 when the latest sample is anomalous under the series\' adaptive threshold, else 0.', extraLabels: '', skipNaN: false, values: () => scorer.anomaly },
    { name: 'augur_anomaly_severity', help: 'Severity of the current anomaly: 0 none, 1 low, 2 medium, 3 high, 4 critical.', extraLabels: '', skipNaN: false, values: () => scorer.severity },
    { name: 'augur_expected', help: 'Value expected at the latest sample\'s time (per-second rate for counters).', extraLabels: '', skipNaN: true, values: () => scorer.expected },
    { name: 'augur_expected_lower', help: 'Lower edge of the band expected at the latest sample\'s time.', extraLabels: '', skipNaN: true, values: () => scorer.lower },
    { name: 'augur_expected_upper', help: 'Upper edge of the band expected at the latest sample\'s time.', extraLabels: '', skipNaN: true, values: () => scorer.upper },
  ];
}
