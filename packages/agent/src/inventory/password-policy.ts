/**
 * The device's password state for the `requirePassword` compliance setting: whether a password is
 * required to sign in or unlock (`passwordRequired`), and what the password policy demands
 * (`passwordMinimumLength`, `passwordType`, see `PASSWORD_TYPES`). Only the policy and whether a
 * password is set are read, never a password or its hash. Read without privileges where the platform
 * allows, never prompting; each value is `null` when it cannot be told for certain.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PasswordType } from '@custos/shared';
import type { AgentPlatform } from '../agent-platform.js';
import { runCommand } from './run-command.js';

export interface PasswordState {
  passwordRequired: boolean | null;
  passwordMinimumLength: number | null;
  passwordType: PasswordType | null;
}

const UNKNOWN: PasswordState = { passwordRequired: null, passwordMinimumLength: null, passwordType: null };

/** The character classes a policy requires every password to contain, as a type. */
function typeOfClasses(classes: number, lettersAndDigits: boolean): PasswordType {
  if (classes >= 3) return 'complex';
  if (classes === 2 || lettersAndDigits) return 'alphanumeric';
  return 'numeric';
}

/** pwquality settings: `minlen`, `minclass` and the four `*credit` values. */
export type PwqualitySettings = Partial<Record<'minlen' | 'minclass' | 'dcredit' | 'ucredit' | 'lcredit' | 'ocredit', number>>;
const PWQUALITY_KEYS = new Set(['minlen', 'minclass', 'dcredit', 'ucredit', 'lcredit', 'ocredit']);

