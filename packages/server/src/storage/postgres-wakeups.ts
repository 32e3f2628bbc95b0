/**
 * Device wake-ups across every `custos serve` process sharing a PostgreSQL deployment, over
 * LISTEN/NOTIFY on the global directory database (docs/decisions/0002-push-channel.md).
 *
 * Each process keeps one dedicated connection that LISTENs on `custos_device_wake` (a pooled
 * connection cannot: LISTEN belongs to a session). Publishing is a `pg_notify` on the ordinary
 * pool. PostgreSQL delivers a notification to every listening session, the sender's included, so
 * local listeners are fed only from the LISTEN connection and a wake-up reaches each process once.
 * Payload: `tenantId:deviceId[,deviceId…]`, packed under PostgreSQL's 8000-byte payload limit.
 * The same connection LISTENs on `custos_tenant_changed` (payload: a tenant id), which tells every
 * process to drop its cached directory entry of a tenant (domain/tenants/tenant-changes.ts).
 *
 * When the LISTEN connection drops it is re-opened with back-off; wake-ups published meanwhile are
 * lost, which only delays those commands until the devices' next scheduled check-in.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import type { DeviceWakeups, WakeupListener } from '../domain/commands/device-wakeups.js';
import type { TenantChangeFeed, TenantChangeListener } from '../domain/tenants/tenant-changes.js';

export const WAKE_CHANNEL = 'custos_device_wake';
export const TENANT_CHANGE_CHANNEL = 'custos_tenant_changed';
const MAX_PAYLOAD_BYTES = 7900;
const MAX_RECONNECT_DELAY_MS = 30_000;

export class PostgresWakeups implements DeviceWakeups, TenantChangeFeed {
  private readonly events = new EventEmitter().setMaxListeners(0);
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectDelayMs = 500;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private everListened = false;

  private constructor(
    private readonly connectionString: string,
    private readonly directory: Kysely<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves once this process is listening, so a command queued right after start wakes its device. */
  static async open(connectionString: string, directory: Kysely<unknown>, onError: (error: unknown) => void = () => undefined) {
    const wakeups = new PostgresWakeups(connectionString, directory, onError);
    await wakeups.listen();
    return wakeups;
  }

  async publish(tenantId: string, deviceIds: readonly string[]): Promise<void> {
    let batch: string[] = [];
    let size = tenantId.length + 1;
    const send = async () => {
      if (batch.length > 0) await sql`select pg_notify(${WAKE_CHANNEL}, ${`${tenantId}:${batch.join(',')}`})`.execute(this.directory);
    };
    for (const deviceId of deviceIds) {
      if (size + deviceId.length + 1 > MAX_PAYLOAD_BYTES) {
        await send();
        batch = [];
        size = tenantId.length + 1;
      }
      batch.push(deviceId);
      size += deviceId.length + 1;
    }
    await send();
  }

  subscribe(listener: WakeupListener): () => void {
    this.events.on('wake', listener);
    return () => this.events.off('wake', listener);
  }

  async publishTenantChange(tenantId: string): Promise<void> {
    await sql`select pg_notify(${TENANT_CHANGE_CHANNEL}, ${tenantId})`.execute(this.directory);
  }

  onTenantChange(listener: TenantChangeListener): () => void {
    this.events.on('tenant', listener);
    return () => this.events.off('tenant', listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.events.removeAllListeners();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (message) => {
      if (message.channel === TENANT_CHANGE_CHANNEL && message.payload) {
        this.events.emit('tenant', message.payload);
        return;
      }
      if (message.channel !== WAKE_CHANNEL || !message.payload) return;
      const colon = message.payload.indexOf(':');
      if (colon <= 0) return;
      const tenantId = message.payload.slice(0, colon);
      for (const deviceId of message.payload.slice(colon + 1).split(',')) {
        if (deviceId) this.events.emit('wake', tenantId, deviceId);
      }
    });
    client.on('error', (error) => {
      this.onError(error);
      this.drop(client);
    });
    client.on('end', () => this.drop(client));
    try {
      await client.connect();
      await client.query(`listen ${WAKE_CHANNEL}`);
      await client.query(`listen ${TENANT_CHANGE_CHANNEL}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    const reopened = this.everListened;
    this.everListened = true;
    this.client = client;
    this.reconnectDelayMs = 500;
    // Tenant changes announced while no connection listened are lost: every cached tenant is suspect.
    if (reopened) this.events.emit('tenant', null);
  }

  /** Forgets a broken LISTEN connection and schedules a new one. */
  private drop(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    this.scheduleListen();
  }

  private scheduleListen(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.listen().catch((error: unknown) => {
        this.onError(error);
        this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, MAX_RECONNECT_DELAY_MS);
        this.scheduleListen();
      });
    }, this.reconnectDelayMs);
  }
}
