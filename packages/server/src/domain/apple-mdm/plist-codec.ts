/**
 * Apple property lists (XML) in and out. A message from a device must be a well-formed XML plist
 * whose root is a dictionary; anything else is refused before it is acted on.
 *
 * Device messages are read with saxes, a strict (well-formedness-checking) streaming XML parser:
 * one pass both checks the XML and, through the handlers below, builds the plist value, with no
 * tree in between. Every device polls the command endpoint, so this is on the hottest path; the
 * DOM-based `plist` package was several times slower there (and wrote parse errors to the
 * console), and fast-xml-parser needed a separate validation pass. The generic plist readers trim
 * whitespace off strings or leave character references undecoded, which changes what a device
 * said. A message may not declare entities: no device needs them, and they are how XML expansion
 * attacks start (saxes knows only XML's predefined entities and character references). Answers to
 * devices are built with `plist`.
 */
import { SaxesParser } from 'saxes';
import { build, type PlistValue } from 'plist';
import { DomainError } from '../domain-error.js';

export type PlistDict = { [key: string]: PlistValue };
export type { PlistValue };

const MAX_PLIST_BYTES = 4 * 1024 * 1024;
/** Deeper nesting than any device message has. */
const MAX_DEPTH = 64;

const invalid = (detail: string) => new DomainError('apple-mdm-message-invalid', detail);

/** A structural error in an otherwise well-formed XML document. */
class PlistStructureError extends Error {}
const structure = (message: string) => new PlistStructureError(message);

/** An element being read: a container gathers values, a leaf gathers text. */
interface Frame {
  tag: string;
  /** `plist` and `array` values, in order. */
  items?: PlistValue[];
  /** `dict` entries, and the key still waiting for its value. */
  entries?: PlistDict;
  key?: string | undefined;
  /** Text of a leaf element (text and CDATA, concatenated as written). */
  text: string;
}

const LEAVES = new Set(['key', 'string', 'integer', 'real', 'date', 'data', 'true', 'false']);

function leafValue(frame: Frame): PlistValue {
  const text = frame.text;
  switch (frame.tag) {
    case 'key':
    case 'string':
      return text;
    case 'integer': {
      const trimmed = text.trim();
      if (!/^[+-]?\d+$/.test(trimmed)) throw structure(`<integer> "${trimmed.slice(0, 32)}" is not an integer`);
      return Number(trimmed);
    }
    case 'real': {
      const value = Number(text.trim());
      if (Number.isNaN(value)) throw structure('<real> is not a number');
      return value;
    }
    case 'date': {
      const value = new Date(text.trim());
      if (Number.isNaN(value.getTime())) throw structure('<date> is not an ISO 8601 date');
      return value;
    }
    case 'data':
      return Buffer.from(text.replace(/\s+/g, ''), 'base64');
    default:
      if (text.trim() !== '') throw structure(`<${frame.tag}/> must be empty`);
      return frame.tag === 'true';
  }
}

/**
 * Reads plist documents into values: one saxes parser, fed one whole document at a time (reading is
 * synchronous, so documents never interleave). After a refused document the reader is discarded,
 * as the parser is then mid-document.
 */
class PlistReader {
  private readonly parser = new SaxesParser({ xmlns: false, position: false });
  private stack: Frame[] = [];
  private root: PlistValue | undefined;

  constructor() {
    this.parser.on('opentag', ({ name }) => this.open(name));
    this.parser.on('text', (chunk) => this.text(chunk, false));
    this.parser.on('cdata', (chunk) => this.text(chunk, true));
    this.parser.on('closetag', () => this.close());
  }

  /** The document's value; throws saxes' errors for bad XML and PlistStructureError for a bad plist. */
  read(text: string): PlistValue {
    this.stack = [];
    this.root = undefined;
    this.parser.write(text).close();
    if (this.root === undefined) throw structure('The document must be one <plist>');
    return this.root;
  }

  private open(name: string): void {
    const parent = this.stack[this.stack.length - 1];
    if (!parent) {
      if (name !== 'plist') throw structure('The document must be one <plist>');
    } else {
      if (this.stack.length > MAX_DEPTH) throw structure('Nested too deeply');
      if (LEAVES.has(parent.tag)) throw structure(`Unexpected element inside <${parent.tag}>`);
      if (name !== 'dict' && name !== 'array' && !LEAVES.has(name)) throw structure(`<${name.slice(0, 32)}> is not a property list type`);
      if (parent.entries) {
        const wantKey = parent.key === undefined;
        if (wantKey && name !== 'key') throw structure(`Expected <key> inside <dict>, found <${name}>`);
        if (!wantKey && name === 'key') throw structure('A <dict> needs a value for every <key>');
      } else if (name === 'key') {
        throw structure('<key> outside a <dict>');
      }
    }
    const frame: Frame = { tag: name, text: '' };
    if (name === 'dict') frame.entries = {};
    else if (name === 'array' || name === 'plist') frame.items = [];
    this.stack.push(frame);
  }

  private text(chunk: string, cdata: boolean): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) return; // Whitespace around the root; saxes refuses anything else there.
    if (LEAVES.has(top.tag)) top.text += chunk;
    else if (cdata || chunk.trim() !== '') throw structure(`Unexpected text inside <${top.tag}>`);
  }

  private close(): void {
    const frame = this.stack.pop() as Frame;
    const parent = this.stack[this.stack.length - 1];
    let value: PlistValue;
    if (frame.entries) {
      if (frame.key !== undefined) throw structure('A <dict> needs a value for every <key>');
      value = frame.entries;
    } else if (frame.items) {
      value = frame.items;
    } else {
      value = leafValue(frame);
    }
    if (!parent) {
      const items = frame.items as PlistValue[];
      if (items.length !== 1) throw structure('A <plist> holds exactly one value');
      this.root = items[0];
    } else if (parent.entries) {
      if (frame.tag === 'key') {
        if (value === '__proto__') throw structure('A <key> may not be __proto__');
        parent.key = value as string;
      } else {
        parent.entries[parent.key as string] = value;
        parent.key = undefined;
      }
    } else if (parent.tag === 'plist' && (parent.items as PlistValue[]).length > 0) {
      throw structure('A <plist> holds exactly one value');
    } else {
      (parent.items as PlistValue[]).push(value);
    }
  }
}

let reader = new PlistReader();

export function parsePlistDict(body: Buffer | string): PlistDict {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.length === 0) throw invalid('The message body is empty; expected a property list.');
  if (text.length > MAX_PLIST_BYTES) throw invalid('The property list is too large.');
  if (text.includes('<!ENTITY')) throw invalid('The property list declares XML entities; device messages may not.');
  let value: PlistValue;
  try {
    value = reader.read(text);
  } catch (error) {
    reader = new PlistReader();
    const detail = error instanceof Error ? (error.message.split('\n')[0] ?? 'unreadable') : 'unreadable';
    if (error instanceof PlistStructureError) throw invalid(`The message is not a well-formed property list: ${detail}.`);
    throw invalid(`The message is not a well-formed XML property list: ${detail}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date || ArrayBuffer.isView(value)) {
    throw invalid('The property list’s root must be a dictionary.');
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
