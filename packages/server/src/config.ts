/**
 * Configuration: defaults, then an optional JSON file (`--config FILE` or CUSTOS_CONFIG), then
 * environment variables, then command-line flags. Validated once here; the rest of the code gets
 * a typed, complete object. Every key is documented in README.md ("Configuration").
 */
import { lifecycleDurationsFrom, type LifecycleDurations } from './domain/lifecycle/lifecycle.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_REGIONS, defaultCountryRegions, type RegionMap } from './domain/tenants/region-map.js';
import { DEFAULT_MAIL_FROM, isSmtpUrl } from './mail/smtp-mailer.js';
import type { StorageConfig } from './storage/storage.js';
import { DEFAULT_EXPORT_JOB_OPTIONS, type ExportJobOptions } from './domain/export/export-job-store.js';

export interface CustosConfig {
  port: number;
  host: string;
  dataDir: string;
  logLevel: string;
  trustProxy: boolean;
  bodyLimitBytes: number;
  regions: string[];
  regionMap: RegionMap;
  storage: StorageConfig;
  /** How often the job scheduler of `custos serve` looks for due jobs (CUSTOS_JOB_INTERVAL_SECONDS). */
  jobIntervalSeconds: number;
  /** `smtp://user:pass@host:587` or `smtps://…`; undefined: no mail is sent (CUSTOS_SMTP_URL). Never logged. */
  smtpUrl: string | undefined;
  /** The From address of every message (CUSTOS_MAIL_FROM). */
  mailFrom: string;
  /**
   * Where people reach this deployment (CUSTOS_PUBLIC_URL, default `http://127.0.0.1:<port>`): the
   * origin passkeys are bound to and the base of links in emails. No trailing slash.
   */
  publicUrl: string;
  /** Subscription lifecycle durations in days (CUSTOS_LIFECYCLE_*; domain/lifecycle/lifecycle.ts). */
  lifecycle: LifecycleDurations;
  /**
   * Apple MDM: believe the RFC 9440 `Client-Cert` header (CUSTOS_APPLE_MDM_TRUST_CLIENT_CERT=true) —
   * only behind a TLS proxy that verifies client certificates and overwrites the header.
   */
  appleMdmTrustClientCert: boolean;
  /** The APNs endpoint (CUSTOS_APNS_URL, default Apple's production `https://api.push.apple.com`). */
  apnsUrl: string;
  /** Background exports (domain/export/): archive lifetime and the heartbeat bound (CUSTOS_EXPORT_*). */
  exportJobs: ExportJobOptions;
}

interface ConfigFile {
  port?: number;
  host?: string;
  dataDir?: string;
  logLevel?: string;
  trustProxy?: boolean;
  bodyLimitBytes?: number;
  regions?: string[];
  countryRegions?: Record<string, string>;
  defaultRegion?: string;
  database?: { kind?: 'sqlite' | 'postgres'; directoryUrl?: string; regionUrls?: Record<string, string>; maxConnections?: number };
  jobIntervalSeconds?: number;
  smtpUrl?: string;
  mailFrom?: string;
  publicUrl?: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses `a=x,b=y` (used for region → URL and country → region maps in environment variables). */
function parsePairs(text: string, what: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${what}: "${part}" is not NAME=VALUE.`);
    pairs[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return pairs;
}

function parsePort(text: string | number, source: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${source}: "${text}" is not a TCP port.`);
  return port;
}

