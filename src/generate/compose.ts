import type { GenerateOptions } from './options.js';
import { generatePrometheusConfig } from './prometheus-config.js';

/** Service names and ports of `docker-compose.yml`; the deploy/ configs are written against these. */
export const COMPOSE = {
  augur: { service: 'augur', port: 9201 },
  prometheus: { service: 'prometheus', port: 9090 },
  alertmanager: { service: 'alertmanager', port: 9093 },
  grafana: { service: 'grafana', port: 3000 },
  /** Where the compose file mounts `rules/` in the Prometheus container. */
  rulesDir: '/etc/prometheus/rules',
} as const;

/** `deploy/prometheus/prometheus.yml`: the generated config plus what a whole stack needs. */
export function composePrometheusConfig(o: GenerateOptions): string {
  return generatePrometheusConfig({
    ...o,
    targets: [`${COMPOSE.augur.service}:${COMPOSE.augur.port}`],
    global: { scrape_interval: '15s', evaluation_interval: '15s' },
    // Not `*.yml`: rules/ also holds promtool's unit tests (`*.rules.test.yml`), which are not rule files.
    ruleFiles: [`${COMPOSE.rulesDir}/*.rules.yml`],
    alertmanagers: [`${COMPOSE.alertmanager.service}:${COMPOSE.alertmanager.port}`],
    extraScrapeConfigs: [
      { job_name: 'prometheus', static_configs: [{ targets: [`localhost:${COMPOSE.prometheus.port}`] }] },
      {
        job_name: 'alertmanager',
        static_configs: [{ targets: [`${COMPOSE.alertmanager.service}:${COMPOSE.alertmanager.port}`] }],
      },
    ],
  });
}
