import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectionStatementText, describeCollection } from './transparency.js';

test('the consent text names the security state the platform reports, from the catalog', () => {
  const linux = collectionStatementText('Acme', describeCollection('corporate', 'linux', false));
  for (const label of ['Password required', 'Minimum password length', 'Password type', 'Firewall'])
    assert.match(linux, new RegExp(`- ${label}: `));
  const ios = describeCollection('personal', 'ios', false).collected.map((f) => f.name);
  assert.ok(ios.includes('passwordRequired'));
  assert.ok(!ios.includes('firewallEnabled'), 'phones report no firewall');
});

test("the consent text states the deployment's export archive lifetime, 7 days unless configured", () => {
  const archives = (days?: number) =>
    (describeCollection('corporate', 'linux', false, days).retention ?? []).find((r) => /export all data/.test(r));
  assert.match(archives() ?? '', /deleted 7 days after/);
  assert.match(archives(30) ?? '', /deleted 30 days after/);
  assert.match(collectionStatementText('Acme', describeCollection('personal', 'ios', false, 2)), /deleted 2 days after/);
});
