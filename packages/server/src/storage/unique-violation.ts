/**
 * Whether a driver error is a uniqueness (or primary key) violation: PostgreSQL's SQLSTATE 23505,
 * better-sqlite3's extended result codes for the same constraints.
 */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
