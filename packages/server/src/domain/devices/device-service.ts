import type { DeviceListQuery } from '@custos/shared';
import { authorize, scopeFilter, type Actor } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { checkScopeTags, requireDeviceInScope } from './device-scope.js';
import type { DevicePage, DeviceRecord, StoredApp } from './device-store.js';

/** What admins do with devices. Every method authorizes first, then reads the tenant's own store. */
export class DeviceService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  async list(actor: Actor, tenantId: string, query: DeviceListQuery): Promise<DevicePage> {
    authorize(actor, 'devices.read', { tenantId });
    return (await this.tenants.data(tenantId)).devices.list(query, scopeFilter(actor, 'devices.read'));
  }

  async get(actor: Actor, tenantId: string, id: string): Promise<DeviceRecord> {
    authorize(actor, 'devices.read', { tenantId });
    const device = await (await this.tenants.data(tenantId)).devices.get(id);
    if (!device) throw new DomainError('not-found', `No device has the id ${id}.`);
    requireDeviceInScope(actor, 'devices.read', tenantId, device);
    return device;
  }

  async apps(actor: Actor, tenantId: string, id: string): Promise<{ device: DeviceRecord; apps: StoredApp[] }> {
    const device = await this.get(actor, tenantId, id);
    return { device, apps: await (await this.tenants.data(tenantId)).devices.listApps(id) };
  }

  /** Retires the device record: its credential is revoked at once and its app inventory deleted. */
  async retire(actor: Actor, tenantId: string, id: string): Promise<DeviceRecord> {
    authorize(actor, 'devices.retire', { tenantId });
    const data = await this.tenants.data(tenantId);
    const device = await data.devices.get(id);
    if (!device) throw new DomainError('not-found', `No device has the id ${id}.`);
    requireDeviceInScope(actor, 'devices.retire', tenantId, device);
    await data.transaction(async (trx) => {
      // Retiring a retired device changes nothing, and is on record all the same.
      const changed = device.status === 'active' && (await trx.devices.retire(id, this.clock.now()));
      await recordAudit(trx, actor, this.clock, {
        activity: 'Retire device',
        category: 'Device',
        operation: 'update',
        targets: [{ type: 'device', id, modifiedProperties: changed ? [{ name: 'status', oldValue: 'active', newValue: 'retired' }] : [] }],
      });
    });
    return (await data.devices.get(id)) ?? device;
  }

  /** Replaces the device's scope tags (needs `devices.write` over the device as it is now). */
  async setScopeTags(actor: Actor, tenantId: string, id: string, tags: readonly string[]): Promise<DeviceRecord> {
    authorize(actor, 'devices.write', { tenantId });
    const scopeTags = checkScopeTags(tags);
    const data = await this.tenants.data(tenantId);
    return data.transaction(async (trx) => {
      const device = await trx.devices.get(id);
      if (!device) throw new DomainError('not-found', `No device has the id ${id}.`);
      requireDeviceInScope(actor, 'devices.write', tenantId, device);
      // A scoped admin may only tag with its own tags, and may not drop the device out of every scope.
      const own = scopeFilter(actor, 'devices.write');
      if (own !== null && (scopeTags.length === 0 || scopeTags.some((t) => !own.includes(t)))) {
        throw new DomainError('forbidden', `This caller may only set its own scope tags (${own.join(', ')}).`);
      }
      await trx.devices.setScopeTags(id, scopeTags);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Set device scope tags',
        category: 'Device',
        operation: 'update',
        targets: [
          { type: 'device', id, modifiedProperties: [{ name: 'scopeTags', oldValue: device.scopeTags ?? [], newValue: scopeTags }] },
        ],
      });
      return { ...device, scopeTags };
    });
  }
}
