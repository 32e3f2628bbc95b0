/**
 * Texts for the people whose devices are managed, generated from the privacy catalog so they say
 * exactly what Custos stores: the agent's consent text now, the Company Portal's "What your
 * organization can see" later.
 */
import type { Ownership, Platform } from './platforms.js';
import { HARDWARE_FIELDS, PROHIBITED_CATEGORIES, appInventoryScopeReason } from './privacy-catalog.js';
import { DEFAULT_EXPORT_ARCHIVE_DAYS, retentionRules } from './retention.js';

export interface CollectionStatement {
  collected: { name: string; label: string; purpose: string }[];
  apps: string;
  neverCollected: string[];
  /** How long what is collected is kept (shared/src/retention.ts); absent from older servers. */
  retention?: string[];
}

/** `exportArchiveDays`: the deployment's export archive lifetime (the server's CUSTOS_EXPORT_ARCHIVE_DAYS). */
export function describeCollection(
  ownership: Ownership,
  platform: Platform | undefined,
  appListPolicyApplies: boolean,
  exportArchiveDays: number = DEFAULT_EXPORT_ARCHIVE_DAYS,
): CollectionStatement {
  const collected = HARDWARE_FIELDS.filter((f) => platform === undefined || f.platforms.includes(platform)).map((f) => ({
    name: f.name,
    label: f.label,
    purpose: f.purpose,
  }));
  return {
    collected,
    apps: appInventoryScopeReason(ownership, platform ?? 'linux', appListPolicyApplies),
    neverCollected: PROHIBITED_CATEGORIES.map((c) => c.label),
    retention: retentionRules(exportArchiveDays).map((r) => r.description),
  };
}

/** The statement as plain text, as the agent prints it before asking for consent. */
export function collectionStatementText(tenantName: string, statement: CollectionStatement): string {
  const lines = [`${tenantName} will be able to see:`];
  for (const f of statement.collected) lines.push(`  - ${f.label}: ${f.purpose}`);
  lines.push(`Apps: ${statement.apps}`);
  lines.push(`${tenantName} can never see: ${statement.neverCollected.join(', ')}.`);
  if (statement.retention?.length) lines.push('How long it is kept:', ...statement.retention.map((r) => `  - ${r}`));
  return lines.join('\n');
}
