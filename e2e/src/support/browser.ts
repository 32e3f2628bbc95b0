/**
 * Browser helpers for the portal tests: Debian's Chromium (never a downloaded browser), axe-core run
 * inside the page, and screenshots into e2e/test-results/ (also of the page as it was when a test failed).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

export const CHROMIUM = process.env['CUSTOS_CHROMIUM'] ?? '/usr/bin/chromium';
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

/** Runs axe-core in the page; serious and critical violations fail the test. */
export async function assertAccessible(page: Page, label: string): Promise<void> {
  await page.addScriptTag({ path: AXE });
  // Runs in the page: the e2e project has no DOM types, so the page's globals are reached untyped.
  const result = await page.evaluate(async () => {
    const scope = globalThis as unknown as { axe: { run: (ctx: unknown, opts: object) => Promise<AxeResult> }; document: unknown };
    return scope.axe.run(scope.document, { resultTypes: ['violations'] });
  });
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    [],
    `accessibility of ${label}`,
  );
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });
}

/** Runs `steps`; on failure saves a screenshot named after the test, so CI logs show what the page showed. */
export async function withFailureShot(page: Page, name: string, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (error) {
    await shot(page, `${name}-FAILED`).catch(() => undefined);
    throw error;
  }
}
