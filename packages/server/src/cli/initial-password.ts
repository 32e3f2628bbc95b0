import { randomBytes } from 'node:crypto';

/** 24 random characters: above any password policy minimum, shown once, to be changed by the user. */
export function initialPassword(): string {
  return randomBytes(18).toString('base64url');
}
