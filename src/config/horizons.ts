import { canonicalDuration } from './duration.js';
import type { AugurConfig } from './schema.js';
import type { ForecastConfig } from '../forecast/config.js';

/** The forecast settings of the base profile, then of each selector (which inherits the base's). */
export function forecastConfigs(config: AugurConfig): ForecastConfig[] {
  return [config.forecast, ...config.selectors.map((s) => s.forecast ?? config.forecast)];
}

/**
 * Every configured forecast horizon, in the order the config lists them and in the form of the
 * `horizon` label Augur exposes (`90m` -> `1h30m`), each once.
 */
export function configuredHorizons(configs: readonly ForecastConfig[]): string[] {
  const out = new Set<string>();
  for (const c of configs) for (const h of c.horizons) out.add(canonicalDuration(h));
  return [...out];
}
