/**
 * Apple property lists (XML) in and out. A message from a device must be a well-formed XML plist
 * whose root is a dictionary; anything else is refused before it is read.
 *
 * Device messages are read with fast-xml-parser: its validator first (strict well-formedness), then
 * its parser, and the small walk below gives the tree plist meaning. The DOM-based `plist` package
 * was several times slower on the command endpoint every device polls (and wrote parse errors to
 * the console); the plist readers built on fast-xml-parser trim whitespace off strings and keys and
 * leave character references undecoded, which changes what a device said, hence this walk. A
 * message may not declare entities: no device needs them, and they are how XML expansion attacks
 * start. Answers to devices are built with `plist`.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { build, type PlistValue } from 'plist';
import { DomainError } from '../domain-error.js';

export type PlistDict = { [key: string]: PlistValue };
export type { PlistValue };

const MAX_PLIST_BYTES = 4 * 1024 * 1024;
/** Deeper nesting than any device message has; bounds the walk's recursion. */
const MAX_DEPTH = 64;

const invalid = (detail: string) => new DomainError('apple-mdm-message-invalid', detail);

const xml = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  cdataPropName: '#cdata',
});

/** One node of fast-xml-parser's ordered tree: `{ tag: children }` or `{ '#text': text }`. */
type XmlNode = Record<string, unknown>;

const TEXT = '#text';
const CDATA = '#cdata';

/** The element children of a node, skipping the whitespace between them; text anywhere else is an error. */
function elements(children: unknown, where: string): XmlNode[] {
  const out: XmlNode[] = [];
  for (const child of children as XmlNode[]) {
    if (Object.hasOwn(child, TEXT)) {
      if (String(child[TEXT]).trim() !== '') throw new Error(`Unexpected text inside <${where}>`);
      continue;
    }
    out.push(child);
  }
  return out;
}

/** The text content of a leaf element (text and CDATA sections, concatenated as written). */
function textOf(children: unknown): string {
  let text = '';
  for (const child of children as XmlNode[]) {
    if (Object.hasOwn(child, TEXT)) text += String(child[TEXT]);
    else if (Object.hasOwn(child, CDATA)) text += textOf(child[CDATA]);
    else throw new Error('Unexpected element inside a text value');
  }
  return text;
}

function tagOf(node: XmlNode): string {
  const tags = Object.keys(node).filter((k) => k !== ':@');
  if (tags.length !== 1) throw new Error('Malformed element');
  return tags[0] as string;
}

function valueOf(node: XmlNode, depth: number): PlistValue {
  if (depth > MAX_DEPTH) throw new Error('Nested too deeply');
  const tag = tagOf(node);
  const children = node[tag];
  switch (tag) {
    case 'dict': {
      const items = elements(children, 'dict');
      if (items.length % 2 !== 0) throw new Error('A <dict> needs a value for every <key>');
      const out: PlistDict = {};
      for (let i = 0; i < items.length; i += 2) {
        const keyNode = items[i] as XmlNode;
        if (tagOf(keyNode) !== 'key') throw new Error(`Expected <key> inside <dict>, found <${tagOf(keyNode)}>`);
        const key = textOf(keyNode['key']);
        if (key === '__proto__') throw new Error('A <key> may not be __proto__');
        out[key] = valueOf(items[i + 1] as XmlNode, depth + 1);
      }
      return out;
    }
    case 'array':
      return elements(children, 'array').map((item) => valueOf(item, depth + 1));
    case 'string':
      return textOf(children);
    case 'integer': {
      const text = textOf(children).trim();
      if (!/^[+-]?\d+$/.test(text)) throw new Error(`<integer> "${text.slice(0, 32)}" is not an integer`);
      return Number(text);
    }
    case 'real': {
      const value = Number(textOf(children).trim());
      if (Number.isNaN(value)) throw new Error('<real> is not a number');
      return value;
    }
    case 'date': {
      const value = new Date(textOf(children).trim());
      if (Number.isNaN(value.getTime())) throw new Error('<date> is not an ISO 8601 date');
      return value;
    }
    case 'data':
      return Buffer.from(textOf(children).replace(/\s+/g, ''), 'base64');
    case 'true':
    case 'false':
      if (elements(children, tag).length > 0) throw new Error(`<${tag}/> must be empty`);
      return tag === 'true';
    default:
      throw new Error(`<${tag.slice(0, 32)}> is not a property list type`);
  }
}

export function parsePlistDict(body: Buffer | string): PlistDict {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.length === 0) throw invalid('The message body is empty; expected a property list.');
  if (text.length > MAX_PLIST_BYTES) throw invalid('The property list is too large.');
  if (text.includes('<!ENTITY')) throw invalid('The property list declares XML entities; device messages may not.');
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw invalid(`The message is not a well-formed XML property list: ${valid.err.msg} (line ${valid.err.line}).`);
  }
  let value: PlistValue;
  try {
    const roots = elements(xml.parse(text), 'document').filter((node) => !Object.hasOwn(node, '!DOCTYPE'));
    const plist = roots[0];
    if (roots.length !== 1 || plist === undefined || tagOf(plist) !== 'plist') throw new Error('The document must be one <plist>');
    const content = elements(plist['plist'], 'plist');
    if (content.length !== 1) throw new Error('A <plist> holds exactly one value');
    value = valueOf(content[0] as XmlNode, 0);
  } catch (error) {
    throw invalid(
      `The message is not a well-formed property list: ${error instanceof Error ? error.message.split('\n')[0] : 'unreadable'}.`,
    );
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
