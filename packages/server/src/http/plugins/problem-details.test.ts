import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { DomainError } from '../../domain/domain-error.js';
import { problemDetails } from './problem-details.js';

async function appThrowing(error: unknown) {
  const app = Fastify();
  await app.register(problemDetails);
  app.get('/boom', () => {
    throw error;
  });
  return app;
}

test('a domain error becomes problem+json with its code and context', async () => {
  const app = await appThrowing(new DomainError('forbidden', 'No.', { permission: 'devices.wipe' }));
  const res = await app.inject('/boom');
  assert.equal(res.statusCode, 403);
  assert.match(String(res.headers['content-type']), /application\/problem\+json/);
  assert.deepEqual(res.json(), {
    type: 'urn:custos:problem:forbidden',
    code: 'forbidden',
    title: 'The caller is not allowed to do this',
    status: 403,
    detail: 'No.',
    instance: '/boom',
    permission: 'devices.wipe',
  });
});

test('a database-aborted transaction is a retryable 503, not a 500', async () => {
  for (const code of ['40P01', '40001', 'SQLITE_BUSY']) {
    const app = await appThrowing(Object.assign(new Error('deadlock detected'), { code }));
    const res = await app.inject('/boom');
    assert.equal(res.statusCode, 503, code);
    assert.equal(res.json().code, 'service-unavailable');
    assert.equal(res.headers['retry-after'], '1');
  }
});

test('an unexpected error is a 500 that reveals nothing but a request id', async () => {
  const app = await appThrowing(new Error('secret connection string postgres://user:pw@db'));
  const res = await app.inject('/boom');
  assert.equal(res.statusCode, 500);
  assert.equal(res.body.includes('secret'), false);
  assert.ok(res.json().requestId);
});
