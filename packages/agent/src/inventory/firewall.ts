/**
 * Whether the host firewall is on: ufw, firewalld or nftables on Linux, the Application Firewall on
 * macOS, Windows Defender Firewall on Windows. Read without privileges where the platform allows,
 * never prompting. `null` whenever the answer is not certain: the `requireFirewall` compliance
 * setting decides on this field, and a wrong `false` is as harmful as a wrong `true`.
 */
import { readFile } from 'node:fs/promises';
import type { AgentPlatform } from '../agent-platform.js';
import { runCommand } from './run-command.js';

/** Parses `/etc/ufw/ufw.conf` (world-readable): `ENABLED=yes` starts ufw at boot and keeps it on. */
export function parseUfwConf(content: string): boolean | null {
  let enabled: boolean | null = null;
  for (const line of content.split('\n')) {
    const value = /^\s*ENABLED\s*=\s*["']?(\w+)["']?\s*$/i.exec(line)?.[1]?.toLowerCase();
    if (value === 'yes') enabled = true;
    else if (value === 'no') enabled = false;
  }
  return enabled;
}

export interface SystemdUnitState {
  /** The unit is installed. */
  loaded: boolean;
  active: boolean;
}

/**
 * Parses `systemctl show --property=LoadState,ActiveState <unit>`, which answers for any unit name
 * without privileges (`LoadState=not-found` when it is not installed).
 */
export function parseSystemctlShow(output: string): SystemdUnitState | null {
  const load = /^LoadState=(\S+)/m.exec(output)?.[1];
  const active = /^ActiveState=(\S+)/m.exec(output)?.[1];
  if (load === undefined || active === undefined) return null;
  return { loaded: load === 'loaded', active: active === 'active' };
}

interface NftChain {
  input: boolean;
  policy: string | undefined;
  rules: string[];
}

/**
 * True when an nftables ruleset (`nft list ruleset`, or a file `nft -f` loads) filters incoming
 * traffic: a chain on the `input` hook whose policy drops, or which drops or rejects something itself
 * or through the chains it jumps to. A ruleset of accept-only chains (the Debian default
 * `/etc/nftables.conf`, Docker's chains) filters nothing.
 */
export function nftRulesetFilters(ruleset: string): boolean {
  const chains = new Map<string, NftChain>();
  let table = '';
  let chain: NftChain | undefined;
  for (const raw of ruleset.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const tableMatch = /^table\s+(\S+(?:\s+\S+)?)\s*\{/.exec(line);
    if (tableMatch) {
      table = tableMatch[1] ?? '';
      chain = undefined;
      continue;
    }
    const chainMatch = /^chain\s+(\S+)\s*\{/.exec(line);
    if (chainMatch) {
      chain = { input: false, policy: undefined, rules: [] };
      chains.set(`${table} ${chainMatch[1] ?? ''}`, chain);
      continue;
    }
    if (!chain || line === '') continue;
    if (line === '}') {
      chain = undefined;
      continue;
    }
    if (/\bhook\s+input\b/.test(line)) {
      chain.input = true;
      chain.policy = /\bpolicy\s+(\w+)/.exec(line)?.[1];
    } else chain.rules.push(line);
  }
  const filters = (key: string, seen: Set<string>): boolean => {
    const c = chains.get(key);
    if (!c || seen.has(key)) return false;
    seen.add(key);
    if (c.policy === 'drop') return true;
    return c.rules.some((rule) => {
      if (/\b(drop|reject)\b/.test(rule)) return true;
      const target = /\b(?:jump|goto)\s+(\S+)/.exec(rule)?.[1];
      return target !== undefined && filters(`${key.slice(0, key.lastIndexOf(' '))} ${target}`, seen);
    });
  };
  return [...chains.entries()].some(([key, c]) => c.input && filters(key, new Set()));
}

/** What the Linux decision is made from; each part `null`/`undefined` when it could not be read. */
export interface LinuxFirewallFacts {
  /** `/etc/ufw/ufw.conf`; null when ufw is not installed. */
  ufwEnabled: boolean | null;
  firewalld: SystemdUnitState | null;
  nftablesService: SystemdUnitState | null;
  /** `/etc/nftables.conf`, what `nftables.service` loads on Debian and Ubuntu. */
  nftablesConf: string | undefined;
  /** `nft list ruleset`: needs CAP_NET_ADMIN, so only an agent running as root has it. */
  ruleset: string | undefined;
}

/**
 * On when the live ruleset filters input, ufw is enabled, firewalld runs, or nftables.service has
 * loaded a configuration that filters. Off when the live ruleset could be read and filters nothing,
 * or when a firewall front end is installed and off and none other runs. Otherwise not known (an
 * unprivileged agent on a machine with no front end it recognises).
 */
export function linuxFirewallEnabled(f: LinuxFirewallFacts): boolean | null {
  if (f.ruleset !== undefined && nftRulesetFilters(f.ruleset)) return true;
  if (f.ufwEnabled === true || f.firewalld?.active === true) return true;
  if (f.nftablesService?.active === true && f.nftablesConf !== undefined && nftRulesetFilters(f.nftablesConf)) return true;
  if (f.ruleset !== undefined) return false;
  // nftables.service ran, but its configuration could not be read or understood: it may filter.
  if (f.nftablesService?.active === true) return null;
  if (f.ufwEnabled === false || f.firewalld?.loaded === true || f.nftablesService?.loaded === true) return false;
  return null;
}

/**
 * Parses `/usr/libexec/ApplicationFirewall/socketfilterfw --getglobalstate`: "Firewall is enabled.
 * (State = 1)", "(State = 2)" when blocking all incoming connections, "Firewall is disabled. (State = 0)".
 */
export function parseSocketfilterfwState(output: string): boolean | null {
  const state = /\(State\s*=\s*(\d+)\)/.exec(output)?.[1];
  if (state !== undefined) return state !== '0';
  if (/Firewall is (enabled|blocking)/i.test(output)) return true;
  if (/Firewall is disabled/i.test(output)) return false;
  return null;
}

/**
 * Parses `netsh advfirewall show allprofiles state` (readable by any user): on only when every
 * profile (domain, private, public) is on, since the device may join a network of any of them.
 */
export function parseNetshFirewallState(output: string): boolean | null {
  const states = [...output.matchAll(/^\s*State\s+(ON|OFF)\s*$/gim)].map((m) => m[1]?.toUpperCase());
  if (states.length === 0) return null;
  return states.every((s) => s === 'ON');
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function unitState(unit: string): Promise<SystemdUnitState | null> {
  const output = await runCommand('systemctl', ['show', '--property=LoadState,ActiveState', unit], { timeoutMs: 10_000 });
  return output === undefined ? null : parseSystemctlShow(output);
}

export async function collectLinuxFirewallFacts(): Promise<LinuxFirewallFacts> {
  const [ufwConf, firewalld, nftablesService, nftablesConf, ruleset] = await Promise.all([
    readOptional('/etc/ufw/ufw.conf'),
    unitState('firewalld.service'),
    unitState('nftables.service'),
    readOptional('/etc/nftables.conf'),
    runCommand('nft', ['list', 'ruleset'], { timeoutMs: 10_000 }),
  ]);
  return { ufwEnabled: ufwConf === undefined ? null : parseUfwConf(ufwConf), firewalld, nftablesService, nftablesConf, ruleset };
}

export async function collectFirewall(platform: AgentPlatform): Promise<boolean | null> {
  switch (platform) {
    case 'linux':
      return linuxFirewallEnabled(await collectLinuxFirewallFacts());
    case 'macos': {
      const output = await runCommand('/usr/libexec/ApplicationFirewall/socketfilterfw', ['--getglobalstate'], { timeoutMs: 10_000 });
      return output === undefined ? null : parseSocketfilterfwState(output);
    }
    case 'windows': {
      const output = await runCommand('netsh', ['advfirewall', 'show', 'allprofiles', 'state'], { timeoutMs: 10_000 });
      return output === undefined ? null : parseNetshFirewallState(output);
    }
  }
}
