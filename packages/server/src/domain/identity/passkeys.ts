/**
 * WebAuthn passkeys as a second factor (SPEC §5, https://www.w3.org/TR/webauthn-3/), with
 * `@simplewebauthn/server`. The relying party is this deployment's public URL (`CUSTOS_PUBLIC_URL`):
 * its host name is the RP ID and its origin the only accepted origin.
 *
 * Every ceremony starts with options whose challenge is kept server-side for the session that asked
 * (one per session and purpose, five minutes, deleted when answered), so a response can be checked
 * only once and only by the session it was made for. Registration asks for no attestation: Custos
 * trusts the user's choice of authenticator, not its make.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { throttleError, type LoginThrottle } from './login-throttle.js';
import { assertMayEnroll, completeSessionMfa } from './mfa-service.js';
import type { AuthenticatedSession } from './session-service.js';
import type { PasskeyRecord, WebAuthnPurpose } from './sign-in-stores.js';

const CHALLENGE_TTL = 5 * 60_000;
const MAX_PASSKEYS = 20;

export interface RelyingParty {
  /** The host name passkeys are bound to. */
  id: string;
  /** The origin browsers report (scheme, host and port of the public URL). */
  origin: string;
  name: string;
}

/** The relying party of a deployment reachable at `publicUrl`. */
export function relyingPartyOf(publicUrl: string, name = 'Custos'): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, origin: url.origin, name };
}

export class PasskeyService {
  constructor(
    private readonly tenants: TenantService,
    private readonly rp: RelyingParty,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
  ) {}

