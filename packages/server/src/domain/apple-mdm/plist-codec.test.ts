/** The plist codec refuses what is not a well-formed XML plist dictionary, clearly and without writing to stderr. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../domain-error.js';
import { buildPlist, parsePlistDict } from './plist-codec.js';

/** Runs `fn` with stderr and console.error captured; returns what was written there. */
function stderrOf(fn: () => void): string {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const error = console.error;
  process.stderr.write = (chunk: string | Uint8Array) => written.push(String(chunk)) > 0;
  console.error = (...args: unknown[]) => void written.push(args.map(String).join(' '));
  try {
    fn();
  } finally {
    process.stderr.write = write;
    console.error = error;
  }
  return written.join('');
}

function refusal(body: string): DomainError {
  try {
    parsePlistDict(body);
  } catch (error) {
    assert.ok(error instanceof DomainError, String(error));
    return error;
  }
  assert.fail(`accepted ${body}`);
}

test('malformed XML is refused with apple-mdm-message-invalid naming the problem, and nothing reaches stderr', () => {
  const bodies = [
    '<plist><dict><key>MessageType</key>',
    '<plist><dict></plist>',
    '<plist><dict/></plist><plist/>',
    '{ MessageType = Authenticate; }',
    '<plist><dict><key a=b>x</key></dict></plist>',
  ];
  for (const body of bodies) {
    const output = stderrOf(() => {
      const error = refusal(body);
      assert.equal(error.code, 'apple-mdm-message-invalid');
      assert.match(error.message, /^The message is not a well-formed (XML )?property list: \S/, body);
    });
    assert.equal(output, '', `nothing on stderr for ${body}`);
  }
});

test('a well-formed plist whose root is no dictionary, or whose dictionary is broken, is refused too', () => {
  assert.match(refusal('<plist><array/></plist>').message, /root must be a dictionary/);
  assert.match(refusal('<plist><dict><string>x</string></dict></plist>').message, /not a well-formed property list: /);
  assert.match(refusal('').message, /empty/);
});

test('a dictionary round-trips', () => {
  const value = { MessageType: 'Authenticate', Count: 3, Ok: true, Data: Buffer.from([1, 2, 3]) };
  const parsed = parsePlistDict(buildPlist(value));
  assert.deepEqual({ ...parsed, Data: Buffer.from(parsed['Data'] as Uint8Array) }, value);
});

test('what a device wrote is read as written: whitespace kept, character references and CDATA decoded, nesting kept', () => {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
    '<plist version="1.0"><dict>\n' +
    '  <key> Name </key><string>  Anna&apos;s &#x1F4F1; &amp; <![CDATA[<iPad>]]> </string>\n' +
    '  <key>List</key><array><integer>-3</integer><real>1.5</real><true/><false/><date>2026-01-02T03:04:05Z</date>' +
    '<dict><key>Inner</key><data>AQID\n BA==</data></dict></array>\n' +
    '  <!-- a comment --><key>Empty</key><string/>\n' +
    '</dict></plist>\n';
  const parsed = parsePlistDict(body);
  assert.equal(parsed[' Name '], "  Anna's \u{1F4F1} & <iPad> ");
  assert.equal(parsed['Empty'], '');
  const list = parsed['List'] as unknown[];
  assert.deepEqual(list.slice(0, 4), [-3, 1.5, true, false]);
  assert.equal((list[4] as Date).toISOString(), '2026-01-02T03:04:05.000Z');
  assert.deepEqual([...((list[5] as Record<string, Uint8Array>)['Inner'] as Uint8Array)], [1, 2, 3, 4]);
});

test('plists that are well-formed XML but not valid property lists are refused with what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['<plist><dict><key>A</key></dict></plist>', /needs a value for every <key>/],
    ['<plist><dict><key>A</key><key>B</key></dict></plist>', /needs a value for every <key>/],
    ['<plist><array><key>A</key></array></plist>', /<key> outside a <dict>/],
    ['<plist><dict><key>__proto__</key><string>x</string></dict></plist>', /__proto__/],
    ['<plist><dict><key>A</key><true>yes</true></dict></plist>', /must be empty/],
    ['<plist><dict><key>A</key><integer>1.5</integer></dict></plist>', /not an integer/],
    ['<plist><dict><key>A</key><string><b/></string></dict></plist>', /Unexpected element inside <string>/],
    ['<plist><dict>text</dict></plist>', /Unexpected text inside <dict>/],
    ['<plist><dict/><dict/></plist>', /exactly one value/],
    ['<html/>', /one <plist>/],
    ['<plist><dict><key>A</key><html/></dict></plist>', /not a property list type/],
    [`<plist>${'<array>'.repeat(80)}${'</array>'.repeat(80)}</plist>`, /Nested too deeply/],
  ];
  for (const [body, reason] of cases) {
    const error = refusal(body);
    assert.equal(error.code, 'apple-mdm-message-invalid');
    assert.match(error.message, reason, body);
  }
});

test('entities are refused: declared ones before parsing, undeclared ones by the parser', () => {
  const declared = '<!DOCTYPE plist [<!ENTITY x "xxxxxxxx">]><plist><dict><key>A</key><string>&x;</string></dict></plist>';
  assert.match(refusal(declared).message, /declares XML entities/);
  assert.match(refusal('<plist><dict><key>A</key><string>&nbsp;</string></dict></plist>').message, /well-formed XML property list/);
});
