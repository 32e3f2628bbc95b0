/**
 * The server refuses a whole inventory when one value breaks the catalog's limits (SPEC §4: refused,
 * not truncated). A collector must never get a device stuck on that, so values that do not fit are
 * dropped here, at the source: an over-long optional value becomes `null` (not reportable), an app
 * whose name does not fit is left out.
 */
import { appField, hardwareField, type AppRecord, type HardwareValue } from '@custos/shared';

function fits(maxLength: number | undefined, value: string): boolean {
  return maxLength === undefined || value.length <= maxLength;
}

export function fitHardwareValue(name: string, value: HardwareValue): HardwareValue {
  const field = hardwareField(name);
  if (!field || value === null) return null;
  switch (field.valueType) {
    case 'string':
    case 'timestamp':
      return typeof value === 'string' && fits(field.maxLength, value) && (field.allowedValues?.includes(value) ?? true) ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
  }
}

function fitAppString(name: string, value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  return fits(appField(name)?.maxLength, value) ? value : null;
}

export function fitApp(app: AppRecord): AppRecord | undefined {
  const name = app.name.trim();
  if (name === '' || !fits(appField('name')?.maxLength, name)) return undefined;
  const size = app.sizeBytes;
  return {
    name,
    version: fitAppString('version', app.version?.trim()),
    appId: fitAppString('appId', app.appId?.trim()),
    installLocation: fitAppString('installLocation', app.installLocation?.trim()),
    sizeBytes: typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : null,
    managed: app.managed ?? false,
  };
}
