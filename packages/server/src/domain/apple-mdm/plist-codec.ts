/**
 * Apple property lists (XML) in and out, on the `plist` package. A message from a device must be a
 * well-formed plist whose root is a dictionary; anything else is refused before it is read.
 */
import { build, parse, type PlistValue } from 'plist';
import { DomainError } from '../domain-error.js';

export type PlistDict = { [key: string]: PlistValue };
export type { PlistValue };

const MAX_PLIST_BYTES = 4 * 1024 * 1024;

export function parsePlistDict(body: Buffer | string): PlistDict {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.length === 0) throw new DomainError('apple-mdm-message-invalid', 'The message body is empty; expected a property list.');
  if (text.length > MAX_PLIST_BYTES) throw new DomainError('apple-mdm-message-invalid', 'The property list is too large.');
  let value: PlistValue;
  try {
    value = parse(text);
  } catch (error) {
    throw new DomainError(
      'apple-mdm-message-invalid',
      `The message is not a well-formed property list: ${error instanceof Error ? error.message.split('\n')[0] : 'unreadable'}.`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date || ArrayBuffer.isView(value)) {
    throw new DomainError('apple-mdm-message-invalid', 'The property list’s root must be a dictionary.');
  }
  return value;
}

export function buildPlist(value: PlistDict): string {
  return build(value);
}

export function str(dict: PlistDict, key: string): string | undefined {
  const v = dict[key];
  return typeof v === 'string' ? v : undefined;
}

export function num(dict: PlistDict, key: string): number | undefined {
  const v = dict[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function bool(dict: PlistDict, key: string): boolean | undefined {
  const v = dict[key];
  return typeof v === 'boolean' ? v : undefined;
}

export function data(dict: PlistDict, key: string): Buffer | undefined {
  const v = dict[key];
  return ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : undefined;
}

export function dict(value: PlistValue | undefined): PlistDict | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !ArrayBuffer.isView(value)
    ? value
    : undefined;
}

export function requireString(d: PlistDict, key: string): string {
  const v = str(d, key);
  if (v === undefined || v.length === 0 || v.length > 512) {
    throw new DomainError('apple-mdm-message-invalid', `The message needs a "${key}" string.`);
  }
  return v;
}
