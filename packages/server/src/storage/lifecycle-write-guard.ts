/**
 * The one place the subscription state limits writes (SPEC §9): a Kysely plugin on the region store
 * handle `Storage.openTenantData` gives a tenant that is not `active`/`warning`. Every write of every
 * path — admin API, Company Portal, device check-ins, SCIM, jobs, the CLI — is a Kysely query through
 * that handle, so none can pass it, and a refused statement throws before it reaches the database
 * (inside a transaction, the whole transaction rolls back: nothing changes).
 *
 * - `suspended`: no new enrollments — inserting a device or an enrollment token is refused
 *   (`tenant-suspended`); everything else works.
 * - `retention`: read-only — every INSERT/UPDATE/DELETE/MERGE is refused (`tenant-read-only`) except
 *   the bookkeeping that lets people sign in to read and export, and the audit log that records it.
 */
import {
  type KyselyPlugin,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
import { DomainError } from '../domain/domain-error.js';
import type { SubscriptionState } from '../domain/tenants/tenant.js';

/**
 * What a tenant in retention may still write: the audit chain (reads and exports are audited),
 * sign-in state (sessions, throttles, second-factor counters, SSO login state), operator lockbox
 * requests, export jobs — and, update only, `users` (last sign-in, password reset) and the tokens'
 * last-use time. Admin changes to users are refused before they reach here by the admin API's
 * retention check (http/plugins/lifecycle-guard.ts).
 */
export const WRITABLE_IN_RETENTION: ReadonlyMap<string, 'any' | 'update'> = new Map([
  ['audit_events', 'any'],
  ['audit_chain_heads', 'any'],
  ['user_sessions', 'any'],
  ['sign_in_throttles', 'any'],
  ['user_totp', 'any'],
  ['user_recovery_codes', 'any'],
  ['user_passkeys', 'any'],
  ['webauthn_challenges', 'any'],
  ['oidc_login_states', 'any'],
  ['password_reset_tokens', 'any'],
  ['lockbox_requests', 'any'],
  ['tenant_exports', 'any'],
  ['users', 'update'],
  ['api_tokens', 'update'],
  ['scim_tokens', 'update'],
]);

function writableInRetention(verb: string, table: string | undefined): boolean {
  const allowed = table === undefined ? undefined : WRITABLE_IN_RETENTION.get(table);
  return allowed === 'any' || (allowed === 'update' && verb === 'update');
}

/** What a suspended tenant may not create. */
const ENROLLMENT_TABLES: ReadonlySet<string> = new Set(['devices', 'enrollment_tokens']);

function tableName(node: OperationNode | undefined): string | undefined {
  if (!node) return undefined;
  if (node.kind === 'TableNode') return (node as unknown as { table: { identifier: { name: string } } }).table.identifier.name;
  if (node.kind === 'AliasNode') return tableName((node as unknown as { node: OperationNode }).node);
  return undefined;
}

/**
 * The statement's kind and target table, for writes; undefined for reads. Anything that is neither a
 * query builder's read nor a recognised write — raw SQL other than a SELECT, DDL — counts as a write
 * to an unknown table, so it is refused in retention (fail closed).
 */
function writeTarget(node: RootOperationNode): { verb: string; table: string | undefined } | undefined {
  if (node.kind === 'SelectQueryNode') return undefined;
  if (node.kind === 'InsertQueryNode') return { verb: 'insert', table: tableName(node.into) };
  if (node.kind === 'UpdateQueryNode') return { verb: 'update', table: tableName(node.table) };
  if (node.kind === 'DeleteQueryNode') return { verb: 'delete', table: tableName(node.from.froms[0]) };
  if (node.kind === 'MergeQueryNode') return { verb: 'merge', table: tableName(node.into) };
  if (node.kind === 'RawNode' && /^\s*(select|with)\b/i.test(node.sqlFragments[0] ?? '')) return undefined;
  return { verb: 'other', table: undefined };
}

export class LifecycleWriteGuard implements KyselyPlugin {
  constructor(
    private readonly tenantId: string,
    private readonly state: SubscriptionState,
  ) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const write = writeTarget(args.node);
    if (!write) return args.node;
    if (this.state === 'suspended' && write.verb === 'insert' && write.table !== undefined && ENROLLMENT_TABLES.has(write.table)) {
      throw new DomainError(
        'tenant-suspended',
        `The subscription of tenant ${this.tenantId} is suspended: no new devices can enroll until it is renewed. Enrolled devices keep working.`,
      );
    }
    if (this.state === 'retention' && !writableInRetention(write.verb, write.table)) {
      throw new DomainError(
        'tenant-read-only',
        `Tenant ${this.tenantId} is in retention: its data can be read and exported but not changed until the subscription is renewed.`,
      );
    }
    return args.node;
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}

/** The guard for a tenant in `state`, or undefined when the state limits nothing. */
export function lifecycleWriteGuard(tenantId: string, state: SubscriptionState): LifecycleWriteGuard | undefined {
  return state === 'suspended' || state === 'retention' ? new LifecycleWriteGuard(tenantId, state) : undefined;
}
