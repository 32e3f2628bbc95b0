/**
 * TOTP as authenticator apps speak it (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps), with
 * otplib. A code is accepted one step either side of now (clock drift), and never at or before the
 * last step the user already used, so a code cannot be replayed even within its window.
 */
import { generate, generateSecret, generateURI, verify } from 'otplib';

export const TOTP_PERIOD_SECONDS = 30;
const DIGITS = 6;

export function newTotpSecret(): string {
  // 20 bytes (160 bits), RFC 4226's recommended length for HMAC-SHA-1.
  return generateSecret({ length: 20 });
}

export function totpUri(secret: string, issuer: string, accountName: string): string {
  return generateURI({ issuer, label: accountName, secret, algorithm: 'sha1', digits: DIGITS, period: TOTP_PERIOD_SECONDS });
}

/**
 * The time step `code` belongs to, or undefined when it is not valid now (±1 step) or not later
 * than `lastUsedStep`.
 */
export async function verifyTotp(secret: string, code: string, nowMs: number, lastUsedStep: number | null): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined;
  const epoch = Math.floor(nowMs / 1000);
  try {
    const result = await verify({
      secret,
      token: code,
      epoch,
      period: TOTP_PERIOD_SECONDS,
      digits: DIGITS,
      algorithm: 'sha1',
      epochTolerance: TOTP_PERIOD_SECONDS,
      ...(lastUsedStep === null ? {} : { afterTimeStep: lastUsedStep }),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : undefined;
  } catch {
    // otplib refuses an `afterTimeStep` beyond the window (a clock moved backwards): not valid now.
    return undefined;
  }
}

/** The code an authenticator app shows at `nowMs` (tests play the app with this). */
export function totpCodeAt(secret: string, nowMs: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(nowMs / 1000), period: TOTP_PERIOD_SECONDS, digits: DIGITS, algorithm: 'sha1' });
}
