import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from './agent-errors.js';
import { deleteState, ensureStateDir, readState, requireState, statePath, writeState, type AgentState } from './state.js';

const posix = process.platform !== 'win32';

function sampleState(overrides: Partial<AgentState> = {}): AgentState {
  return {
    version: 1,
    serverUrl: 'https://custos.example.com',
    tenantId: '0b6c2d9e-6a43-4c8e-9d4c-0a1f8f3e2b10',
    deviceId: '5f0e7c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b',
    ownership: 'corporate',
    platform: 'linux',
    privateKeyPem: '-----BEGIN PRIVATE KEY-----\nMIG...\n-----END PRIVATE KEY-----\n',
    certificatePem: '',
    caCertificatePem: '',
    seq: 0,
    session: null,
    lastSentInventory: null,
    lastSentDigest: null,
    appInventoryScope: 'all',
    schedule: { initialIntervalSeconds: 180, initialPeriodSeconds: 900, intervalSeconds: 28_800 },
    nextCheckInSeconds: null,
    consent: { privacyStatementVersion: '1', method: 'unattended' },
    enrolledAt: '2025-01-01T00:00:00.000Z',
    lastSyncAt: null,
    ...overrides,
  };
}

describe('state file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'custos-state-'));
  after(() => rm(root, { recursive: true, force: true }));

  it('creates a missing state directory readable by its owner only', { skip: !posix }, async () => {
    const dir = join(root, 'nested', 'agent');
    await ensureStateDir(dir);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  });

  it('writes state.json with mode 0600 and reads back what it wrote', async () => {
    const dir = join(root, 'mode');
    await ensureStateDir(dir);
    const state = sampleState({ seq: 7 });
    await writeState(dir, state);
    if (posix) assert.equal((await stat(statePath(dir))).mode & 0o777, 0o600);
    assert.deepEqual(await readState(dir), state);
  });

  it('replaces the file by rename, leaving no temporary file behind', { skip: !posix }, async () => {
    const dir = join(root, 'atomic');
    await ensureStateDir(dir);
    await writeState(dir, sampleState({ seq: 1 }));
    const before = (await stat(statePath(dir))).ino;
    await writeState(dir, sampleState({ seq: 2 }));
    // A new inode means a new file was renamed over the old one, not the old one rewritten in place.
    assert.notEqual((await stat(statePath(dir))).ino, before);
    assert.deepEqual(await readdir(dir), ['state.json']);
    assert.equal((await requireState(dir)).seq, 2);
  });

  it('keeps the previous state intact when a write fails', async () => {
    const dir = join(root, 'failed-write');
    await ensureStateDir(dir);
    await writeState(dir, sampleState({ seq: 3 }));
    const unserializable = sampleState({ seq: 4, nextCheckInSeconds: 1n as unknown as number });
    await assert.rejects(writeState(dir, unserializable));
    assert.equal((await requireState(dir)).seq, 3);
    assert.deepEqual(await readdir(dir), ['state.json']);
  });

  it('tells an unenrolled directory and a foreign file apart from a valid state', async () => {
    const dir = join(root, 'invalid');
    await ensureStateDir(dir);
    assert.equal(await readState(dir), undefined);
    await assert.rejects(requireState(dir), UsageError);
    await writeFile(statePath(dir), '{"hello":"world"}');
    await assert.rejects(readState(dir), /not a custos-agent state file/);
    await writeFile(statePath(dir), '{not json');
    await assert.rejects(readState(dir), /not valid JSON/);
  });

  it('deletes the state, key included', async () => {
    const dir = join(root, 'delete');
    await ensureStateDir(dir);
    await writeState(dir, sampleState());
    assert.match(await readFile(statePath(dir), 'utf8'), /PRIVATE KEY/);
    await deleteState(dir);
    assert.equal(await readState(dir), undefined);
  });
});
