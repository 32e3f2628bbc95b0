/**
 * Password hashing and policy (SPEC §5). argon2id with the library's defaults (64 MiB, t=3, p=4 —
 * above OWASP's minimum), PHC strings so parameters can be raised later and old hashes still verify.
 */
import argon2 from 'argon2';
import { DomainError } from '../domain-error.js';

export const MAX_PASSWORD_LENGTH = 256;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password, verified against when the user does not exist, so an unknown user
 * name costs the same time as a wrong password (no user enumeration by timing).
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(`unknown-user-${Math.random()}`);
  return dummyHash;
}

/** Length rules as NIST SP 800-63B advises: a minimum length, a generous maximum, no composition rules. */
export function checkPasswordPolicy(password: string, minLength: number, userName: string): void {
  if ([...password].length < minLength) {
    throw new DomainError('password-policy', `The password must be at least ${minLength} characters long.`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new DomainError('password-policy', `The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`);
  }
  // The user name, or its part before the @, when long enough to be a real hint (a 2-letter local part
  // like "it" would refuse random passwords by chance).
  const name = userName.toLowerCase();
  const local = name.split('@')[0] ?? name;
  const hints = [name, local].filter((h) => h.length >= 4);
  if (hints.some((h) => password.toLowerCase().includes(h))) {
    throw new DomainError('password-policy', 'The password must not contain the user name.');
  }
}
