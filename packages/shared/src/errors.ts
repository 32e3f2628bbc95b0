/**
 * The error catalogue: every problem Custos answers with has a stable code, an HTTP status and a
 * title here. Responses are RFC 9457 problem details (https://www.rfc-editor.org/rfc/rfc9457):
 * `type` is `urn:custos:problem:<code>`, and `code` repeats the code as an extension member so
 * clients can switch on it without parsing the URN.
 */
export const ERROR_CATALOGUE = {
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'validation-failed': { status: 400, title: 'The request does not match the schema' },
  'invalid-cursor': { status: 400, title: 'The paging cursor is not valid for this list' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  'enrollment-token-invalid': { status: 401, title: 'The enrollment token is not valid' },
  'device-auth-failed': { status: 401, title: 'The device request could not be authenticated' },
  'device-session-expired': { status: 401, title: 'The device session has expired' },
  'device-request-replayed': { status: 401, title: 'The device request was already received' },
  forbidden: { status: 403, title: 'The caller is not allowed to do this' },
  'enrollment-token-expired': { status: 403, title: 'The enrollment token has expired' },
  'enrollment-token-exhausted': { status: 403, title: 'The enrollment token has been used up' },
  'enrollment-token-revoked': { status: 403, title: 'The enrollment token was revoked' },
  'enrollment-platform-not-allowed': { status: 403, title: 'This platform may not enroll with this token' },
  'device-not-active': { status: 403, title: 'The device is retired and its credential revoked' },
  'not-found': { status: 404, title: 'The resource does not exist' },
  'route-not-found': { status: 404, title: 'No such endpoint' },
  'tenant-not-found': { status: 404, title: 'The tenant does not exist' },
  'method-not-allowed': { status: 405, title: 'The method is not allowed on this endpoint' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  'enrollment-device-limit-reached': { status: 409, title: 'The user has reached the device limit' },
  'inventory-base-mismatch': { status: 409, title: 'The inventory delta does not apply to the stored inventory' },
  'tenant-read-only': { status: 423, title: 'The tenant is in retention: its data can be read and exported, not changed' },
  'tenant-suspended': { status: 403, title: 'The subscription is suspended: no new devices can enroll' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be JSON' },
  'upgrade-required': { status: 426, title: 'This endpoint is a WebSocket; send an upgrade request' },
  'inventory-fields-refused': { status: 422, title: 'The inventory contains fields Custos does not collect' },
  'csr-invalid': { status: 422, title: 'The certificate signing request is not valid' },
  'password-policy': { status: 422, title: 'The password does not meet the password policy' },
  'session-expired': { status: 401, title: 'The session has expired; sign in again' },
  'mfa-required': { status: 403, title: 'Complete multi-factor authentication first' },
  'csrf-failed': { status: 403, title: 'The request is missing its CSRF token' },
  'sign-in-failed': { status: 401, title: 'The user name or password is wrong' },
  'account-locked': { status: 429, title: 'Too many failed sign-ins; try again later' },
  'mfa-failed': { status: 401, title: 'The second factor could not be verified' },
  'password-reset-invalid': { status: 400, title: 'The password reset link is not valid or has expired' },
  'mail-not-configured': { status: 409, title: 'No SMTP server is configured' },
  'idp-not-configured': { status: 404, title: 'The tenant has no identity provider configured' },
  'idp-discovery-failed': { status: 422, title: 'The identity provider could not be discovered' },
  'sso-failed': { status: 401, title: 'Single sign-on did not complete' },
  'apple-mdm-message-invalid': { status: 400, title: 'The Apple MDM message is not a valid plist of a known kind' },
  'apple-mdm-signature-invalid': { status: 403, title: 'The Apple MDM message is not signed by an identity this tenant issued' },
  'apple-mdm-enrollment-conflict': { status: 409, title: 'The device is enrolled with another identity certificate' },
  'apple-mdm-user-declined': { status: 410, title: 'User channel authentication is not supported' },
  'apple-mdm-push-certificate-missing': { status: 409, title: 'The tenant has no APNs push certificate' },
  'apple-mdm-push-certificate-invalid': { status: 422, title: 'The APNs push certificate is not valid' },
  'scep-request-invalid': { status: 400, title: 'The SCEP request is not valid' },
  'export-not-ready': { status: 409, title: 'The export has not finished; poll it until its status is completed' },
  'export-expired': { status: 410, title: 'The export archive was deleted at the end of its lifetime; start a new export' },
  'import-archive-invalid': { status: 422, title: 'The archive is not a valid Custos export' },
  'import-target-not-empty': { status: 409, title: 'Import needs a new, empty tenant' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'internal-error': { status: 500, title: 'An unexpected error occurred' },
  'service-unavailable': { status: 503, title: 'The service is not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function problemType(code: ErrorCode): string {
  return `urn:custos:problem:${code}`;
}

/** One problem detail object as Custos sends it. Extra members carry context (for example `errors`). */
export interface Problem {
  type: string;
  code: ErrorCode;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** One refused field of a payload, named by its JSON path. */
export interface FieldIssue {
  field: string;
  reason: 'undeclared' | 'prohibited' | 'invalid-type' | 'too-long' | 'required';
  /** For `prohibited`: the privacy category the field belongs to. */
  category?: string;
  message: string;
}
