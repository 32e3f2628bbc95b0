import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeReportedString, normalizeReportedValue } from './normalize-reported-value.js';

describe('normalizeReportedValue', () => {
  it('maps empty strings and placeholders to null, whatever their case and padding', () => {
    for (const placeholder of [
      '',
      '   ',
      '-',
      'Not Specified',
      'To Be Filled By O.E.M.',
      'to be filled by o.e.m.',
      'Default string',
      ' System Serial Number ',
      '0',
      '00000000',
      'None',
      'Not Applicable',
      'UNKNOWN',
      'N/A',
    ]) {
      assert.equal(normalizeReportedValue(placeholder), null, JSON.stringify(placeholder));
    }
  });

  it('keeps real values, trimmed', () => {
    assert.equal(normalizeReportedValue('  Dell Inc. '), 'Dell Inc.');
    assert.equal(normalizeReportedValue('C02XK0AAJG5J'), 'C02XK0AAJG5J');
    assert.equal(normalizeReportedValue('Docker Container'), 'Docker Container');
    assert.equal(normalizeReportedValue('10'), '10');
  });

  it('passes booleans and finite numbers through, and turns everything else into null', () => {
    assert.equal(normalizeReportedValue(true), true);
    assert.equal(normalizeReportedValue(false), false);
    assert.equal(normalizeReportedValue(0), 0);
    assert.equal(normalizeReportedValue(512), 512);
    assert.equal(normalizeReportedValue(Number.NaN), null);
    assert.equal(normalizeReportedValue(undefined), null);
    assert.equal(normalizeReportedValue({}), null);
  });

  it('has a string-only variant', () => {
    assert.equal(normalizeReportedString(12), null);
    assert.equal(normalizeReportedString(' x '), 'x');
  });
});
