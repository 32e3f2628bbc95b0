/**
 * The portals in a real browser (Debian's Chromium driven by playwright-core) against a real
 * `custos serve`: an admin signs in with a password and TOTP (setting it up at first sign-in), sees
 * the enrolled device on the dashboard and in the list, opens it, locks it and watches the command
 * reach the device; an employee signs in to the Company Portal, sees their non-compliant
 * device with its reasons, and reads "What your organization can see", which must match the privacy
 * catalog. Every main page is checked with axe-core; screenshots land in e2e/test-results/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { generateSync } from 'otplib';
import { BACKENDS, type TestBackend } from '@custos/server/test-support/backends';
import { assertAccessible, CHROMIUM, shot, withFailureShot } from './support/browser.js';
import { AGENT_BIN, CUSTOS_BIN, runJson, startServer, storageEnv, type ServerProcess } from './support/processes.js';

for (const { name, create } of BACKENDS) {
  describe(`the portals in Chromium, on ${name}`, () => {
    let backend: TestBackend;
    let env: NodeJS.ProcessEnv;
    let server: ServerProcess;
    let sync: () => Promise<unknown>;
    let browser: Browser;
    let work: string;
    let tenantId: string;
    let admin: { userName: string; password: string };
    let employee: { userName: string; password: string };
    let deviceId: string;

    before(async () => {
      assert.ok(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (.ci/run installs Debian's chromium)`);
      backend = await create();
      env = { ...storageEnv(backend.config), CUSTOS_AGENT_ACTIONS: 'simulate' };
      work = mkdtempSync(join(tmpdir(), 'custos-e2e-portals-'));
      const tenant = await runJson<{ tenantId: string; adminUserName: string; adminInitialPassword: string }>(
        CUSTOS_BIN,
        [
          'tenant',
          'create',
          '--name',
          'Acme UK',
          '--country',
          'GB',
          '--admin-email',
          'it@acme.example',
          '--support-contact',
          'IT desk, ext. 4242',
        ],
        env,
      );
      tenantId = tenant.tenantId;
      admin = { userName: tenant.adminUserName, password: tenant.adminInitialPassword };
      const emp = await runJson<{ initialPassword: string }>(
        CUSTOS_BIN,
        ['user', 'create', '--tenant', tenantId, '--user-name', 'emp@acme.example'],
        env,
      );
      employee = { userName: 'emp@acme.example', password: emp.initialPassword };
      const token = (
        await runJson<{ token: string }>(CUSTOS_BIN, ['token', 'create', '--tenant', tenantId, '--role', 'Tenant Administrator'], env)
      ).token;
      const enrollment = await runJson<{ token: string }>(
        CUSTOS_BIN,
        ['enrollment-token', 'create', '--tenant', tenantId, '--ownership', 'personal', '--user-email', employee.userName],
        env,
      );
      server = await startServer(env);
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
        return text ? (JSON.parse(text) as { id: string }) : undefined;
      };
      const policy = await call('POST', '/api/v1/compliance-policies', {
        name: 'Baseline security',
        settings: { requireEncryption: true, minimumOsVersion: '12.0' },
      });
      await call('PUT', `/api/v1/compliance-policies/${policy?.id}/assignments`, {
        assignments: [{ target: 'allDevices', mode: 'include' }],
      });

      const stateDir = join(work, 'agent');
      const enrolled = await runJson<{ deviceId: string }>(
        AGENT_BIN,
        ['enroll', '--server', server.url, '--token', enrollment.token, '--state-dir', stateDir, '--yes'],
        env,
      );
      deviceId = enrolled.deviceId;
      const inventory = join(work, 'inventory.json');
      writeFileSync(
        inventory,
        JSON.stringify({
          hardware: {
            deviceName: 'emp-laptop',
            manufacturer: 'Lenovo',
            model: 'ThinkPad T14',
            operatingSystem: 'Ubuntu',
            osVersion: '11.2',
            serialNumber: 'PF-TEST-1',
            encrypted: false,
          },
          apps: [],
        }),
      );
      sync = () => runJson(AGENT_BIN, ['sync', '--state-dir', stateDir, '--inventory-from', inventory], env);
      await sync();
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
      await backend?.dispose();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    test('an admin signs in with TOTP, finds the device, locks it and sees the command acknowledged', async () => {
      // bypassCSP only lets the test inject axe-core; the pages themselves run under the server's CSP.
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      await withFailureShot(page, `${name}-admin`, async () => {
        await page.goto(`${server.url}/?tenant=${tenantId}`);
        await assertAccessible(page, 'sign-in');
        await page.getByLabel('User name').fill(admin.userName);
        await page.getByLabel('Password').fill(admin.password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();

        // First sign-in of an admin: MFA must be set up before anything else.
        const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
        assert.match(secret, /^[A-Z2-7]+=*$/);
        await page.getByLabel('Code from your authenticator app').fill(generateSync({ secret }));
        await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
        await page.getByRole('button', { name: 'Continue' }).click();

        await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
        await page.getByTestId('device-total').filter({ hasText: '1' }).waitFor();
        await shot(page, `${name}-admin-dashboard`);
        await assertAccessible(page, 'dashboard');

        await page.getByRole('link', { name: 'Devices', exact: true }).click();
        await page.getByRole('link', { name: 'emp-laptop' }).waitFor();
        await assertAccessible(page, 'device list');
        await page.getByRole('link', { name: 'emp-laptop' }).click();
        await page.getByRole('heading', { name: /emp-laptop/ }).waitFor();
        await page
          .getByText('Device encryption')
          .or(page.getByText(/encrypt/i).first())
          .first()
          .waitFor();
        await shot(page, `${name}-admin-device`);
        await assertAccessible(page, 'device detail');

        await page.getByRole('group', { name: 'Device actions' }).getByRole('button', { name: 'Lock' }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Lock' }).click();
        await page.getByTestId('command-state-lock').filter({ hasText: 'pending' }).first().waitFor();
        // The device checks in (as the push channel would make it do at once) and acknowledges the lock;
        // the page shows the new state without a reload.
        await sync();
        await page.getByTestId('command-state-lock').filter({ hasText: 'acknowledged' }).first().waitFor({ timeout: 20_000 });
        await shot(page, `${name}-admin-lock-acknowledged`);

        // Sign out, and back in: this time the TOTP code is asked for.
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByLabel('User name').fill(admin.userName);
        await page.getByLabel('Password').fill(admin.password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        // The code used at set-up is spent; the next time step's code is within the accepted drift.
        await page.getByLabel('Code from your authenticator app').fill(generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
        await page.getByRole('button', { name: 'Verify' }).click();
        // Back where the admin was when they signed out.
        await page.getByRole('heading', { name: /emp-laptop/ }).waitFor();
      });
      await context.close();
    });

    test('an employee sees the non-compliant device with its reasons and what the organization can see', async () => {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, bypassCSP: true });
      const page = await context.newPage();
      await withFailureShot(page, `${name}-portal`, async () => {
        await page.goto(`${server.url}/portal?tenant=${tenantId}`);
        await page.getByLabel('User name').fill(employee.userName);
        await page.getByLabel('Password').fill(employee.password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await page.getByRole('heading', { name: 'My devices' }).waitFor();
        const card = page.getByRole('article', { name: 'emp-laptop' });
        await card.getByText("Can't access company resources").waitFor();
        const reasons = (await card.getByTestId('reasons').innerText()).toLowerCase();
        assert.match(reasons, /encrypt/);
        assert.match(reasons, /11\.2/);
        await page.getByText('IT desk, ext. 4242').waitFor();
        await card.getByRole('button', { name: 'What your organization can see' }).click();
        const visibility = card.getByTestId('visibility');
        await visibility.waitFor();
        await shot(page, `${name}-portal-device`);
        await assertAccessible(page, 'company portal');

        // The list must be exactly what the catalog declares for this platform, and say apps are managed-only.
        const catalog = (await (await fetch(`${server.url}/api/v1/privacy/catalog`)).json()) as {
          fields: { name: string; label: string; category: string; platforms: string[] }[];
        };
        const expected = catalog.fields.filter((f) => f.category === 'hardware' && f.platforms.includes('linux')).map((f) => f.label);
        const shown = await visibility.locator('ul').first().locator('li strong').allInnerTexts();
        assert.deepEqual(shown, expected);
        assert.match(await visibility.innerText(), /Only the apps your organization installed/);
        assert.match(await visibility.innerText(), /never see/i);
      });
      await context.close();
      assert.ok(deviceId);
    });
  });
}
