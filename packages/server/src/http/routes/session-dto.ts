import type { SessionRecord, UserRecord } from '../../domain/identity/identity-stores.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function toSignedInUser(user: UserRecord) {
  return { id: user.id, userName: user.userName, displayName: user.displayName, email: user.email };
}

/** A session as its user or an admin sees it: never its secret hash. */
export function toSessionDto(s: SessionRecord, currentSessionId: string | null) {
  return {
    id: s.id,
    method: s.method,
    mfaSatisfied: s.mfaSatisfied,
    createdAt: iso(s.createdAt),
    lastSeenAt: iso(s.lastSeenAt),
    expiresAt: iso(s.absoluteExpiresAt),
    ip: s.ip,
    userAgent: s.userAgent,
    current: s.id === currentSessionId,
  };
}