function readConfigFile(path: string): ConfigFile {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ConfigFile;
  } catch (error) {
    throw new ConfigError(`Cannot read the configuration file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export interface ConfigOverrides {
  configFile?: string;
  port?: string | number;
  host?: string;
  dataDir?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): CustosConfig {
  const filePath = overrides.configFile ?? env['CUSTOS_CONFIG'];
  const file: ConfigFile = filePath ? readConfigFile(filePath) : {};

  const regions = (
    env['CUSTOS_REGIONS']
      ?.split(',')
      .map((r) => r.trim())
      .filter(Boolean) ??
    file.regions ?? [...DEFAULT_REGIONS]
  ).map((r) => r.toLowerCase());
  for (const r of regions)
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(r)) throw new ConfigError(`Region name "${r}" must be lower-case letters, digits and dashes.`);
  const overridden = { ...(file.countryRegions ?? {}), ...parsePairs(env['CUSTOS_COUNTRY_REGIONS'] ?? '', 'CUSTOS_COUNTRY_REGIONS') };
  const fallback = (env['CUSTOS_DEFAULT_REGION'] ?? file.defaultRegion ?? (regions.includes('us') ? 'us' : regions[0]))?.toLowerCase();
  if (!fallback || !regions.includes(fallback))
    throw new ConfigError(`The default region "${fallback ?? ''}" is not in the region list (${regions.join(', ')}).`);
  for (const [country, region] of Object.entries(overridden)) {
    if (!regions.includes(region))
      throw new ConfigError(`Country ${country} maps to region "${region}", which is not in the region list (${regions.join(', ')}).`);
  }
  // Countries whose default region this deployment does not run go to the fallback region.
  const countries: Record<string, string> = {};
  for (const [country, region] of Object.entries(defaultCountryRegions()))
    countries[country] = regions.includes(region) ? region : fallback;
  for (const [country, region] of Object.entries(overridden)) countries[country.toUpperCase()] = region;

  const dataDir = resolve(overrides.dataDir ?? env['CUSTOS_DATA_DIR'] ?? file.dataDir ?? './data');
  const kind: string = env['CUSTOS_DATABASE'] ?? file.database?.kind ?? 'sqlite';
  let storage: StorageConfig;
  if (kind === 'sqlite') {
    storage = { kind: 'sqlite', dataDir };
  } else if (kind === 'postgres') {
    const directoryUrl = env['CUSTOS_DIRECTORY_DATABASE_URL'] ?? file.database?.directoryUrl;
    const regionUrls = env['CUSTOS_REGION_DATABASE_URLS']
      ? parsePairs(env['CUSTOS_REGION_DATABASE_URLS'], 'CUSTOS_REGION_DATABASE_URLS')
      : (file.database?.regionUrls ?? {});
    if (!directoryUrl)
      throw new ConfigError('CUSTOS_DATABASE=postgres needs CUSTOS_DIRECTORY_DATABASE_URL (the global directory database).');
    for (const r of regions)
      if (!regionUrls[r])
        throw new ConfigError(`CUSTOS_DATABASE=postgres needs a database for region "${r}" in CUSTOS_REGION_DATABASE_URLS.`);
    storage = {
      kind: 'postgres',
      directoryUrl,
      regionUrls,
      maxConnections: file.database?.maxConnections ?? Number(env['CUSTOS_DATABASE_MAX_CONNECTIONS'] ?? 10),
      keyDir: dataDir,
    };
  } else {
    throw new ConfigError(`CUSTOS_DATABASE must be "sqlite" or "postgres", not "${kind}".`);
  }

  const bodyLimitBytes = Number(env['CUSTOS_BODY_LIMIT_BYTES'] ?? file.bodyLimitBytes ?? 8 * 1024 * 1024);
  if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes < 1024)
    throw new ConfigError('CUSTOS_BODY_LIMIT_BYTES must be a whole number of at least 1024.');

  const jobIntervalSeconds = Number(env['CUSTOS_JOB_INTERVAL_SECONDS'] ?? file.jobIntervalSeconds ?? 60);
  if (!Number.isInteger(jobIntervalSeconds) || jobIntervalSeconds < 1 || jobIntervalSeconds > 86_400)
    throw new ConfigError('CUSTOS_JOB_INTERVAL_SECONDS must be a whole number of seconds from 1 to 86400.');
  const smtpUrl = (env['CUSTOS_SMTP_URL'] ?? file.smtpUrl) || undefined;
  // The URL carries the SMTP password: the message names the setting, never the value.
  if (smtpUrl !== undefined && !isSmtpUrl(smtpUrl))
    throw new ConfigError('CUSTOS_SMTP_URL must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587.');
  const mailFrom = env['CUSTOS_MAIL_FROM'] ?? file.mailFrom ?? DEFAULT_MAIL_FROM;
  const port = parsePort(overrides.port ?? env['PORT'] ?? file.port ?? 8080, 'PORT');
  const publicUrl = (env['CUSTOS_PUBLIC_URL'] ?? file.publicUrl ?? `http://127.0.0.1:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(publicUrl) || !URL.canParse(publicUrl))
    throw new ConfigError(`CUSTOS_PUBLIC_URL must be an http:// or https:// URL without query or fragment, not "${publicUrl}".`);

  return {
    port,
    host: overrides.host ?? env['HOST'] ?? file.host ?? '127.0.0.1',
    dataDir,
    logLevel: env['CUSTOS_LOG_LEVEL'] ?? file.logLevel ?? 'info',
    trustProxy: (env['CUSTOS_TRUST_PROXY'] ?? String(file.trustProxy ?? false)) === 'true',
    bodyLimitBytes,
    regions,
    regionMap: { countries, fallback },
    storage,
    jobIntervalSeconds,
    smtpUrl,
    mailFrom,
    publicUrl,
    lifecycle: lifecycleDurations(env),
    appleMdmTrustClientCert: env['CUSTOS_APPLE_MDM_TRUST_CLIENT_CERT'] === 'true',
    apnsUrl: env['CUSTOS_APNS_URL'] ?? 'https://api.push.apple.com',
    exportJobs: {
      archiveLifetimeDays: wholeNumber(env, 'CUSTOS_EXPORT_ARCHIVE_DAYS', DEFAULT_EXPORT_JOB_OPTIONS.archiveLifetimeDays, 1, 3650),
      staleAfterSeconds: wholeNumber(env, 'CUSTOS_EXPORT_STALE_SECONDS', DEFAULT_EXPORT_JOB_OPTIONS.staleAfterSeconds, 30, 86_400),
    },
  };
}

/** A whole-number setting from the environment within [min, max], or its default when unset. */
function wholeNumber(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}.`);
  return value;
}

function lifecycleDurations(env: Readonly<Record<string, string | undefined>>): LifecycleDurations {
  try {
    return lifecycleDurationsFrom(env);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}
