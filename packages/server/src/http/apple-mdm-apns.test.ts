/**
 * The APNs provider against a local HTTP/2 TLS server that speaks APNs' wire protocol (paths
 * `/3/device/<token>`, `apns-topic`, `apns-push-type: mdm`, JSON error bodies, client certificate
 * required), on SQLite and PostgreSQL: a queued command pushes the device with its PushMagic, an
 * unregistered token is marked and no longer pushed until the next TokenUpdate, throttling backs off.
 */
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ApnsProvider } from '../domain/apple-mdm/apns-provider.js';
import {
  AppleDeviceSimulator,
  applePushCertificate as pushCertificate,
  injectTransport,
  rsaKeys,
} from '../test-support/apple-device-simulator.js';
import { BACKENDS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, type Harness } from '../test-support/harness.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  clientCertificateSha256: string;
}

/** Answers per device token: 200, or an APNs error (status and reason). */
class LocalApns {
  readonly received: Received[] = [];
  readonly answers = new Map<string, { status: number; reason: string }>();
  private waiters: (() => void)[] = [];
  url = '';
  caPem = '';
  private server: Http2SecureServer | undefined;

  async start(): Promise<void> {
    const keys = await rsaKeys();
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '02',
      name: 'CN=api.push.apple.test',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 24 * 3600_000),
      keys: keys as never,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as never,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
    });
    this.caPem = certificate.toString('pem');
    const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
    // APNs requires the provider certificate; this server records which one was presented.
    this.server = createSecureServer({ key, cert: this.caPem, requestCert: true, rejectUnauthorized: false, allowHTTP1: false });
    this.server.on('stream', (stream, headers) => this.handle(stream, headers));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves when the server has received `count` requests in all. */
  async receivedCount(count: number): Promise<void> {
    while (this.received.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const path = String(headers[':path']);
      const peer = (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate();
      this.received.push({
        path,
        headers,
        body: Buffer.concat(chunks).toString(),
        clientCertificateSha256: peer?.raw ? createHash('sha256').update(peer.raw).digest('hex') : '',
      });
      const token = /^\/3\/device\/([0-9a-f]+)$/.exec(path)?.[1];
      const answer = token ? this.answers.get(token) : { status: 404, reason: 'BadPath' };
      if (headers[':method'] !== 'POST' || headers['apns-push-type'] !== 'mdm' || !headers['apns-topic']) {
        stream.respond({ ':status': 400, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ reason: 'MissingTopic' }));
      } else if (answer) {
        stream.respond({ ':status': answer.status, 'content-type': 'application/json', 'apns-id': 'A1' });
        stream.end(JSON.stringify({ reason: answer.reason, ...(answer.status === 410 ? { timestamp: Date.now() } : {}) }));
      } else {
        stream.respond({ ':status': 200, 'apns-id': 'A1' });
        stream.end();
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

for (const { name, create } of BACKENDS) {
  describe(`APNs push for Apple MDM on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    const apns = new LocalApns();
    let t: Awaited<ReturnType<typeof seedTenant>>;
    let push: Awaited<ReturnType<typeof pushCertificate>>;
    let now = Date.now();
    const clock = { now: () => now };
    let provider: ApnsProvider;

    before(async () => {
      await apns.start();
      t = await seedTenant(h, 'GB');
      push = await pushCertificate();
      await h.runtime.services.appleMdm.uploadPushCertificate({ type: 'system', id: 'cli', name: 'test' }, t.tenantId, {
        certificatePem: push.certificatePem,
        privateKeyPem: push.privateKeyPem,
      });
      provider = new ApnsProvider(h.runtime.services.tenants, h.runtime.services.appleMdm, clock, { url: apns.url, ca: apns.caPem });
      h.runtime.services.applePush.provider = provider;
    });
    after(async () => {
      provider.close();
      await apns.close();
    });

    const enroll = async () => {
      const sim = await AppleDeviceSimulator.enroll(injectTransport(h.app), t.enrollmentToken);
      await sim.session();
      const list = await h.app.inject({ url: '/api/v1/devices?limit=100', headers: { authorization: `Bearer ${t.adminToken}` } });
      const id = String(
        list.json<{ items: Record<string, unknown>[] }>().items.find((d) => d['serialNumber'] === sim.device.serialNumber)?.['id'],
      );
      return { sim, id };
    };

    test('a queued command pushes the device: its token, the push topic, push type mdm, {"mdm": PushMagic}, over mutual TLS', async () => {
      const { sim, id } = await enroll();
      const before = apns.received.length;
      const res = await h.app.inject({
        method: 'POST',
        url: `/api/v1/devices/${id}/actions/lock`,
        headers: { authorization: `Bearer ${t.adminToken}` },
      });
      assert.equal(res.statusCode, 202);
      await apns.receivedCount(before + 1);
      const request = apns.received.at(-1);
      assert.ok(request);
      assert.equal(request.path, `/3/device/${sim.pushToken.toString('hex')}`);
      assert.equal(request.headers['apns-topic'], push.topic);
      assert.equal(request.headers['apns-push-type'], 'mdm');
      assert.deepEqual(JSON.parse(request.body), { mdm: sim.pushMagic });
      const pem = new x509.X509Certificate(push.certificatePem);
      assert.equal(
        request.clientCertificateSha256,
        createHash('sha256').update(Buffer.from(pem.rawData)).digest('hex'),
        'the push certificate',
      );
      // The pushed device connects and finds its command.
      assert.deepEqual(
        (await sim.session()).map((c) => c.requestType),
        ['DeviceLock'],
      );
    });

    test('an unregistered token is marked and not pushed again until the device sends a new one', async () => {
      const { sim, id } = await enroll();
      const token = sim.pushToken.toString('hex');
      apns.answers.set(token, { status: 410, reason: 'Unregistered' });
      const [result] = await provider.push(t.tenantId, [id]);
      assert.deepEqual(result, { deviceId: id, status: 410, reason: 'Unregistered' });
      const row = await h.runtime.storage
        .inspectRegionStore(t.region)
        .selectFrom('apple_mdm_devices')
        .select('push_token_invalid_at')
        .where('tenant_id', '=', t.tenantId)
        .where('device_id', '=', id)
        .executeTakeFirstOrThrow();
      assert.notEqual(row.push_token_invalid_at, null);
      const count = apns.received.length;
      assert.deepEqual(await provider.push(t.tenantId, [id]), [], 'not pushed while the token is invalid');
      assert.equal(apns.received.length, count);
      apns.answers.delete(token);
      assert.equal((await sim.tokenUpdate()).status, 200);
      assert.deepEqual(await provider.push(t.tenantId, [id]), [{ deviceId: id, status: 200 }]);

      apns.answers.set(token, { status: 400, reason: 'BadDeviceToken' });
      assert.equal((await provider.push(t.tenantId, [id]))[0]?.reason, 'BadDeviceToken');
      assert.deepEqual(await provider.push(t.tenantId, [id]), []);
      apns.answers.delete(token);
    });

    test('TooManyRequests backs the tenant off until the back-off has passed', async () => {
      const { sim, id } = await enroll();
      const token = sim.pushToken.toString('hex');
      apns.answers.set(token, { status: 429, reason: 'TooManyRequests' });
      assert.equal((await provider.push(t.tenantId, [id]))[0]?.status, 429);
      apns.answers.delete(token);
      const count = apns.received.length;
      assert.deepEqual(await provider.push(t.tenantId, [id]), [], 'backing off');
      assert.equal(apns.received.length, count);
      now += 1_001;
      assert.deepEqual(await provider.push(t.tenantId, [id]), [{ deviceId: id, status: 200 }]);
      // An agent device (no Apple token) is never pushed.
      assert.deepEqual(await provider.push(t.tenantId, ['00000000-0000-4000-8000-000000000000']), []);
    });
  });
}
