import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, chainAuditEvent, verifyAuditChain, type ChainedAuditEvent } from './audit-chain.js';

function chain(n: number): ChainedAuditEvent[] {
  const events: ChainedAuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    events.push(
      chainAuditEvent(events.at(-1), {
        id: `e${i + 1}`,
        tenantId: 't',
        occurredAt: 1_000 + i,
        actor: { type: 'apiToken', id: 'tok', name: 'ci', ip: '127.0.0.1' },
        activity: 'Retire device',
        category: 'Device',
        operation: 'action',
        result: 'success',
        targets: [{ type: 'device', id: `d${i}`, modifiedProperties: [{ name: 'status', oldValue: 'active', newValue: 'retired' }] }],
        correlationId: null,
      }),
    );
  }
  return events;
}

test('canonical JSON sorts keys at every level', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }), '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
});

test('an untouched chain verifies', () => {
  const verdict = verifyAuditChain(chain(5));
  assert.equal(verdict.intact, true);
  assert.equal(verdict.events, 5);
});

test('an altered event is named', () => {
  const events = chain(5);
  events[2] = { ...events[2]!, targets: [{ type: 'device', id: 'someone-else' }] };
  const verdict = verifyAuditChain(events);
  assert.equal(verdict.intact, false);
  assert.ok(!verdict.intact && verdict.problem === 'altered' && verdict.eventId === 'e3');
});

test('a deleted event is named by its missing sequence number', () => {
  const events = chain(5);
  events.splice(1, 1);
  const verdict = verifyAuditChain(events);
  assert.ok(!verdict.intact && verdict.problem === 'missing' && verdict.sequence === 2);
});

test('re-ordered events are detected', () => {
  const events = chain(5);
  [events[1], events[2]] = [events[2]!, events[1]!];
  const verdict = verifyAuditChain(events);
  assert.ok(!verdict.intact && verdict.problem === 'missing', 'sequence 2 is missing where 3 appears');
  const swappedBack = chain(3);
  const verdict2 = verifyAuditChain([swappedBack[0]!, swappedBack[1]!, swappedBack[1]!]);
  assert.ok(!verdict2.intact && verdict2.problem === 'reordered');
});

test('rewriting an event and re-hashing it still breaks the link to the next one', () => {
  const events = chain(4);
  const forged = chainAuditEvent(events[0], { ...events[1]!, result: 'failure' });
  events[1] = forged;
  const verdict = verifyAuditChain(events);
  assert.ok(!verdict.intact && verdict.problem === 'altered' && verdict.eventId === 'e3');
});
