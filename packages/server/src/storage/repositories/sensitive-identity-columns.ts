/**
 * The identity columns stored encrypted with the tenant's data key (region migration 0016): a
 * user's user name (usually an email address), email address and phone number (the catalog's
 * `userEmail` and `userPhone`), and the user email an enrollment token or a served Apple enrollment
 * profile is bound to. User names and emails are looked up through keyed hashes of the lower-cased
 * value (sign-in, SCIM filters, the unique user name of a tenant); the others are never searched.
 */
import type { SealedColumns } from './sealed-columns.js';

export type SensitiveUserColumn = 'user_name' | 'email' | 'phone';

export const USER_COLUMNS: SealedColumns<SensitiveUserColumn> = {
  table: 'users',
  columns: ['user_name', 'email', 'phone'],
  hashes: { user_name: 'user_name_hash', email: 'email_hash' },
  caseInsensitive: ['user_name', 'email'],
  context: (column) => `users.${column}`,
};

export const ENROLLMENT_TOKEN_COLUMNS: SealedColumns<'user_email'> = {
  table: 'enrollment_tokens',
  columns: ['user_email'],
  hashes: {},
  caseInsensitive: [],
  context: (column) => `enrollment_tokens.${column}`,
};

export const APPLE_ENROLLMENT_COLUMNS: SealedColumns<'user_email'> = {
  table: 'apple_mdm_enrollments',
  columns: ['user_email'],
  hashes: {},
  caseInsensitive: [],
  context: (column) => `apple_mdm_enrollments.${column}`,
};

/** Every table encrypted by migration 0016, for its one-time step and for key rotation. */
export const IDENTITY_SEALED_TABLES = [USER_COLUMNS, ENROLLMENT_TOKEN_COLUMNS, APPLE_ENROLLMENT_COLUMNS] as const;
