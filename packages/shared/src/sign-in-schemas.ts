/**
 * Signing in to the portals (SPEC §5): password sign-in, the session, second factors (TOTP with
 * recovery codes, WebAuthn passkeys), password reset and the tenant's sign-in settings.
 */
import { Type, type TSchema } from 'typebox';
import { Timestamp, Uuid } from './api-schemas.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const MFA_METHODS = ['totp', 'recoveryCode', 'passkey'] as const;
export const MfaMethodSchema = Type.Enum([...MFA_METHODS]);

const UserNameField = Type.String({ minLength: 1, maxLength: 256 });
const PasswordField = Type.String({ minLength: 1, maxLength: 1024 });

export const LoginRequestSchema = Type.Object(
  { tenantId: Uuid, userName: UserNameField, password: PasswordField },
  { additionalProperties: false },
);

export const SignedInUserSchema = Type.Object({
  id: Uuid,
  userName: Type.String(),
  displayName: Nullable(Type.String()),
  email: Nullable(Type.String()),
});

export const LoginResponseSchema = Type.Object({
  csrfToken: Type.String({ description: 'Send as X-CSRF-Token with every cookie-authenticated write.' }),
  mfaRequired: Type.Boolean({ description: 'The session is usable only after POST /api/v1/auth/mfa/verify (or a passkey).' }),
  mfaMethods: Type.Array(MfaMethodSchema),
  mfaEnrollmentRequired: Type.Boolean({ description: 'MFA is required but the user has no factor: only enrollment is open.' }),
  user: SignedInUserSchema,
  expiresAt: Timestamp,
});

export const SessionInfoSchema = Type.Object({
  sessionId: Uuid,
  tenantId: Uuid,
  tenantName: Type.String(),
  user: SignedInUserSchema,
  permissions: Type.Array(Type.String()),
  csrfToken: Type.String(),
  mfaPending: Type.Boolean(),
  mfaMethods: Type.Array(MfaMethodSchema),
  mfaEnrollmentRequired: Type.Boolean(),
  idleTimeoutMinutes: Type.Integer(),
  idleExpiresAt: Timestamp,
  expiresAt: Timestamp,
});

export const UserSessionSchema = Type.Object({
  id: Uuid,
  method: Type.String(),
  mfaSatisfied: Type.Boolean(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  expiresAt: Timestamp,
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  current: Type.Boolean(),
});
export const UserSessionListSchema = Type.Object({ items: Type.Array(UserSessionSchema) });
export const RevokedSessionsSchema = Type.Object({ revoked: Type.Integer() });

export const OwnSessionParams = Type.Object({ sessionId: Uuid });
export const UserSessionsParams = Type.Object({ id: Uuid });
export const UserSessionParams = Type.Object({ id: Uuid, sessionId: Uuid });

export const TotpSetupSchema = Type.Object({
  secret: Type.String({ description: 'Base32; shown once, for typing into an authenticator app.' }),
  otpauthUri: Type.String({ description: 'otpauth://totp/… for a QR code.' }),
});
export const TotpCodeSchema = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false });
export const RecoveryCodesSchema = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { description: 'Shown once; each signs in once in place of a code.' }),
});

export const MfaVerifySchema = Type.Union([
  Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
  Type.Object({ recoveryCode: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
]);
export const MfaVerifiedSchema = Type.Object({ mfaPending: Type.Boolean(), method: MfaMethodSchema });

/** WebAuthn options as `@simplewebauthn/browser` takes them (PublicKeyCredential*OptionsJSON). */
export const WebAuthnOptionsSchema = Type.Object({ challenge: Type.String() }, { additionalProperties: true });
/** A `PublicKeyCredential` as JSON (RegistrationResponseJSON / AuthenticationResponseJSON). */
export const WebAuthnCredentialSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 1024 }),
    rawId: Type.String({ minLength: 1, maxLength: 1024 }),
    type: Type.Literal('public-key'),
    response: Type.Object({ clientDataJSON: Type.String() }, { additionalProperties: true }),
    clientExtensionResults: Type.Object({}, { additionalProperties: true }),
    authenticatorAttachment: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export const PasskeyRegistrationSchema = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), response: WebAuthnCredentialSchema },
  { additionalProperties: false },
);
export const PasskeyAuthenticationSchema = Type.Object({ response: WebAuthnCredentialSchema }, { additionalProperties: false });
export const PasskeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  transports: Type.Array(Type.String()),
  createdAt: Timestamp,
  lastUsedAt: Nullable(Timestamp),
});
export const PasskeyListSchema = Type.Object({ items: Type.Array(PasskeySchema) });
export const PasskeyIdParams = Type.Object({ passkeyId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,1024}$' }) });

export const PasswordResetRequestSchema = Type.Object({ tenantId: Uuid, userName: UserNameField }, { additionalProperties: false });
export const PasswordResetAcceptedSchema = Type.Object({ status: Type.Literal('accepted') });
export const PasswordResetCompleteSchema = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 256 }), password: PasswordField },
  { additionalProperties: false },
);
export const AdminPasswordSchema = Type.Union([
  Type.Object({ password: PasswordField }, { additionalProperties: false }),
  Type.Object({ sendResetLink: Type.Literal(true) }, { additionalProperties: false }),
]);
export const AdminPasswordResultSchema = Type.Object({ passwordSet: Type.Boolean(), resetLinkSent: Type.Boolean() });

export const IdentitySettingsSchema = Type.Object(
  {
    mfaRequiredForAdmins: Type.Boolean({ description: 'Users holding any admin permission must complete MFA.' }),
    sessionIdleMinutes: Type.Integer({ minimum: 5, maximum: 1440, description: 'A session unused this long ends.' }),
    sessionAbsoluteHours: Type.Integer({ minimum: 1, maximum: 720, description: 'A session ends this long after sign-in.' }),
    passwordMinLength: Type.Integer({ minimum: 8, maximum: 128 }),
  },
  { additionalProperties: false },
);
