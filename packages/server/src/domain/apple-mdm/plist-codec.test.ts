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
