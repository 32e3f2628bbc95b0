import assert from 'node:assert/strict';
import { createHash, createHmac, createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { macInput, parseAuthorization, signatureInput } from '@custos/shared';
import { generateDeviceKey } from './device-key.js';
import { x509 } from './x509.js';
import { bodySha256, sessionAuthorization, signatureAuthorization } from './request-auth.js';

describe('bodySha256', () => {
  it('is the base64url SHA-256 of the exact bytes', () => {
    assert.equal(bodySha256('{}'), createHash('sha256').update('{}').digest('base64url'));
    assert.equal(bodySha256(''), '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
  });
});

describe('signatureAuthorization', async () => {
  const key = await generateDeviceKey();

  it('produces a CSR for the same key pair, ECDSA P-256', async () => {
    const csr = new x509.Pkcs10CertificateRequest(key.csrPem);
    assert.equal(csr.subject, 'CN=custos-agent');
    assert.equal(await csr.verify(), true);
    const fromCsr = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    const fromPrivate = createPublicKey(key.privateKeyPem);
    assert.equal(fromCsr.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(fromCsr.export({ format: 'jwk' }), fromPrivate.export({ format: 'jwk' }));
  });

  it('signs the shared signature input in IEEE P1363 form, verifiable with the CSR public key', () => {
    const header = signatureAuthorization({
      privateKeyPem: key.privateKeyPem,
      tenantId: 'tenant-1',
      deviceId: 'device-1',
      method: 'post',
      path: '/api/v1/agent/session',
      seq: 42,
      timestampMs: 1_735_689_600_000,
      body: '{}',
    });
    const parsed = parseAuthorization(header);
    assert.equal(parsed?.scheme, 'CustosDeviceSignature');
    assert.deepEqual(Object.keys(parsed?.params ?? {}), ['device', 'seq', 'ts', 'sig']);
    assert.equal(parsed?.params['device'], 'tenant-1/device-1');
    assert.equal(parsed?.params['seq'], '42');
    assert.equal(parsed?.params['ts'], '1735689600000');
    const signature = Buffer.from(parsed?.params['sig'] ?? '', 'base64url');
    assert.equal(signature.length, 64);

    const input = signatureInput({
      method: 'POST',
      path: '/api/v1/agent/session',
      seq: 42,
      timestampMs: 1_735_689_600_000,
      bodySha256: bodySha256('{}'),
    });
    const publicKey = createPublicKey({
      key: Buffer.from(new x509.Pkcs10CertificateRequest(key.csrPem).publicKey.rawData),
      format: 'der',
      type: 'spki',
    });
    assert.equal(verify('sha256', Buffer.from(input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature), true);
    // Any change to what is covered breaks it.
    const tampered = signatureInput({
      method: 'POST',
      path: '/api/v1/agent/session',
      seq: 43,
      timestampMs: 1_735_689_600_000,
      bodySha256: bodySha256('{}'),
    });
    assert.equal(verify('sha256', Buffer.from(tampered), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature), false);
  });
});

describe('sessionAuthorization', () => {
  it('MACs the shared MAC input with the decoded session key', () => {
    const sessionKey = Buffer.alloc(32, 7).toString('base64url');
    const body = '{"inventoryDigest":"abc"}';
    const header = sessionAuthorization({
      sessionToken: 'tok_123',
      sessionKey,
      method: 'POST',
      path: '/api/v1/agent/checkin',
      seq: 9,
      body,
    });
    const parsed = parseAuthorization(header);
    assert.equal(parsed?.scheme, 'CustosDevice');
    assert.equal(parsed?.params['session'], 'tok_123');
    assert.equal(parsed?.params['seq'], '9');
    const expected = createHmac('sha256', Buffer.alloc(32, 7))
      .update(
        macInput({
          method: 'POST',
          path: '/api/v1/agent/checkin',
          seq: 9,
          bodySha256: createHash('sha256').update(body).digest('base64url'),
        }),
      )
      .digest('base64url');
    assert.equal(parsed?.params['mac'], expected);
  });
});
