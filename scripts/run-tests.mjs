#!/usr/bin/env node
// Runs every compiled test file (unit tests beside the code, e2e/ black-box tests) with Node's test
// runner, and ends with a plain "N passed, N failed" line. Build first: `npm test` does.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages/shared/dist', 'packages/server/dist', 'packages/agent/dist', 'e2e/dist'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js')) files.push(path);
  }
}
for (const root of roots) if (existsSync(root)) walk(root);
const only = process.argv.slice(2);
const selected = only.length > 0 ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (selected.length === 0) {
  console.error('No test files found: run `npm run build` first.');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${process.env.CUSTOS_TEST_CONCURRENCY ?? 2}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/summary-reporter.mjs',
    '--test-reporter-destination=stdout',
    ...selected,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