/** Parses `pwquality.conf` lines (`minlen = 12`); later lines win, `#` starts a comment. */
export function parsePwqualityConf(content: string, into: PwqualitySettings = {}): PwqualitySettings {
  for (const raw of content.split('\n')) {
    const match = /^\s*(\w+)\s*=\s*(-?\d+)\s*$/.exec(raw.replace(/#.*$/, ''));
    if (match && PWQUALITY_KEYS.has(match[1] ?? '')) into[match[1] as keyof PwqualitySettings] = Number(match[2]);
  }
  return into;
}

/**
 * The arguments of the active `password ... pam_pwquality.so` line of a PAM stack file
 * (`/etc/pam.d/common-password` on Debian and Ubuntu, `system-auth` on Fedora and RHEL), or
 * `undefined` when the stack does not use pam_pwquality. Arguments override the configuration file.
 */
export function pwqualityPamArguments(pamStack: string): PwqualitySettings | undefined {
  for (const raw of pamStack.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const match = /^-?password\s+(?:\[[^\]]*\]|\S+)\s+\S*pam_pwquality\.so\b(.*)$/.exec(line);
    if (!match) continue;
    const args: PwqualitySettings = {};
    for (const arg of (match[1] ?? '').trim().split(/\s+/)) {
      const [key, value] = arg.split('=');
      if (key !== undefined && PWQUALITY_KEYS.has(key) && value !== undefined && /^-?\d+$/.test(value)) {
        args[key as keyof PwqualitySettings] = Number(value);
      }
    }
    return args;
  }
  return undefined;
}

/** libpwquality's defaults (pwquality.conf(5)): what applies when neither the file nor PAM sets a value. */
const PWQUALITY_DEFAULTS = { minlen: 8, minclass: 0, dcredit: 0, ucredit: 0, lcredit: 0, ocredit: 0 };
/** pwquality refuses any password shorter than this, whatever `minlen` says. */
const PWQUALITY_FLOOR = 6;

/**
 * What pam_pwquality demands. A positive credit lets a password with that class be one character
 * shorter per credit, so the shortest accepted password is `minlen` less the positive credits (never
 * under pwquality's floor of 6); a negative credit requires that many characters of its class.
 */
export function pwqualityPolicy(settings: PwqualitySettings): Pick<PasswordState, 'passwordMinimumLength' | 'passwordType'> {
  const s = { ...PWQUALITY_DEFAULTS, ...settings };
  const credits = [s.dcredit, s.ucredit, s.lcredit, s.ocredit];
  const shortest = s.minlen - credits.filter((c) => c > 0).reduce((a, b) => a + b, 0);
  const required = credits.filter((c) => c < 0).length;
  const lettersAndDigits = s.dcredit < 0 && (s.ucredit < 0 || s.lcredit < 0);
  return {
    passwordMinimumLength: Math.max(shortest, PWQUALITY_FLOOR),
    passwordType: typeOfClasses(Math.max(s.minclass, required), lettersAndDigits),
  };
}

/**
 * From `/etc/passwd` and `/etc/shadow` (readable by root only): whether root and every person's
 * account (a UID from `uidMin`, below 65534) with a login shell need a password to sign in. An empty
 * password field lets the account in without one; a locked field (`!`, `*`) allows no password
 * sign-in at all. Only the emptiness of the field is looked at. `null` when an account is missing from
 * the shadow file, or there is none.
 */
export function accountsRequirePassword(passwd: string, shadow: string, uidMin = 1000): boolean | null {
  const people = new Set<string>();
  for (const line of passwd.split('\n')) {
    const [name, , uid, , , , shell] = line.split(':');
    const id = Number(uid);
    if (!name || !Number.isInteger(id) || (id !== 0 && (id < uidMin || id >= 65534))) continue;
    if (shell === undefined || /(nologin|false)$/.test(shell.trim())) continue;
    people.add(name);
  }
  let seen = 0;
  for (const line of shadow.split('\n')) {
    const [name, hash] = line.split(':');
    if (name === undefined || !people.has(name)) continue;
    seen++;
    if (hash === '') return false;
  }
  return seen > 0 && seen === people.size ? true : null;
}

/** `UID_MIN` of `/etc/login.defs`, the first UID of a person's account (1000 when not set). */
export function loginDefsUidMin(content: string): number {
  const value = /^\s*UID_MIN\s+(\d+)/m.exec(content)?.[1];
  return value === undefined ? 1000 : Number(value);
}

/**
 * Parses `pwpolicy -getaccountpolicies` (macOS, readable by any user): the global policies as a
 * property list. Minimum length from a `minimumLength` parameter or a `matches '.{N,}'` rule,
 * character classes from the `requiresAlpha`/`requiresNumeric`/`requiresSymbol`/`requiresMixedCase`
 * rules or their content. `null` values when the policies do not say (macOS's built-in rules apply).
 */
export function parsePwpolicy(output: string): Pick<PasswordState, 'passwordMinimumLength' | 'passwordType'> {
  if (!/<plist\b/.test(output)) return { passwordMinimumLength: null, passwordType: null };
  const lengths = [
    ...[...output.matchAll(/<key>minimumLength<\/key>\s*<integer>(\d+)<\/integer>/g)].map((m) => Number(m[1])),
    ...[...output.matchAll(/matches\s+'\.\{(\d+),\d*\}\+?'/g)].map((m) => Number(m[1])),
  ];
  const letters = /requiresAlpha|\[a-zA-Z\]|\[A-Za-z\]/.test(output);
  const digits = /requiresNumeric|\[0-9\]/.test(output);
  const symbols = /requiresSymbol|minComplexChars|\[\^a-zA-Z0-9\]|\[\^A-Za-z0-9\]/.test(output);
  const mixedCase = /requiresMixedCase/.test(output);
  const classes = [letters || mixedCase, digits, symbols, mixedCase].filter(Boolean).length;
  const anyRule = lengths.length > 0 || classes > 0;
  return {
    passwordMinimumLength: lengths.length > 0 ? Math.max(...lengths) : null,
    passwordType: anyRule ? typeOfClasses(classes, letters && digits) : null,
  };
}

/** Parses `net accounts` (Windows, readable by any user): "Minimum password length:   8". */
export function parseNetAccounts(output: string): number | null {
  const value = /^Minimum password length:?\s+(\d+)\s*$/im.exec(output)?.[1];
  return value === undefined ? null : Number(value);
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

const PAM_PASSWORD_STACKS = ['/etc/pam.d/common-password', '/etc/pam.d/system-auth', '/etc/pam.d/password-auth'];
const PWQUALITY_CONF = '/etc/security/pwquality.conf';

/** Linux: pam_pwquality's policy when the PAM stack uses it; accounts from /etc/shadow when root. */
export async function collectLinuxPasswordState(root = '/'): Promise<PasswordState> {
  const at = (path: string) => join(root, path);
  let policy: Pick<PasswordState, 'passwordMinimumLength' | 'passwordType'> = { passwordMinimumLength: null, passwordType: null };
  for (const stack of PAM_PASSWORD_STACKS) {
    const content = await readOptional(at(stack));
    const args = content === undefined ? undefined : pwqualityPamArguments(content);
    if (args === undefined) continue;
    const settings = parsePwqualityConf((await readOptional(at(PWQUALITY_CONF))) ?? '');
    const dropIns = await readdir(at(`${PWQUALITY_CONF}.d`)).catch(() => [] as string[]);
    for (const name of dropIns.filter((n) => n.endsWith('.conf')).sort()) {
      parsePwqualityConf((await readOptional(at(`${PWQUALITY_CONF}.d/${name}`))) ?? '', settings);
    }
    policy = pwqualityPolicy({ ...settings, ...args });
    break;
  }
  const [passwd, shadow, loginDefs] = await Promise.all([
    readOptional(at('/etc/passwd')),
    readOptional(at('/etc/shadow')),
    readOptional(at('/etc/login.defs')),
  ]);
  const passwordRequired =
    passwd === undefined || shadow === undefined ? null : accountsRequirePassword(passwd, shadow, loginDefsUidMin(loginDefs ?? ''));
  return { passwordRequired, ...policy };
}

export async function collectPasswordState(platform: AgentPlatform): Promise<PasswordState> {
  switch (platform) {
    case 'linux':
      return collectLinuxPasswordState();
    case 'macos': {
      const output = await runCommand('pwpolicy', ['-getaccountpolicies'], { timeoutMs: 10_000 });
      return output === undefined ? UNKNOWN : { ...UNKNOWN, ...parsePwpolicy(output) };
    }
    case 'windows': {
      // Complexity and whether an account has a password need an elevated process; the length does not.
      const output = await runCommand('net', ['accounts'], { timeoutMs: 10_000 });
      return { ...UNKNOWN, passwordMinimumLength: output === undefined ? null : parseNetAccounts(output) };
    }
  }
}
