/**
 * Compliance policy settings and their evaluation (SPEC §6). Pure: the server evaluates a device's
 * stored inventory against the policies assigned to it, and the portals render the same reasons.
 * Every setting yields its own result with a reason a person can act on ("OS 11.2 is below the
 * required 12.0"); a value the device has not reported yields `unknown`, never a guess.
 */
import type { HardwareInventory } from './inventory.js';
import type { ComplianceState } from './platforms.js';
import { PASSWORD_TYPES, type PasswordType } from './privacy-catalog.js';

/**
 * What `requirePassword` asks for. The setting's presence requires a password to unlock the device;
 * `minimumLength` and `type` add what the device's password policy must demand at least (a policy
 * that demands more passes; see `PASSWORD_TYPES` for the order of the types).
 */
export interface PasswordRequirement {
  minimumLength?: number;
  type?: PasswordType;
}

export interface ComplianceSettings {
  requireEncryption?: boolean;
  minimumOsVersion?: string;
  maximumOsVersion?: string;
  blockJailbroken?: boolean;
  /** App ids (or names) that must not be installed. */
  appDenyList?: string[];
  /** When set, every installed app must be on this list (ids or names). */
  appAllowList?: string[];
  maxDaysSinceCheckIn?: number;
  requirePassword?: PasswordRequirement;
  /** When true, the device's firewall must be on. */
  requireFirewall?: boolean;
}

export type SettingName = keyof ComplianceSettings;
export type SettingStatus = 'compliant' | 'noncompliant' | 'unknown';

export interface SettingResult {
  setting: SettingName;
  status: SettingStatus;
  reason: string;
}

export interface ComplianceInput {
  hardware: HardwareInventory;
  /** App ids and names of the stored apps (only what the ownership rule let the server keep). */
  apps: readonly { name: string; appId: string | null }[];
  lastCheckInAt: number | null;
  now: number;
}

/** True when a policy with these settings needs the device's full app list (SPEC §4). */
export function needsFullAppInventory(settings: ComplianceSettings): boolean {
  return (settings.appDenyList?.length ?? 0) > 0 || (settings.appAllowList?.length ?? 0) > 0;
}

/**
 * Compares dotted versions numerically, part by part ("12.10" > "12.9"); text after the numbers
 * ("22.04.4 LTS") is ignored. Returns undefined when either has no leading number.
 */
