/**
 * The choices the admin forms offer, typed against `@custos/shared` (the web app imports types only,
 * so the lists are repeated here; `Exhaustive` fails to compile when the shared list grows).
 */
import type { NoncomplianceActionType, PasswordType, Platform, ProfileKind, ProfileStatus } from '@custos/shared';

/** `true` only when `List` names every member of `Union`. */
type Exhaustive<Union, List extends readonly Union[]> = [Exclude<Union, List[number]>] extends [never] ? true : false;

export const PLATFORM_OPTIONS = ['linux', 'macos', 'windows', 'ios', 'ipados', 'android'] as const satisfies readonly Platform[];
export const PLATFORMS_COVERED: Exhaustive<Platform, typeof PLATFORM_OPTIONS> = true;

export const PASSWORD_TYPE_OPTIONS = ['numeric', 'alphanumeric', 'complex'] as const satisfies readonly PasswordType[];
export const PASSWORD_TYPES_COVERED: Exhaustive<PasswordType, typeof PASSWORD_TYPE_OPTIONS> = true;

export const ACTION_LABELS: Record<NoncomplianceActionType, string> = {
  markNoncompliant: 'Mark non-compliant (grace period)',
  email: 'Email the user',
  lock: 'Lock the device',
  retireList: 'Add to the retire list',
};

export const PROFILE_KIND_LABELS: Record<ProfileKind, string> = {
  wifi: 'Wi-Fi',
  vpn: 'VPN',
  certificate: 'Certificate',
  restrictions: 'Restrictions',
  custom: 'Custom',
};

export const PROFILE_STATUS_LABELS: Record<ProfileStatus, string> = {
  pending: 'Pending',
  succeeded: 'Succeeded',
  failed: 'Failed',
  notApplicable: 'Not applicable',
};

/** Text area lines as a list: trimmed, blanks dropped. */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** A whole number from a field, or undefined when it is empty. */
export function intOrUndefined(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

/** A message when `text` is not a whole number within [min, max]. */
export function intProblem(text: string, min: number, max: number, required = false): string | undefined {
  if (text.trim() === '') return required ? 'Required.' : undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) return `A whole number from ${min} to ${max}.`;
  return undefined;
}
