/**
 * Firmware and OS tools fill fields they cannot report with placeholders ("To Be Filled By
 * O.E.M.", "System Serial Number", "-"). Sending those would put invented facts into the
 * inventory, so they become `null`: the catalog's way of saying "this platform cannot tell".
 */
import type { HardwareValue } from '@custos/shared';

const PLACEHOLDERS = new Set(
  [
    '-',
    '--',
    '0',
    'n/a',
    'na',
    'none',
    'null',
    'undefined',
    'unknown',
    'not specified',
    'not applicable',
    'not available',
    'not present',
    'default string',
    'to be filled by o.e.m.',
    'to be filled by oem',
    'o.e.m.',
    'oem',
    'system serial number',
    'system product name',
    'system manufacturer',
    'system version',
    'chassis serial number',
    'base board serial number',
    'serial number',
    'invalid',
    '0123456789',
    '123456789',
  ].map((p) => p.toLowerCase()),
);

/** Maps empty strings and well-known placeholders to `null`; trims every other string. */
export function normalizeReportedValue(value: unknown): HardwareValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (trimmed === '' || PLACEHOLDERS.has(trimmed.toLowerCase())) return null;
  // Serial fields of unprogrammed boards are often a run of zeros of any length.
  if (/^0+$/.test(trimmed)) return null;
  return trimmed;
}

/** `normalizeReportedValue` for fields that must be strings. */
export function normalizeReportedString(value: unknown): string | null {
  const normalized = normalizeReportedValue(value);
  return typeof normalized === 'string' ? normalized : null;
}
