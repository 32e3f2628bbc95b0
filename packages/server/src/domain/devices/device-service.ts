import type { DeviceListQuery } from '@custos/shared';
import { authorize, type Actor } from '../access/authorize.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { DevicePage, DeviceRecord, StoredApp } from './device-store.js';

/** What admins do with devices. Every method authorizes first, then reads the tenant's own store. */
export class DeviceService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  async list(actor: Actor, tenantId: string, query: DeviceListQuery): Promise<DevicePage> {
    authorize(actor, 'devices.read', { tenantId });
    return (await this.tenants.data(tenantId)).devices.list(query);
  }

  async get(actor: Actor, tenantId: string, id: string): Promise<DeviceRecord> {
    authorize(actor, 'devices.read', { tenantId });
    const device = await (await this.tenants.data(tenantId)).devices.get(id);
    if (!device) throw new DomainError('not-found', `No device has the id ${id}.`);
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
    if (device.status === 'active') await data.transaction((trx) => trx.devices.retire(id, this.clock.now()));
    return (await data.devices.get(id)) ?? device;
  }
}
