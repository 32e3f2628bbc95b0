/**
 * Country → region (SPEC §3). Defaults follow where customers expect their data, by continent from
 * the `countries-list` package (no hand-kept country table): Europe (with the UK, the EEA and
 * Switzerland) and Africa → `eu`; North and South America → `us`; Asia and Oceania → `apac`, except
 * the Middle East, which is served from `eu`. Deployments override single countries and the region
 * for anything unmapped (README, "Regions").
 */
import { countries } from 'countries-list';

export const DEFAULT_REGIONS = ['eu', 'us', 'apac'] as const;

const CONTINENT_REGION: Record<string, string> = { EU: 'eu', AF: 'eu', NA: 'us', SA: 'us', AS: 'apac', OC: 'apac' };
const MIDDLE_EAST = ['AE', 'BH', 'CY', 'IL', 'IQ', 'IR', 'JO', 'KW', 'LB', 'OM', 'PS', 'QA', 'SA', 'SY', 'TR', 'YE', 'GE', 'AM', 'AZ'];

export function isCountryCode(code: string): boolean {
  return Object.hasOwn(countries, code);
}

export function defaultCountryRegions(): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [code, country] of Object.entries(countries)) {
    const region = CONTINENT_REGION[country.continent];
    if (region) map[code] = region;
  }
  for (const code of MIDDLE_EAST) map[code] = 'eu';
  return map;
}

export interface RegionMap {
  countries: Record<string, string>;
  /** Region for a valid country code that the map does not list (e.g. Antarctica). */
  fallback: string;
}

export function regionForCountry(map: RegionMap, country: string): string {
  return map.countries[country.toUpperCase()] ?? map.fallback;
}
