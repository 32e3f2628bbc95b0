/**
 * Bearer secrets (API tokens, enrollment tokens). They carry their tenant id so a request can be
 * routed to the tenant's region before the secret is checked, and 256 random bits so a plain
 * SHA-256 is the right hash for storage (a slow password hash protects low-entropy secrets; these
 * are not).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type SecretKind = 'api' | 'enr' | 'ses' | 'scim' | 'rst';

export function newSecret(kind: SecretKind, tenantId: string): { secret: string; hash: string } {
  const secret = `custos_${kind}_${tenantId}_${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** The tenant id inside a well-formed secret of `kind`, or undefined. */
export function tenantOfSecret(kind: SecretKind, secret: string): string | undefined {
  const prefix = `custos_${kind}_`;
  if (!secret.startsWith(prefix) || secret.length !== prefix.length + 36 + 1 + 43) return undefined;
  const tenantId = secret.slice(prefix.length, prefix.length + 36);
  return UUID.test(tenantId) && secret[prefix.length + 36] === '_' ? tenantId : undefined;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
