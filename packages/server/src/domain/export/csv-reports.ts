/**
 * CSV reports (SPEC §9 "reports export to CSV"): the device list with the list's filters, and the
 * compliance state of every device against every policy that applies to it. Produced row by row
 * from keyset pages, so a report of any size streams in bounded memory.
 *
 * CSV injection: a cell a spreadsheet would run as a formula (starting with =, +, -, @, tab or
 * carriage return) is prefixed with an apostrophe (OWASP "CSV Injection"); every cell is quoted.
 */
import type { DeviceFilter } from '@custos/shared';
import { authorize, isAllowed, scopeFilter, type Actor } from '../access/authorize.js';
import type { DeviceRecord } from '../devices/device-store.js';
import type { TenantService } from '../tenants/tenant-service.js';

const PAGE = 500;

type Cell = string | number | boolean | null | undefined;

export function csvCell(value: Cell): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

export function csvLine(cells: readonly Cell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function iso(at: number | null): string {
  return at === null ? '' : new Date(at).toISOString();
}

const DEVICE_COLUMNS = [
  'id',
  'deviceName',
  'platform',
  'operatingSystem',
  'osVersion',
  'model',
  'serialNumber',
  'ownership',
  'complianceState',
  'userEmail',
  'lastCheckInAt',
  'enrolledAt',
  'status',
] as const;

/** `withEmail`: the user's email is a catalog field visible with `users.read` only; without it the cell is empty. */
function deviceCells(d: DeviceRecord, withEmail: boolean): Cell[] {
  return [
    d.id,
    d.hardware['deviceName'],
    d.platform,
    d.hardware['operatingSystem'],
    d.hardware['osVersion'],
    d.hardware['model'],
    d.hardware['serialNumber'],
    d.ownership,
    d.complianceState,
    withEmail ? d.userEmail : null,
    iso(d.lastCheckInAt),
    iso(d.enrolledAt),
    d.status,
  ];
}

export class CsvReports {
  constructor(private readonly tenants: TenantService) {}

  /**
   * Every device the list with `filter` shows the actor (its scope applies), one CSV line each.
   * Authorizes before returning, so a refusal is an error response rather than a broken stream.
   */
  devices(actor: Actor, tenantId: string, filter: DeviceFilter): AsyncGenerator<string> {
    authorize(actor, 'devices.read', { tenantId });
    return this.deviceLines(actor, tenantId, filter);
  }

  private async *deviceLines(actor: Actor, tenantId: string, filter: DeviceFilter): AsyncGenerator<string> {
    yield csvLine(DEVICE_COLUMNS);
    const withEmail = isAllowed(actor, 'users.read', { tenantId });
    for await (const device of this.eachDevice(actor, tenantId, filter)) yield csvLine(deviceCells(device, withEmail));
  }

  /** One line per device and policy that applies to it: the device's state under that policy. */
  compliance(actor: Actor, tenantId: string, filter: DeviceFilter): AsyncGenerator<string> {
    authorize(actor, 'devices.read', { tenantId });
    authorize(actor, 'policies.read', { tenantId });
    return this.complianceLines(actor, tenantId, filter);
  }

  private async *complianceLines(actor: Actor, tenantId: string, filter: DeviceFilter): AsyncGenerator<string> {
    const data = await this.tenants.data(tenantId);
    yield csvLine([
      'deviceId',
      'deviceName',
      'platform',
      'policyId',
      'policyName',
      'policyVersion',
      'state',
      'failedSettings',
      'evaluatedAt',
    ]);
    for await (const device of this.eachDevice(actor, tenantId, filter)) {
      for (const r of await data.complianceResults.listForDevice(device.id)) {
        const failed = r.results.filter((s) => s.status === 'noncompliant').map((s) => s.setting);
        yield csvLine([
          device.id,
          device.hardware['deviceName'],
          device.platform,
          r.policyId,
          r.policyName,
          r.policyVersion,
          r.state,
          failed.join(' '),
          iso(r.evaluatedAt),
        ]);
      }
    }
  }

  private async *eachDevice(actor: Actor, tenantId: string, filter: DeviceFilter): AsyncGenerator<DeviceRecord> {
    const data = await this.tenants.data(tenantId);
    const scope = scopeFilter(actor, 'devices.read');
    let cursor: string | undefined;
    do {
      const page = await data.devices.list(
        { ...filter, limit: PAGE, sort: 'enrolledAt', order: 'asc', ...(cursor ? { cursor } : {}) },
        scope,
      );
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
}
