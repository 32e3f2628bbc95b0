/** TOTP against RFC 6238's own test vectors (Appendix B, SHA-1, last six digits), the ±1 step window and replay. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCodeAt, verifyTotp } from './totp.js';

// The RFC's SHA-1 seed, ASCII "12345678901234567890", in base32.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

test('codes match the RFC 6238 test vectors', async () => {
  const vectors: [number, string][] = [
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ];
  for (const [seconds, code] of vectors) assert.equal(await totpCodeAt(RFC_SECRET, seconds * 1000), code, `T=${seconds}`);
});

test('a code is accepted one step either side of now, never further, and never at or before the last used step', async () => {
  const now = 1_700_000_010_000;
  const step = Math.floor(now / 30_000);
  const code = await totpCodeAt(RFC_SECRET, now);
  assert.equal(await verifyTotp(RFC_SECRET, code, now, null), step);
  assert.equal(await verifyTotp(RFC_SECRET, code, now + 30_000, null), step, 'a slow typist one step later');
  assert.equal(await verifyTotp(RFC_SECRET, code, now - 30_000, null), step, 'a device clock one step ahead');
  assert.equal(await verifyTotp(RFC_SECRET, code, now + 90_000, null), undefined, 'three steps later it is gone');
  assert.equal(await verifyTotp(RFC_SECRET, code, now, step), undefined, 'the step was used');
  assert.equal(await verifyTotp(RFC_SECRET, await totpCodeAt(RFC_SECRET, now + 30_000), now, step), step + 1, 'the next step still works');
  assert.equal(await verifyTotp(RFC_SECRET, 'abcdef', now, null), undefined);
  assert.equal(await verifyTotp(RFC_SECRET, code, now, step + 5), undefined, 'a last step ahead of the clock refuses, never throws');
});
