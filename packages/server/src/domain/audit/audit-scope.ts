/**
 * Keeps count of the audit events appended while one request is handled, so the HTTP layer can
 * check the rule "every admin write leaves an audit event" on every request, not only where a test
 * thought to look (http/plugins/audit-guard.ts). The store counts each append; nothing else uses it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface AuditCounter {
  appended: number;
}

const scope = new AsyncLocalStorage<AuditCounter>();

/** Runs `work` with a fresh counter that every audit append inside it increments. */
export function countingAudit<T>(counter: AuditCounter, work: () => T): T {
  return scope.run(counter, work);
}

/** Called by the audit store for each appended event. */
export function noteAuditAppended(): void {
  const counter = scope.getStore();
  if (counter) counter.appended++;
}
