import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAuthorization, parseAuthorization, SESSION_SCHEME } from './device-auth.js';

test('an Authorization header round-trips', () => {
  const header = formatAuthorization(SESSION_SCHEME, { session: 'a.b.c', seq: 7, mac: 'x-y_z' });
  assert.deepEqual(parseAuthorization(header), { scheme: SESSION_SCHEME, params: { session: 'a.b.c', seq: '7', mac: 'x-y_z' } });
});

test('malformed headers parse to nothing', () => {
  for (const bad of [
    undefined,
    '',
    'CustosDevice',
    'CustosDevice seq=7',
    'CustosDevice seq="7" junk',
    'CustosDevice seq="7",, x="1"',
    `CustosDevice a="${'x'.repeat(5000)}"`,
  ]) {
    assert.equal(parseAuthorization(bad), undefined, String(bad).slice(0, 40));
  }
});