  async registrationOptions(auth: AuthenticatedSession): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const data = await this.tenants.data(auth.actor.tenantId);
    await assertMayEnroll(data, auth);
    const existing = await data.passkeys.listForUser(auth.user.id);
    if (existing.length >= MAX_PASSKEYS) throw new DomainError('conflict', `A user may register at most ${MAX_PASSKEYS} passkeys.`);
    const options = await generateRegistrationOptions({
      rpName: this.rp.name,
      rpID: this.rp.id,
      userName: auth.user.userName,
      userID: new TextEncoder().encode(auth.user.id),
      userDisplayName: auth.user.displayName ?? auth.user.userName,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await this.keepChallenge(data, auth, 'registration', options.challenge);
    return options;
  }

  async register(auth: AuthenticatedSession, input: { name?: string; response: RegistrationResponseJSON }): Promise<PasskeyRecord> {
    const data = await this.tenants.data(auth.actor.tenantId);
    await assertMayEnroll(data, auth);
    const expectedChallenge = await this.takeChallenge(data, auth, 'registration');
    let verification;
    try {
      verification = await verifyRegistrationResponse({
        response: input.response,
        expectedChallenge,
        expectedOrigin: this.rp.origin,
        expectedRPID: this.rp.id,
        requireUserVerification: false,
      });
    } catch (error) {
      throw new DomainError(
        'mfa-failed',
        `The passkey registration could not be verified: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (!verification.verified) throw new DomainError('mfa-failed', 'The passkey registration could not be verified.');
    const { credential } = verification.registrationInfo;
    if (await data.passkeys.get(credential.id)) throw new DomainError('conflict', 'This passkey is already registered.');
    const now = this.clock.now();
    const passkey: PasskeyRecord = {
      id: credential.id,
      userId: auth.user.id,
      name: input.name?.trim() || 'Passkey',
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: credential.transports ?? [],
      createdAt: now,
      lastUsedAt: null,
    };
    await data.transaction(async (trx) => {
      await trx.passkeys.insert(passkey);
      if (auth.mfaPending) await trx.sessions.markMfaSatisfied(auth.session.id);
      await recordAudit(trx, auth.actor, this.clock, {
        activity: 'Register passkey',
        category: 'UserManagement',
        operation: 'create',
        targets: [
          { type: 'passkey', id: passkey.id, name: passkey.name },
          { type: 'user', id: auth.user.id, name: auth.user.userName },
        ],
      });
    });
    if (auth.mfaPending) await this.throttle.recordSuccess(data, auth.user.userName);
    return passkey;
  }

  async authenticationOptions(auth: AuthenticatedSession): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const data = await this.tenants.data(auth.actor.tenantId);
    const passkeys = await data.passkeys.listForUser(auth.user.id);
    if (passkeys.length === 0) throw new DomainError('not-found', 'You have no passkey; use another second factor.');
    const options = await generateAuthenticationOptions({
      rpID: this.rp.id,
      allowCredentials: passkeys.map((p) => ({ id: p.id, transports: p.transports })),
      userVerification: 'preferred',
    });
    await this.keepChallenge(data, auth, 'authentication', options.challenge);
    return options;
  }

  /** Completes the session's MFA with a passkey assertion. */
  async authenticate(auth: AuthenticatedSession, response: AuthenticationResponseJSON): Promise<void> {
    const data = await this.tenants.data(auth.actor.tenantId);
    const ip = auth.actor.context?.ip ?? null;
    const refusal = await this.throttle.refusal(data, auth.user.userName, ip);
    if (refusal) throw throttleError(refusal);
    const expectedChallenge = await this.takeChallenge(data, auth, 'authentication');
    const passkey = await data.passkeys.get(response.id);
    let verified = false;
    let newCounter = 0;
    if (passkey && passkey.userId === auth.user.id) {
      try {
        const result = await verifyAuthenticationResponse({
          response,
          expectedChallenge,
          expectedOrigin: this.rp.origin,
          expectedRPID: this.rp.id,
          credential: {
            id: passkey.id,
            publicKey: Buffer.from(passkey.publicKey, 'base64url'),
            counter: passkey.counter,
            transports: passkey.transports,
          },
          requireUserVerification: false,
        });
        verified = result.verified;
        newCounter = result.authenticationInfo.newCounter;
      } catch {
        verified = false;
      }
    }
    if (!verified || !passkey) {
      await data.transaction(async (trx) => {
        await this.throttle.recordFailure(trx, auth.user.userName, ip);
        await recordAudit(trx, auth.actor, this.clock, {
          activity: 'Verify second factor',
          category: 'SignIn',
          operation: 'signIn',
          result: 'failure',
          targets: [
            {
              type: 'session',
              id: auth.session.id,
              name: auth.user.userName,
              modifiedProperties: [{ name: 'failureReason', oldValue: null, newValue: 'invalid-passkey' }],
            },
          ],
        });
      });
      throw new DomainError('mfa-failed', 'The passkey could not be verified.');
    }
    await data.passkeys.recordUse(passkey.id, newCounter, this.clock.now());
    await completeSessionMfa(data, auth, 'passkey', this.clock);
    await this.throttle.recordSuccess(data, auth.user.userName);
  }

  async list(auth: AuthenticatedSession): Promise<PasskeyRecord[]> {
    return (await this.tenants.data(auth.actor.tenantId)).passkeys.listForUser(auth.user.id);
  }

  async remove(auth: AuthenticatedSession, id: string): Promise<void> {
    const data = await this.tenants.data(auth.actor.tenantId);
    await data.transaction(async (trx) => {
      if (!(await trx.passkeys.delete(auth.user.id, id))) throw new DomainError('not-found', 'You have no passkey with this id.');
      await recordAudit(trx, auth.actor, this.clock, {
        activity: 'Remove passkey',
        category: 'UserManagement',
        operation: 'delete',
        targets: [
          { type: 'passkey', id },
          { type: 'user', id: auth.user.id, name: auth.user.userName },
        ],
      });
    });
  }

  private async keepChallenge(data: TenantData, auth: AuthenticatedSession, purpose: WebAuthnPurpose, challenge: string): Promise<void> {
    await data.passkeys.putChallenge(auth.session.id, purpose, challenge, this.clock.now() + CHALLENGE_TTL);
  }

  private async takeChallenge(data: TenantData, auth: AuthenticatedSession, purpose: WebAuthnPurpose): Promise<string> {
    const kept = await data.passkeys.takeChallenge(auth.session.id, purpose);
    if (!kept || kept.expiresAt <= this.clock.now()) {
      throw new DomainError('conflict', `Ask for ${purpose} options first; a challenge is valid for five minutes and answers once.`);
    }
    return kept.challenge;
  }
}
