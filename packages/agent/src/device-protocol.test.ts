/**
 * The agent's half of the device protocol, against an in-process stand-in for the server that
 * checks what the real one checks: the signature with the key from the CSR, the session MAC, the
 * growing sequence number, and the inventory digest rules. The real server is exercised by the
 * end-to-end tests; this pins down the agent's behaviour on every answer the protocol allows.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  applyInventoryDelta,
  canonicalInventoryJson,
  macInput,
  parseAuthorization,
  signatureInput,
  type EnrollmentInfo,
  type InventoryDelta,
  type InventoryDocument,
} from '@custos/shared';
import { ServerProblemError, UsageError } from './agent-errors.js';
import { checkIn } from './check-in.js';
import { DeviceClient } from './client.js';
import { enrollDevice } from './enrollment.js';
import { requireState, readState, ensureStateDir } from './state.js';
import { unenrollDevice } from './unenroll.js';
import { x509 } from './x509.js';

const TENANT = '0b6c2d9e-6a43-4c8e-9d4c-0a1f8f3e2b10';
const DEVICE = '5f0e7c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b';

const INFO: EnrollmentInfo = {
  tenantName: 'Contoso',
  ownership: 'corporate',
  privacyStatement: { version: '2025-01', text: 'We look at hardware and apps only.', url: null },
  supportContact: 'it@contoso.example',
  collected: [{ name: 'deviceName', label: 'Device name', purpose: 'Lets you and IT tell your devices apart.' }],
  apps: 'All installed apps, because this device is owned by your organization.',
  neverCollected: ['Location'],
};

function digestOf(doc: InventoryDocument): string {
  return createHash('sha256').update(canonicalInventoryJson(doc)).digest('base64url');
}
const sha = (body: string) => createHash('sha256').update(body).digest('base64url');

/** The server's side of the protocol, reduced to its rules. */
class StubServer {
  publicKey: KeyObject | undefined;
  lastSeq = 0;
  sessions = new Map<string, { key: Buffer; expired: boolean }>();
  stored: { doc: InventoryDocument; digest: string } | undefined;
  enrollRequests: unknown[] = [];
  sessionsOpened = 0;
  requests: { path: string; body: unknown }[] = [];
  retired = false;
  scope: 'all' | 'managed-only' = 'all';

  private problem(res: ServerResponse, status: number, code: string, title = code): void {
    res.writeHead(status, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ type: `urn:custos:problem:${code}`, code, title, status }));
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private acceptSeq(seq: string | undefined): boolean {
    const n = Number(seq);
    if (!Number.isSafeInteger(n) || n <= this.lastSeq) return false;
    this.lastSeq = n;
    return true;
  }

  handle(req: IncomingMessage, raw: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://stub');
    const body: unknown = raw ? JSON.parse(raw) : undefined;
    this.requests.push({ path: url.pathname, body });
    if (req.method === 'GET' && url.pathname === '/api/v1/enroll/info') {
      return url.searchParams.get('token') === 'good' ? this.json(res, 200, INFO) : this.problem(res, 401, 'enrollment-token-invalid');
    }
    if (req.method === 'POST' && url.pathname === '/api/v1/enroll') {
      this.enrollRequests.push(body);
      const csr = new x509.Pkcs10CertificateRequest((body as { csr: string }).csr);
      this.publicKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
      return this.json(res, 201, {
        tenantId: TENANT,
        deviceId: DEVICE,
        certificate: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
        caCertificate: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
        appInventoryScope: this.scope,
        schedule: { initialIntervalSeconds: 180, initialPeriodSeconds: 900, intervalSeconds: 28_800 },
      });
    }
    const auth = parseAuthorization(req.headers.authorization);
    if (url.pathname === '/api/v1/agent/session') {
      const p = auth?.params ?? {};
      const input = signatureInput({
        method: 'POST',
        path: url.pathname,
        seq: Number(p['seq']),
        timestampMs: Number(p['ts']),
        bodySha256: sha(raw),
      });
      const ok =
        auth?.scheme === 'CustosDeviceSignature' &&
        p['device'] === `${TENANT}/${DEVICE}` &&
        this.publicKey !== undefined &&
        verify('sha256', Buffer.from(input), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(p['sig'] ?? '', 'base64url'));
      if (!ok) return this.problem(res, 401, 'device-auth-failed');
      if (!this.acceptSeq(p['seq'])) return this.problem(res, 401, 'device-request-replayed');
      if (this.retired) return this.problem(res, 403, 'device-not-active');
      this.sessionsOpened += 1;
      const token = randomBytes(8).toString('hex');
      const key = randomBytes(32);
      this.sessions.set(token, { key, expired: false });
      return this.json(res, 200, {
        sessionToken: token,
        sessionKey: key.toString('base64url'),
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
    }
    const session = this.sessions.get(auth?.params['session'] ?? '');
    const expectedMac =
      session &&
      createHmac('sha256', session.key)
        .update(macInput({ method: req.method ?? '', path: url.pathname, seq: Number(auth?.params['seq']), bodySha256: sha(raw) }))
        .digest('base64url');
    if (auth?.scheme !== 'CustosDevice' || !session || expectedMac !== auth.params['mac'])
      return this.problem(res, 401, 'device-auth-failed');
    if (!this.acceptSeq(auth.params['seq'])) return this.problem(res, 401, 'device-request-replayed');
    if (session.expired) return this.problem(res, 401, 'device-session-expired');
    if (this.retired) return this.problem(res, 403, 'device-not-active');
    if (url.pathname === '/api/v1/agent/unenroll') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/api/v1/agent/checkin') {
      const checkin = body as { inventoryDigest: string; inventory?: InventoryDocument; delta?: InventoryDelta };
      let outcome: 'stored' | 'unchanged' | 'required';
      if (checkin.inventory) {
        // Like the server: a document without hardware or apps has none.
        this.stored = {
          doc: { hardware: checkin.inventory.hardware ?? {}, apps: checkin.inventory.apps ?? [] },
          digest: checkin.inventoryDigest,
        };
        outcome = 'stored';
      } else if (checkin.delta) {
        if (!this.stored || checkin.delta.baseDigest !== this.stored.digest) return this.problem(res, 409, 'inventory-base-mismatch');
        const doc = applyInventoryDelta(this.stored.doc, checkin.delta);
        assert.equal(digestOf(doc), checkin.inventoryDigest, 'the delta rebuilds the inventory the agent has');
        this.stored = { doc, digest: checkin.inventoryDigest };
        outcome = 'stored';
      } else {
        outcome = this.stored?.digest === checkin.inventoryDigest ? 'unchanged' : 'required';
      }
      return this.json(res, 200, {
        inventory: outcome,
        appInventoryScope: this.scope,
        nextCheckInSeconds: 28_800,
        serverTime: new Date().toISOString(),
      });
    }
    return this.problem(res, 404, 'route-not-found');
  }
}

