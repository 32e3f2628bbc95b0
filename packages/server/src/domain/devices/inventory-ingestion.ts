/**
 * Turning a validated inventory into what is stored: the ownership rule applied on the server (the
 * trust anchor, whatever the agent sent) and apps keyed for delta updates.
 */
import { appKey, type AppInventoryScope, type AppRecord } from '@custos/shared';
import type { StoredApp } from './device-store.js';

/**
 * Apps to store: on a `managed-only` device every app Custos does not manage is dropped here, before
 * any write, so the store never holds a personal app. Duplicate keys keep their first record.
 */
export function appsToStore(apps: readonly AppRecord[], scope: AppInventoryScope): StoredApp[] {
  const seen = new Set<string>();
  const stored: StoredApp[] = [];
  for (const app of apps) {
    if (scope === 'managed-only' && app.managed !== true) continue;
    const key = appKey(app);
    if (seen.has(key)) continue;
    seen.add(key);
    stored.push({
      key,
      name: app.name,
      version: app.version ?? null,
      appId: app.appId ?? null,
      installLocation: app.installLocation ?? null,
      sizeBytes: app.sizeBytes ?? null,
      managed: app.managed ?? false,
    });
  }
  return stored;
}
