import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerProblemError, UsageError } from './agent-errors.js';
import { EXIT_FAILURE, EXIT_USAGE, reportError } from './error-report.js';

describe('reportError', () => {
  it("prints the server's title, detail and every refused field, and exits 1", () => {
    const report = reportError(
      new ServerProblemError({
        type: 'urn:custos:problem:inventory-fields-refused',
        code: 'inventory-fields-refused',
        title: 'The inventory contains fields Custos does not collect',
        status: 422,
        detail: '2 fields refused; nothing was stored.',
        errors: [
          { field: 'hardware.gpsLatitude', reason: 'prohibited', category: 'location', message: 'Custos never collects location data.' },
          { field: 'apps[0].icon', reason: 'undeclared', message: 'The privacy catalog does not declare the field "icon".' },
        ],
      }),
    );
    assert.equal(report.exitCode, EXIT_FAILURE);
    assert.deepEqual(report.lines, [
      'The server refused: The inventory contains fields Custos does not collect (HTTP 422, inventory-fields-refused)',
      '  2 fields refused; nothing was stored.',
      '  - hardware.gpsLatitude: Custos never collects location data.',
      '  - apps[0].icon: The privacy catalog does not declare the field "icon".',
    ]);
    assert.equal((report.json['error'] as { code: string }).code, 'inventory-fields-refused');
  });

  it('explains a retired device', () => {
    const report = reportError(
      new ServerProblemError({
        type: 'x',
        code: 'device-not-active',
        title: 'The device is retired and its credential revoked',
        status: 403,
      }),
    );
    assert.match(report.lines.join('\n'), /retired by its organization/);
  });

  it('exits 2 for usage errors', () => {
    assert.equal(reportError(new UsageError('no')).exitCode, EXIT_USAGE);
  });
});