const INVENTORY: InventoryDocument = {
  hardware: { deviceName: 'test-host', osVersion: '12', encrypted: null },
  apps: [{ name: 'bash', version: '5.2', appId: 'bash', installLocation: null, sizeBytes: 1024, managed: false }],
};

describe('device protocol', async () => {
  const stub = new StubServer();
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => stub.handle(req, raw, res));
  });
  const root = await mkdtemp(join(tmpdir(), 'custos-protocol-'));
  const stateDir = join(root, 'state');
  let serverUrl = '';

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await ensureStateDir(stateDir);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  const inventoryFile = async (doc: InventoryDocument): Promise<string> => {
    const file = join(root, `inventory-${randomBytes(4).toString('hex')}.json`);
    await writeFile(file, JSON.stringify(doc));
    return file;
  };
  const client = async () => new DeviceClient(stateDir, await requireState(stateDir));

  it('reports a refused enrollment token with its problem code', async () => {
    await assert.rejects(
      enrollDevice({ serverUrl, token: 'bad', stateDir, obtainConsent: () => Promise.resolve('unattended') }),
      (error) => error instanceof ServerProblemError && error.is(401, 'enrollment-token-invalid'),
    );
    assert.equal(await readState(stateDir), undefined);
  });

  it('enrolls with a CSR for its own key and the consent the user gave', async () => {
    const { state } = await enrollDevice({
      serverUrl,
      token: 'good',
      stateDir,
      obtainConsent: (info) => {
        assert.equal(info.tenantName, 'Contoso');
        return Promise.resolve('interactive');
      },
    });
    assert.equal(state.deviceId, DEVICE);
    const request = stub.enrollRequests[0] as { token: string; platform: string; consent: unknown; csr: string };
    assert.equal(request.token, 'good');
    assert.deepEqual(request.consent, { privacyStatementVersion: '2025-01', method: 'interactive' });
    assert.match(request.csr, /BEGIN CERTIFICATE REQUEST/);
    assert.equal(JSON.stringify(request).includes('PRIVATE KEY'), false, 'the private key never leaves the device');
  });

  it('refuses to enroll into a directory that is already enrolled', async () => {
    await assert.rejects(
      enrollDevice({ serverUrl, token: 'good', stateDir, obtainConsent: () => Promise.resolve('unattended') }),
      UsageError,
    );
  });

  it('sends a given document whole, then only its digest while nothing changed', async () => {
    const file = await inventoryFile(INVENTORY);
    const first = await checkIn(await client(), { inventoryFromFile: file });
    assert.equal(first.sent, 'full');
    assert.equal(first.inventory, 'stored');
    assert.equal(first.inventoryDigest, digestOf(INVENTORY));
    assert.equal(stub.sessionsOpened, 1);

    const state = await requireState(stateDir);
    assert.equal(state.lastSentDigest, digestOf(INVENTORY));
    assert.equal(state.seq, stub.lastSeq, 'the counter is persisted, not only kept in memory');
  });

  it('reuses the cached session, and on device-session-expired opens a new one and retries once', async () => {
    const session = (await requireState(stateDir)).session;
    assert.ok(session);
    stub.sessions.get(session.token)!.expired = true;
    const seqBefore = stub.lastSeq;
    const result = await checkIn(await client(), { inventoryFromFile: await inventoryFile(INVENTORY) });
    assert.equal(result.inventory, 'stored');
    assert.equal(stub.sessionsOpened, 2);
    // Refused check-in, session, retried check-in: three requests, three new sequence numbers.
    assert.equal(stub.lastSeq, seqBefore + 3);
  });

  const checkIns = () => stub.requests.filter((r) => r.path === '/api/v1/agent/checkin').map((r) => r.body as Record<string, unknown>);
  const collecting = (doc: InventoryDocument, scopes: string[] = []) => ({
    collect: (_platform: string, scope: string) => {
      scopes.push(scope);
      return Promise.resolve(doc);
    },
  });

  it('resends the whole inventory when the server answers "required"', async () => {
    stub.stored = undefined; // the server lost its copy (restored from an older backup, say)
    const result = await checkIn(await client(), collecting(INVENTORY));
    assert.equal(result.sent, 'full');
    assert.equal(result.inventory, 'stored');
    const [digestOnly, full] = checkIns().slice(-2);
    assert.deepEqual(digestOnly, { inventoryDigest: digestOf(INVENTORY) });
    assert.deepEqual(full?.['inventory'], INVENTORY);
  });

  const CHANGED: InventoryDocument = {
    hardware: { ...INVENTORY.hardware, osVersion: '12.5' },
    apps: [...INVENTORY.apps, { name: 'curl', version: '8.5', appId: 'curl', installLocation: null, sizeBytes: 512, managed: false }],
  };

  it('sends only the changes as a delta against what the server accepted', async () => {
    const result = await checkIn(await client(), collecting(CHANGED));
    assert.equal(result.sent, 'delta');
    assert.equal(result.inventory, 'stored');
    const delta = checkIns().at(-1)?.['delta'] as InventoryDelta;
    assert.equal(delta.baseDigest, digestOf(INVENTORY));
    assert.deepEqual(delta.hardware, { osVersion: '12.5' });
    assert.deepEqual(stub.stored?.doc.apps.length, 2);
    assert.equal((await requireState(stateDir)).lastSentDigest, digestOf(CHANGED));
  });

  it('sends the whole inventory when the server cannot apply the delta (409 inventory-base-mismatch)', async () => {
    stub.stored = { doc: INVENTORY, digest: 'some-other-base' };
    const result = await checkIn(await client(), collecting(INVENTORY));
    assert.equal(result.sent, 'full');
    const [delta, full] = checkIns().slice(-2);
    assert.notEqual(delta?.['delta'], undefined);
    assert.deepEqual(full?.['inventory'], INVENTORY);
  });

  it('collects with the app scope the server last returned (data minimization at the source)', async () => {
    stub.scope = 'managed-only';
    await checkIn(await client(), collecting(INVENTORY));
    const scopes: string[] = [];
    await checkIn(await client(), collecting(INVENTORY, scopes));
    assert.deepEqual(scopes, ['managed-only']);
    stub.scope = 'all';
  });

  it('sends a given file exactly as read, and computes later deltas the way the server reads it', async () => {
    const file = join(root, 'hardware-only.json');
    await writeFile(file, JSON.stringify({ hardware: { deviceName: 'from-file' } }));
    const given = await checkIn(await client(), { inventoryFromFile: file });
    assert.equal(given.sent, 'full');
    assert.deepEqual(checkIns().at(-1)?.['inventory'], { hardware: { deviceName: 'from-file' } });
    const next = await checkIn(await client(), collecting(INVENTORY));
    assert.equal(next.sent, 'delta');
    assert.equal(next.inventory, 'stored');
  });

  it('unenrolls, deleting the state; a retired device is cleaned up too', async () => {
    const result = await unenrollDevice(stateDir);
    assert.deepEqual(result, { tenantId: TENANT, deviceId: DEVICE, alreadyRetired: false });
    assert.equal(await readState(stateDir), undefined);

    await enrollDevice({ serverUrl, token: 'good', stateDir, obtainConsent: () => Promise.resolve('unattended') });
    stub.lastSeq = 0;
    stub.retired = true;
    await assert.rejects(
      checkIn(await client(), { inventoryFromFile: await inventoryFile(INVENTORY) }),
      (e) => e instanceof ServerProblemError && e.is(403, 'device-not-active'),
    );
    assert.equal((await unenrollDevice(stateDir)).alreadyRetired, true);
    assert.equal(await readState(stateDir), undefined);
  });
});
