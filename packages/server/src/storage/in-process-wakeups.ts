/**
 * Device wake-ups within one process: the single-process deployment (SQLite), where the process
 * that queues a command is the one holding every push channel. Tenant changes travel the same way
 * (domain/tenants/tenant-changes.ts).
 */
import { EventEmitter } from 'node:events';
import type { DeviceWakeups, WakeupListener } from '../domain/commands/device-wakeups.js';
import type { TenantChangeFeed, TenantChangeListener } from '../domain/tenants/tenant-changes.js';

export class InProcessWakeups implements DeviceWakeups, TenantChangeFeed {
  private readonly events = new EventEmitter().setMaxListeners(0);

  publish(tenantId: string, deviceIds: readonly string[]): Promise<void> {
    for (const deviceId of deviceIds) this.events.emit('wake', tenantId, deviceId);
    return Promise.resolve();
  }

  subscribe(listener: WakeupListener): () => void {
    this.events.on('wake', listener);
    return () => this.events.off('wake', listener);
  }

  publishTenantChange(tenantId: string): Promise<void> {
    this.events.emit('tenant', tenantId);
    return Promise.resolve();
  }

  onTenantChange(listener: TenantChangeListener): () => void {
    this.events.on('tenant', listener);
    return () => this.events.off('tenant', listener);
  }

  close(): Promise<void> {
    this.events.removeAllListeners();
    return Promise.resolve();
  }
}
