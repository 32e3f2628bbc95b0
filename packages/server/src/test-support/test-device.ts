/**
 * A device for in-process tests: its own ECDSA key and CSR, and the protocol's signed and MAC'd
 * requests, spoken to an app through `inject`. The real agent is exercised by the e2e tests.
 */
import 'reflect-metadata';
import { createHash, createHmac, generateKeyPairSync, sign, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import {
  formatAuthorization,
  macInput,
  SESSION_SCHEME,
  SIGNATURE_SCHEME,
  signatureInput,
  type DeviceSession,
  type EnrollResponse,
  type Platform,
} from '@custos/shared';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export async function makeCsr(): Promise<{ csr: string; privateKey: KeyObject }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = {
    privateKey: await webcrypto.subtle.importKey(
      'pkcs8',
      privateKey.export({ format: 'der', type: 'pkcs8' }),
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['sign'],
    ),
    publicKey: await webcrypto.subtle.importKey(
      'spki',
      publicKey.export({ format: 'der', type: 'spki' }),
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['verify'],
    ),
  };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=test-device',
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  return { csr: csr.toString('pem'), privateKey };
}

const b64 = (data: Buffer | string) => createHash('sha256').update(data).digest('base64url');

export class TestDevice {
  seq = 0;
  session: DeviceSession | undefined;

  private constructor(
    readonly app: FastifyInstance,
    readonly enrollment: EnrollResponse,
    private readonly privateKey: KeyObject,
  ) {}

  static async enroll(app: FastifyInstance, token: string, platform: Platform = 'linux'): Promise<TestDevice> {
    const { csr, privateKey } = await makeCsr();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/enroll',
      payload: { token, csr, platform, consent: { privacyStatementVersion: '1', method: 'unattended' } },
    });
    if (res.statusCode !== 201) throw new Error(`enroll failed: ${res.statusCode} ${res.body}`);
    return new TestDevice(app, res.json<EnrollResponse>(), privateKey);
  }

  get id(): string {
    return this.enrollment.deviceId;
  }

  signedHeaders(method: string, path: string, body: string, seq = ++this.seq, ts = Date.now()): Record<string, string> {
    const input = signatureInput({ method, path, seq, timestampMs: ts, bodySha256: b64(body) });
    const sig = sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return {
      authorization: formatAuthorization(SIGNATURE_SCHEME, {
        device: `${this.enrollment.tenantId}/${this.enrollment.deviceId}`,
        seq,
        ts,
        sig,
      }),
      'content-type': 'application/json',
    };
  }

  async startSession(): Promise<DeviceSession> {
    const body = '{}';
    const res = await this.app.inject({
      method: 'POST',
      url: '/api/v1/agent/session',
      payload: body,
      headers: this.signedHeaders('POST', '/api/v1/agent/session', body),
    });
    if (res.statusCode !== 200) throw new Error(`session failed: ${res.statusCode} ${res.body}`);
    this.session = res.json<DeviceSession>();
    return this.session;
  }

  macHeaders(method: string, path: string, body: string, seq = ++this.seq): Record<string, string> {
    if (!this.session) throw new Error('no session');
    const mac = createHmac('sha256', Buffer.from(this.session.sessionKey, 'base64url'))
      .update(macInput({ method, path, seq, bodySha256: b64(body) }))
      .digest('base64url');
    return {
      authorization: formatAuthorization(SESSION_SCHEME, { session: this.session.sessionToken, seq, mac }),
      'content-type': 'application/json',
    };
  }

  /** A MAC'd POST; returns the response and the exact request, for replay tests. */
  async post(path: string, payload: unknown): Promise<{ res: LightMyRequestResponse; headers: Record<string, string>; body: string }> {
    if (!this.session) await this.startSession();
    const body = JSON.stringify(payload);
    const headers = this.macHeaders('POST', path, body);
    const res = await this.app.inject({ method: 'POST', url: path, payload: body, headers });
    return { res, headers, body };
  }

  /** A MAC'd GET (empty body). */
  async get(path: string): Promise<LightMyRequestResponse> {
    if (!this.session) await this.startSession();
    const { authorization } = this.macHeaders('GET', path, '');
    return this.app.inject({ method: 'GET', url: path, headers: { authorization: authorization ?? '' } });
  }

  checkIn(payload: unknown) {
    return this.post('/api/v1/agent/checkin', payload);
  }
}

export function digestOf(text: string): string {
  return b64(text);
}
