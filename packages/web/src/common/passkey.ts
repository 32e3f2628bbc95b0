/**
 * Passkeys (WebAuthn) in the browser: the server's options JSON (base64url binary fields) becomes
 * `navigator.credentials.create` / `.get` options, and the credential goes back as JSON in the shape
 * `/api/v1/auth/passkeys/registration` (RegistrationResponseJSON) and `…/authentication`
 * (AuthenticationResponseJSON) take.
 */
import { post } from '../api';

export function passkeysSupported(): boolean {
  return typeof window !== 'undefined' && 'PublicKeyCredential' in window && Boolean(navigator.credentials);
}

function fromBase64Url(text: string): ArrayBuffer {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64.padEnd(Math.ceil(base64.length / 4) * 4, '=');
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
}

function toBase64Url(buffer: ArrayBuffer | null): string | undefined {
  if (!buffer) return undefined;
  let binary = '';
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

interface RequestOptionsJson {
  challenge: string;
  timeout?: number;
  rpId?: string;
  userVerification?: UserVerificationRequirement;
  allowCredentials?: { id: string; type: 'public-key'; transports?: AuthenticatorTransport[] }[];
}

/** Asks the authenticator for an assertion and completes the pending sign-in with it. */
export async function signInWithPasskey(): Promise<void> {
  const options = await post<RequestOptionsJson>('/api/v1/auth/passkeys/authentication-options');
  const credential = (await navigator.credentials.get({
    publicKey: {
      challenge: fromBase64Url(options.challenge),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(options.rpId === undefined ? {} : { rpId: options.rpId }),
      ...(options.userVerification === undefined ? {} : { userVerification: options.userVerification }),
      allowCredentials: (options.allowCredentials ?? []).map((c) => ({
        id: fromBase64Url(c.id),
        type: c.type,
        ...(c.transports ? { transports: c.transports } : {}),
      })),
    },
  })) as PublicKeyCredential | null;
  if (!credential) throw new Error('No passkey was chosen.');
  const response = credential.response as AuthenticatorAssertionResponse;
  await post('/api/v1/auth/passkeys/authentication', {
    response: {
      id: credential.id,
      rawId: toBase64Url(credential.rawId),
      type: 'public-key',
      response: {
        clientDataJSON: toBase64Url(response.clientDataJSON),
        authenticatorData: toBase64Url(response.authenticatorData),
        signature: toBase64Url(response.signature),
        ...(response.userHandle ? { userHandle: toBase64Url(response.userHandle) } : {}),
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      ...(credential.authenticatorAttachment ? { authenticatorAttachment: credential.authenticatorAttachment } : {}),
    },
  });
}

interface CreationOptionsJson {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  pubKeyCredParams: PublicKeyCredentialParameters[];
  timeout?: number;
  attestation?: AttestationConveyancePreference;
  authenticatorSelection?: AuthenticatorSelectionCriteria;
  excludeCredentials?: { id: string; type: 'public-key'; transports?: AuthenticatorTransport[] }[];
}

/** Creates a passkey on this device's authenticator and registers it for the signed-in user. */
export async function registerPasskey(name: string): Promise<void> {
  const options = await post<CreationOptionsJson>('/api/v1/auth/passkeys/registration-options');
  const credential = (await navigator.credentials.create({
    publicKey: {
      challenge: fromBase64Url(options.challenge),
      rp: options.rp,
      user: { ...options.user, id: fromBase64Url(options.user.id) },
      pubKeyCredParams: options.pubKeyCredParams,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(options.attestation === undefined ? {} : { attestation: options.attestation }),
      ...(options.authenticatorSelection === undefined ? {} : { authenticatorSelection: options.authenticatorSelection }),
      excludeCredentials: (options.excludeCredentials ?? []).map((c) => ({
        id: fromBase64Url(c.id),
        type: c.type,
        ...(c.transports ? { transports: c.transports } : {}),
      })),
    },
  })) as PublicKeyCredential | null;
  if (!credential) throw new Error('No passkey was created.');
  const response = credential.response as AuthenticatorAttestationResponse;
  await post('/api/v1/auth/passkeys/registration', {
    ...(name ? { name } : {}),
    response: {
      id: credential.id,
      rawId: toBase64Url(credential.rawId),
      type: 'public-key',
      response: {
        clientDataJSON: toBase64Url(response.clientDataJSON),
        attestationObject: toBase64Url(response.attestationObject),
        transports: response.getTransports(),
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      ...(credential.authenticatorAttachment ? { authenticatorAttachment: credential.authenticatorAttachment } : {}),
    },
  });
}
