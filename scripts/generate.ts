// Regenerates the shipped rules/, dashboards/ and deploy/prometheus/prometheus.yml from the
// default options: node --import tsx scripts/generate.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composePrometheusConfig } from '../src/generate/compose.js';
import { dashboardFiles, defaultGenerateOptions, ruleFiles, writeFiles } from '../src/generate/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const o = defaultGenerateOptions;
const written = [
  ...writeFiles(`${root}rules`, ruleFiles(o)),
  ...writeFiles(`${root}dashboards`, dashboardFiles(o)),
];
writeFileSync(`${root}deploy/prometheus/prometheus.yml`, composePrometheusConfig(o));
written.push(`${root}deploy/prometheus/prometheus.yml`);
for (const p of written) console.log(p);
