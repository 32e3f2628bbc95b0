/** The lifecycle state machine, its configuration and the purge receipt, as units. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../config.js';
import {
  DAY_MS,
  DEFAULT_LIFECYCLE_DURATIONS,
  dueTransition,
  lifecycleDurationsFrom,
  nextStateAt,
  type TenantLifecycle,
} from './lifecycle.js';
import { PurgeReceiptSigner, publicKeyFingerprint, verifyPurgeReceipt } from './purge-receipt.js';

const T0 = Date.parse('2031-03-01T00:00:00Z');
const base: TenantLifecycle = {
  tenantId: 't',
  name: 'Acme',
  region: 'eu',
  state: 'active',
  stateSince: T0,
  subscriptionEndsAt: null,
  deletionRequestedAt: null,
};
const d = DEFAULT_LIFECYCLE_DURATIONS;

test('an open-ended subscription never leaves active', () => {
  assert.equal(dueTransition(base, d, T0 + 10_000 * DAY_MS), undefined);
  assert.equal(nextStateAt(base, d), null);
});

test('each state lasts its configured time, and each transition is dated when it fell due', () => {
  const ends = T0 + 5 * DAY_MS;
  let t: TenantLifecycle = { ...base, subscriptionEndsAt: ends };
  assert.equal(dueTransition(t, d, ends - 1), undefined);
  const late = ends + 200 * DAY_MS; // a tick long after: catches up step by step
  const steps: string[] = [];
  for (let due = dueTransition(t, d, late); due; due = dueTransition(t, d, late)) {
    steps.push(`${due.from}→${due.to}@${(due.at - ends) / DAY_MS}`);
    if (due.to === 'purged') break;
    t = { ...t, state: due.to, stateSince: due.at };
  }
  assert.deepEqual(steps, ['active→warning@0', 'warning→suspended@30', 'suspended→retention@60', 'retention→purged@150']);
});

test('a deletion request purges after its confirmation window, from any state', () => {
  const t: TenantLifecycle = { ...base, state: 'warning', deletionRequestedAt: T0 };
  assert.equal(dueTransition(t, d, T0 + 7 * DAY_MS - 1), undefined);
  assert.deepEqual(dueTransition(t, d, T0 + 7 * DAY_MS), {
    from: 'warning',
    to: 'purged',
    at: T0 + 7 * DAY_MS,
    reason: 'deletion-confirmed',
  });
  assert.deepEqual(nextStateAt(t, d), { state: 'purged', at: T0 + 7 * DAY_MS });
});

test('durations come from CUSTOS_LIFECYCLE_* and bad values are refused by name', () => {
  assert.deepEqual(lifecycleDurationsFrom({}), d);
  assert.deepEqual(lifecycleDurationsFrom({ CUSTOS_LIFECYCLE_WARNING_DAYS: '14', CUSTOS_LIFECYCLE_RETENTION_DAYS: '60' }), {
    ...d,
    warningDays: 14,
    retentionDays: 60,
  });
  assert.throws(() => lifecycleDurationsFrom({ CUSTOS_LIFECYCLE_SUSPENDED_DAYS: 'ten' }), /CUSTOS_LIFECYCLE_SUSPENDED_DAYS/);
  assert.throws(() => lifecycleDurationsFrom({ CUSTOS_LIFECYCLE_DELETION_CONFIRM_DAYS: '-1' }), /CUSTOS_LIFECYCLE_DELETION_CONFIRM_DAYS/);
});

test('a purge receipt verifies with its own key, and any change or another key fails', () => {
  const signer = new PurgeReceiptSigner(randomBytes(32));
  const receipt = signer.sign({
    tenantId: 't',
    region: 'eu',
    purgedAt: new Date(T0).toISOString(),
    reason: 'retention-elapsed',
    deletedRows: { devices: 3, audit_events: 10 },
    keyDestroyed: true,
  });
  assert.deepEqual(verifyPurgeReceipt(receipt), { valid: true, fingerprint: publicKeyFingerprint(signer.publicKey) });
  assert.equal(verifyPurgeReceipt({ ...receipt, region: 'us' }).valid, false);
  assert.equal(verifyPurgeReceipt({ ...receipt, deletedRows: { devices: 3 } }).valid, false);
  const other = new PurgeReceiptSigner(randomBytes(32));
  assert.equal(verifyPurgeReceipt({ ...receipt, publicKey: other.publicKey }).valid, false);
  assert.equal(verifyPurgeReceipt(receipt, other.publicKey).valid, false);
  assert.equal(verifyPurgeReceipt({ ...receipt, signature: 'AAAA' }).valid, false);
  assert.equal(verifyPurgeReceipt('not a receipt').valid, false);
  // The same seed signs with the same key: receipts stay verifiable across restarts.
  assert.equal(new PurgeReceiptSigner(Buffer.alloc(32, 7)).publicKey, new PurgeReceiptSigner(Buffer.alloc(32, 7)).publicKey);
});

test('the configuration carries the lifecycle durations and names a bad one', () => {
  assert.deepEqual(loadConfig({}, {}).lifecycle, d);
  assert.equal(loadConfig({ CUSTOS_LIFECYCLE_RETENTION_DAYS: '45' }, {}).lifecycle.retentionDays, 45);
  assert.throws(
    () => loadConfig({ CUSTOS_LIFECYCLE_WARNING_DAYS: '1.5' }, {}),
    (e: unknown) => e instanceof ConfigError && /CUSTOS_LIFECYCLE_WARNING_DAYS/.test(e.message),
  );
});