export function compareVersions(a: string, b: string): number | undefined {
  const parse = (v: string) => /^\s*v?(\d+(?:\.\d+)*)/i.exec(v)?.[1]?.split('.').map(Number);
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return undefined;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const DAY = 24 * 60 * 60 * 1000;

function result(setting: SettingName, status: SettingStatus, reason: string): SettingResult {
  return { setting, status, reason };
}

/** Evaluates every configured setting of one policy. Settings left undefined are not evaluated. */
export function evaluateSettings(settings: ComplianceSettings, input: ComplianceInput): SettingResult[] {
  const results: SettingResult[] = [];
  const h = input.hardware;
  if (settings.requireEncryption) {
    const encrypted = h['encrypted'];
    results.push(
      encrypted === true
        ? result('requireEncryption', 'compliant', 'The device storage is encrypted.')
        : encrypted === false
          ? result('requireEncryption', 'noncompliant', 'The device storage is not encrypted; turn on disk encryption.')
          : result('requireEncryption', 'unknown', 'The device has not reported whether its storage is encrypted.'),
    );
  }
  const os = typeof h['osVersion'] === 'string' ? h['osVersion'] : null;
  for (const [setting, limit, below] of [
    ['minimumOsVersion', settings.minimumOsVersion, true],
    ['maximumOsVersion', settings.maximumOsVersion, false],
  ] as const) {
    if (limit === undefined) continue;
    const cmp = os === null ? undefined : compareVersions(os, limit);
    if (cmp === undefined)
      results.push(
        result(
          setting,
          'unknown',
          os === null ? 'The device has not reported its OS version.' : `OS version "${os}" cannot be compared with ${limit}.`,
        ),
      );
    else if (below ? cmp < 0 : cmp > 0)
      results.push(result(setting, 'noncompliant', `OS ${os} is ${below ? 'below the required' : 'above the allowed'} ${limit}.`));
    else results.push(result(setting, 'compliant', `OS ${os} is ${below ? 'at or above' : 'at or below'} ${limit}.`));
  }
  if (settings.blockJailbroken) {
    const jailBroken = h['jailBroken'];
    results.push(
      jailBroken === false
        ? result('blockJailbroken', 'compliant', 'The device is not jailbroken or rooted.')
        : jailBroken === true
          ? result('blockJailbroken', 'noncompliant', 'The device is jailbroken or rooted.')
          : result('blockJailbroken', 'unknown', 'The device has not reported its jailbreak or root status.'),
    );
  }
  const matches = (list: readonly string[], app: { name: string; appId: string | null }) =>
    list.includes(app.name) || (app.appId !== null && list.includes(app.appId));
  if (settings.appDenyList && settings.appDenyList.length > 0) {
    const found = input.apps.filter((a) => matches(settings.appDenyList ?? [], a)).map((a) => a.name);
    results.push(
      found.length > 0
        ? result(
            'appDenyList',
            'noncompliant',
            `Blocked apps are installed: ${found.slice(0, 5).join(', ')}${found.length > 5 ? ` and ${found.length - 5} more` : ''}.`,
          )
        : result('appDenyList', 'compliant', 'No blocked app is installed.'),
    );
  }
  if (settings.appAllowList && settings.appAllowList.length > 0) {
    const extra = input.apps.filter((a) => !matches(settings.appAllowList ?? [], a)).map((a) => a.name);
    results.push(
      extra.length > 0
        ? result(
            'appAllowList',
            'noncompliant',
            `Apps not on the allowed list are installed: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''}.`,
          )
        : result('appAllowList', 'compliant', 'Every installed app is on the allowed list.'),
    );
  }
  if (settings.maxDaysSinceCheckIn !== undefined) {
    if (input.lastCheckInAt === null) results.push(result('maxDaysSinceCheckIn', 'unknown', 'The device has never checked in.'));
    else {
      const days = Math.floor((input.now - input.lastCheckInAt) / DAY);
      results.push(
        days > settings.maxDaysSinceCheckIn
          ? result(
              'maxDaysSinceCheckIn',
              'noncompliant',
              `The device last checked in ${days} days ago; at most ${settings.maxDaysSinceCheckIn} are allowed.`,
            )
          : result('maxDaysSinceCheckIn', 'compliant', `The device checked in ${days === 0 ? 'today' : `${days} day(s) ago`}.`),
      );
    }
  }
  if (settings.requirePassword !== undefined) results.push(evaluatePassword(settings.requirePassword, h));
  if (settings.requireFirewall) {
    const firewall = h['firewallEnabled'];
    results.push(
      firewall === true
        ? result('requireFirewall', 'compliant', 'The firewall is on.')
        : firewall === false
          ? result('requireFirewall', 'noncompliant', 'The firewall is off; turn it on.')
          : result('requireFirewall', 'unknown', 'The device has not reported whether its firewall is on.'),
    );
  }
  return results;
}

const characters = (n: number) => `${n} character${n === 1 ? '' : 's'}`;

/**
 * One result for the whole requirement: noncompliant when any part the device reported fails (each
 * failing part named), unknown when nothing fails but a part was not reported, else compliant.
 */
function evaluatePassword(requirement: PasswordRequirement, h: HardwareInventory): SettingResult {
  const failures: string[] = [];
  const unreported: string[] = [];
  const required = h['passwordRequired'];
  if (required === false) failures.push('A password is required to unlock this device; none is set.');
  else if (required !== true) unreported.push('whether a password is required to unlock it');
  const length = h['passwordMinimumLength'];
  if (requirement.minimumLength !== undefined) {
    if (typeof length !== 'number') unreported.push('its minimum password length');
    else if (length < requirement.minimumLength)
      failures.push(`The password policy allows ${characters(length)}; at least ${requirement.minimumLength} are required.`);
  }
  const type = h['passwordType'];
  const rank = (t: unknown) => PASSWORD_TYPES.indexOf(t as PasswordType);
  if (requirement.type !== undefined) {
    if (rank(type) < 0) unreported.push('which kind of password it requires');
    else if (rank(type) < rank(requirement.type))
      failures.push(`The password policy allows ${String(type)} passwords; ${requirement.type} ones are required.`);
  }
  if (failures.length > 0) return result('requirePassword', 'noncompliant', failures.join(' '));
  if (unreported.length > 0) return result('requirePassword', 'unknown', `The device has not reported ${unreported.join(', nor ')}.`);
  const demands = [
    typeof length === 'number' && requirement.minimumLength !== undefined ? `at least ${characters(length)}` : undefined,
    requirement.type !== undefined ? `${String(type)} passwords` : undefined,
  ].filter((d) => d !== undefined);
  return result(
    'requirePassword',
    'compliant',
    `A password is required to unlock this device${demands.length > 0 ? `; its policy demands ${demands.join(' and ')}` : ''}.`,
  );
}

/** Severity order for combining results: the most severe state wins (SPEC §6). */
const SEVERITY: Record<ComplianceState, number> = { compliant: 0, unknown: 1, inGracePeriod: 2, noncompliant: 3, error: 4 };

export function mostSevere(states: readonly ComplianceState[], whenNone: ComplianceState): ComplianceState {
  return (
    states.reduce<ComplianceState | undefined>(
      (worst, s) => (worst === undefined || SEVERITY[s] > SEVERITY[worst] ? s : worst),
      undefined,
    ) ?? whenNone
  );
}

/** The state one policy's results give: noncompliant beats unknown beats compliant. */
export function stateOfResults(results: readonly SettingResult[]): ComplianceState {
  if (results.some((r) => r.status === 'noncompliant')) return 'noncompliant';
  if (results.some((r) => r.status === 'unknown')) return 'unknown';
  return 'compliant';
}
