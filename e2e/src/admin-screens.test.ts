/**
 * The admin portal's management screens in a real browser (Debian's Chromium driven by playwright-core)
 * against a real `custos serve`: an admin edits the organization settings (a bad accent colour is
 * refused at its field and nothing is saved), creates a compliance policy with an action and an
 * assignment (a bad OS version is refused first), creates a Wi-Fi profile and sees its per-status
 * device counts once the enrolled device applies it, creates a user whose initial password is shown
 * once and works and gives them a phone number (a malformed one is refused at its field), and creates an API token that is shown once and works, and the screens pass axe-core
 * in the dark scheme too and fit 1280 px; the admin adds a passkey in the Company Portal (Chromium's
 * virtual authenticator) and completes the next sign-in with "Use a passkey"; an employee sees the new
 * privacy statement, the branding and their sessions in the Company Portal. Every new page is checked
 * with axe-core; screenshots land in e2e/test-results/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { generateSync } from 'otplib';
import { BACKENDS, type TestBackend } from '@custos/server/test-support/backends';
import { assertAccessible, CHROMIUM, shot, withFailureShot } from './support/browser.js';
import { AGENT_BIN, CUSTOS_BIN, runJson, startServer, storageEnv, type ServerProcess } from './support/processes.js';

/** A free loopback port, so the server's public URL (and so the WebAuthn relying party) is known before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const PRIVACY_TEXT = 'Acme sees the hardware facts listed below and the apps it installed. Nothing else.';

for (const { name, create } of BACKENDS) {
  describe(`the admin screens in Chromium, on ${name}`, () => {
    let backend: TestBackend;
    let env: NodeJS.ProcessEnv;
    let server: ServerProcess;
    let browser: Browser;
    let work: string;
    let tenantId: string;
    let admin: { userName: string; password: string };
    let employee: { userName: string; password: string };
    let sync: () => Promise<unknown>;
    let port: number;
    let totpSecret = '';
    let call: <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

    before(async () => {
      assert.ok(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (.ci/run installs Debian's chromium)`);
      backend = await create();
      port = await freePort();
      env = { ...storageEnv(backend.config), CUSTOS_AGENT_ACTIONS: 'simulate', CUSTOS_PUBLIC_URL: `http://localhost:${port}` };
      work = mkdtempSync(join(tmpdir(), 'custos-e2e-admin-'));
      const tenant = await runJson<{ tenantId: string; adminUserName: string; adminInitialPassword: string }>(
        CUSTOS_BIN,
        ['tenant', 'create', '--name', 'Acme UK', '--country', 'GB', '--admin-email', 'it@acme.example'],
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
        ['enrollment-token', 'create', '--tenant', tenantId, '--ownership', 'corporate'],
        env,
      );
      server = await startServer(env, port);
      call = async <T>(method: string, path: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
      };
      const stateDir = join(work, 'agent');
      await runJson(AGENT_BIN, ['enroll', '--server', server.url, '--token', enrollment.token, '--state-dir', stateDir, '--yes'], env);
      sync = () => runJson(AGENT_BIN, ['sync', '--state-dir', stateDir], env);
      await sync();
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
      await backend?.dispose();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    test('an admin manages settings, a policy, a profile, a user and an API token through the screens', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      await withFailureShot(page, `${name}-admin-screens`, async () => {
        // Each new screen's address loads the admin page itself (a bookmark or a reload works).
        for (const path of ['/settings', '/profiles', '/roles', '/tokens']) {
          const res = await fetch(`${server.url}${path}`);
          assert.equal(res.status, 200, path);
          assert.match(res.headers.get('content-type') ?? '', /text\/html/, path);
        }
        await page.goto(`${server.url}/?tenant=${tenantId}`);
        await page.getByLabel('User name').fill(admin.userName);
        await page.getByLabel('Password').fill(admin.password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
        totpSecret = secret;
        await page.getByLabel('Code from your authenticator app').fill(generateSync({ secret }));
        await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

        // ---- Settings: a bad colour is refused at its field, then the privacy statement and branding are saved.
        await page.getByRole('link', { name: 'Settings', exact: true }).click();
        await page.getByRole('heading', { name: 'Settings', exact: true }).waitFor();
        // The forms fill in once the settings arrive; typing starts after that.
        await page.getByText('Acme UK · GB', { exact: false }).waitFor();
        await page.getByRole('heading', { name: 'Single sign-on (OpenID Connect)' }).waitFor();
        const privacy = page.getByLabel('Privacy statement', { exact: true });
        await assertAccessible(page, 'settings');
        await privacy.fill(PRIVACY_TEXT);
        await page.getByLabel('Display name in the portals').fill('Acme IT');
        await page.getByLabel('Accent colour', { exact: true }).fill('blue');
        await page.getByRole('button', { name: 'Save organization settings' }).click();
        await page.getByText('A colour as #rrggbb.').waitFor();
        const unchanged = await call<{ privacyStatement: { text: string | null } }>('GET', '/api/v1/tenant/settings');
        assert.notEqual(unchanged.body.privacyStatement.text, PRIVACY_TEXT, 'nothing is saved while a field is invalid');
        await page.getByLabel('Accent colour', { exact: true }).fill('#1a5fb4');
        await page.getByRole('button', { name: 'Save organization settings' }).click();
        await page.getByText(/Saved\. Privacy statement version/).waitFor();
        const saved = await call<{ privacyStatement: { text: string | null }; branding: { displayName: string; accentColor: string } }>(
          'GET',
          '/api/v1/tenant/settings',
        );
        assert.equal(saved.body.privacyStatement.text, PRIVACY_TEXT);
        assert.deepEqual(saved.body.branding, { displayName: 'Acme IT', accentColor: '#1a5fb4' });
        // The portal's accent follows the branding.
        await page.waitForFunction(() => {
          const doc = (globalThis as unknown as { document: { documentElement: { style: { getPropertyValue: (n: string) => string } } } })
            .document;
          return doc.documentElement.style.getPropertyValue('--accent') === '#1a5fb4';
        });
        await shot(page, `${name}-admin-settings`);

        // ---- A compliance policy: a bad OS version is refused, then it is created with an action and an assignment.
        await page.getByRole('link', { name: 'Compliance policies' }).click();
        await page.getByRole('button', { name: 'New policy' }).click();
        const editor = page.getByRole('form', { name: 'New compliance policy' });
        await editor.getByLabel('Name', { exact: true }).fill('Disk encryption');
        await editor.getByLabel('Minimum OS version').fill('twelve');
        await editor.getByRole('button', { name: 'Create policy' }).click();
        await editor.getByText('A version such as 12 or 14.4.1.').waitFor();
        assert.equal((await call<{ items: unknown[] }>('GET', '/api/v1/compliance-policies')).body.items.length, 0);
        await editor.getByLabel('Minimum OS version').fill('12.0');
        await editor.getByLabel('Require disk encryption').check();
        await editor.getByLabel('Require a password').check();
        await editor.getByLabel('Password minimum length').fill('8');
        await editor.getByRole('button', { name: 'Add: Mark non-compliant (grace period)' }).click();
        await editor.getByLabel('after days').fill('2');
        await editor.getByRole('button', { name: 'Add assignment' }).click();
        await editor.getByLabel('Target of assignment 1').selectOption('allUsers');
        await assertAccessible(page, 'compliance policy editor');
        await editor.getByRole('button', { name: 'Create policy' }).click();
        await page.getByTestId('assigned-Disk encryption').filter({ hasText: 'all users' }).waitFor();
        const policies = await call<{
          items: { name: string; settings: unknown; actions: unknown; assignments: unknown }[];
        }>('GET', '/api/v1/compliance-policies');
        assert.equal(policies.body.items.length, 1);
        assert.deepEqual(policies.body.items[0]?.settings, {
          requireEncryption: true,
          minimumOsVersion: '12.0',
          requirePassword: { minimumLength: 8 },
        });
        assert.deepEqual(policies.body.items[0]?.actions, [{ type: 'markNoncompliant', afterDays: 2 }]);
        assert.deepEqual(policies.body.items[0]?.assignments, [{ target: 'allUsers', mode: 'include' }]);
        await page.getByRole('heading', { name: 'Retire list' }).waitFor();
        await assertAccessible(page, 'compliance policies');
        await shot(page, `${name}-admin-policies`);

        // ---- A Wi-Fi profile: a short passphrase is refused, then it is created and the device's status is counted.
        await page.getByRole('link', { name: 'Configuration profiles' }).click();
        await page.getByRole('button', { name: 'New profile' }).click();
        const profileEditor = page.getByRole('form', { name: 'New configuration profile' });
        await profileEditor.getByLabel('Name', { exact: true }).fill('Office Wi-Fi');
        await profileEditor.getByLabel('Network name (SSID)').fill('Acme Office');
        await profileEditor.getByLabel('Passphrase').fill('short');
        await profileEditor.getByRole('button', { name: 'Add assignment' }).click();
        await profileEditor.getByRole('button', { name: 'Create profile' }).click();
        await profileEditor.getByText('8 to 63 characters.').waitFor();
        assert.equal((await call<{ items: unknown[] }>('GET', '/api/v1/configuration-profiles')).body.items.length, 0);
        await profileEditor.getByLabel('Passphrase').fill('correct horse battery');
        await assertAccessible(page, 'configuration profile editor');
        await profileEditor.getByRole('button', { name: 'Create profile' }).click();
        const row = page.getByTestId('profile-Office Wi-Fi');
        await row.waitFor();
        await sync();
        for (let attempt = 0; ; attempt++) {
          await page.reload();
          const succeeded = (await row.getByTestId('count-succeeded').textContent({ timeout: 10_000 }))?.trim();
          if (succeeded === '1') break;
          assert.ok(attempt < 20, `the Wi-Fi profile's succeeded count stays ${succeeded}`);
          await page.waitForTimeout(500);
        }
        assert.equal((await row.getByTestId('count-failed').textContent())?.trim(), '0');
        assert.equal((await row.getByTestId('count-pending').textContent())?.trim(), '0');
        await assertAccessible(page, 'configuration profiles');
        await shot(page, `${name}-admin-profiles`);

        // ---- A user with a generated password, shown once, that signs in.
        await page.getByRole('link', { name: 'Users and groups' }).click();
        await page.getByLabel('User name', { exact: true }).fill('new.hire@acme.example');
        await page.getByLabel('Display name', { exact: true }).fill('New Hire');
        await page.getByRole('button', { name: 'Create user' }).click();
        const initialPassword = (await page.getByTestId('initial-password').textContent())?.trim() ?? '';
        assert.equal(initialPassword.length, 20);
        await page.getByRole('table', { name: 'Users' }).getByRole('cell', { name: 'new.hire@acme.example', exact: true }).waitFor();
        await assertAccessible(page, 'users and groups');
        await shot(page, `${name}-admin-users`);
        const login = await fetch(`${server.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ tenantId, userName: 'new.hire@acme.example', password: initialPassword }),
        });
        assert.equal(login.status, 200, 'the password shown once signs the new user in');
        await page.getByRole('button', { name: 'Done' }).click();
        assert.equal(await page.getByTestId('initial-password').count(), 0, 'the password is gone once dismissed');

        // ---- The user's phone: a malformed number is refused at its field, then a valid one is saved.
        const phoneOf = async () =>
          (await call<{ items: { phone: string | null }[] }>('GET', '/api/v1/users?userName=new.hire%40acme.example')).body.items[0]?.phone;
        await page.getByRole('button', { name: 'Details of new.hire@acme.example', exact: true }).click();
        const details = page.getByRole('form', { name: 'Details of new.hire@acme.example' });
        assert.equal(await details.getByLabel('Display name', { exact: true }).inputValue(), 'New Hire');
        await details.getByLabel('Phone (optional)').fill('call me');
        await details.getByRole('button', { name: 'Save details' }).click();
        await details.getByText('Digits with an optional leading "+", like +44 20 7946 0958.').waitFor();
        assert.equal(await phoneOf(), null, 'nothing is saved while the phone is invalid');
        await assertAccessible(page, 'user details with a field error');
        await details.getByLabel('Phone (optional)').fill('+44 20 7946 0958');
        await details.getByRole('button', { name: 'Save details' }).click();
        await details.getByText('Saved the details of new.hire@acme.example.').waitFor();
        assert.equal(await phoneOf(), '+44 20 7946 0958');
        await details.getByRole('button', { name: 'Close' }).click();
        await page.getByRole('button', { name: 'Details of new.hire@acme.example', exact: true }).click();
        assert.equal(await details.getByLabel('Phone (optional)').inputValue(), '+44 20 7946 0958', 'the editor shows the saved phone');
        await shot(page, `${name}-admin-user-details`);

        // ---- Roles: the built-in roles and their permissions.
        await page.getByRole('link', { name: 'Roles', exact: true }).click();
        await page.getByRole('table', { name: 'Roles' }).getByText('Tenant Administrator', { exact: true }).waitFor();
        await assertAccessible(page, 'roles');

        // ---- An API token, shown once, that works.
        await page.getByRole('link', { name: 'API tokens' }).click();
        await page.getByLabel('Name', { exact: true }).fill('inventory export');
        await page.getByLabel('Role', { exact: true }).selectOption('Read Only Operator');
        await page.getByRole('button', { name: 'Create token' }).click();
        const apiToken = (await page.getByTestId('api-token').textContent())?.trim() ?? '';
        assert.ok(apiToken.length > 20);
        await page.getByRole('table', { name: 'API tokens' }).getByRole('cell', { name: 'inventory export', exact: true }).waitFor();
        await assertAccessible(page, 'API tokens');
        await shot(page, `${name}-admin-tokens`);
        const devices = await fetch(`${server.url}/api/v1/devices`, { headers: { authorization: `Bearer ${apiToken}` } });
        assert.equal(devices.status, 200, 'the token shown once reads devices');
        await page.getByRole('button', { name: 'Done' }).click();
        assert.equal(await page.getByTestId('api-token').count(), 0);

        // ---- The same screens in the dark scheme, with the tenant's accent colour applied.
        await page.emulateMedia({ colorScheme: 'dark' });
        for (const [link, heading] of [
          ['Settings', 'Settings'],
          ['Compliance policies', 'Compliance policies'],
          ['Configuration profiles', 'Configuration profiles'],
          ['Users and groups', 'Users and groups'],
          ['Roles', 'Roles'],
          ['API tokens', 'API tokens'],
        ] as const) {
          await page.getByRole('link', { name: link, exact: true }).click();
          await page.getByRole('heading', { name: heading, exact: true }).waitFor();
          await page.locator('table tbody tr, form').first().waitFor();
          await assertAccessible(page, `${heading} (dark)`);
          const width = await page.evaluate(
            () =>
              (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
          );
          assert.ok(width <= 1280, `${heading} fits 1280 px (it is ${width} px wide)`);
        }
        await shot(page, `${name}-admin-tokens-dark`);
      });
      await context.close();
    });

    test('an admin adds a passkey in the Company Portal and completes the next sign-in with "Use a passkey"', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      await withFailureShot(page, `${name}-passkey`, async () => {
        assert.ok(totpSecret, "the first test set up the admin's authenticator");
        // WebAuthn needs a domain: the server's public URL is http://localhost:<port>. The admin adds a
        // passkey in the Company Portal (Chromium's virtual authenticator answers)...
        await page.goto(`http://localhost:${port}/portal?tenant=${tenantId}`);
        await page.getByLabel('User name').fill(admin.userName);
        await page.getByLabel('Password').fill(admin.password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        // The code of the set-up is spent; the next time step's is within the accepted drift.
        await page
          .getByLabel('Code from your authenticator app')
          .fill(generateSync({ secret: totpSecret, epoch: Math.floor(Date.now() / 1000) + 30 }));
        await page.getByRole('button', { name: 'Verify' }).click();
        const passkeys = page.getByRole('region', { name: 'Your passkeys' });
        await passkeys.getByLabel('Name of the new passkey').fill('Test key');
        await passkeys.getByRole('button', { name: 'Add a passkey' }).click();
        await passkeys.getByText('Passkey added').waitFor();
        await passkeys.getByRole('listitem').filter({ hasText: 'Test key' }).waitFor();
        await assertAccessible(page, 'company portal passkeys');

        // ...and completes the next sign-in to the admin portal with it instead of a code.
        await page.goto(`http://localhost:${port}/?tenant=${tenantId}`);
        await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByLabel('User name').fill(admin.userName);
        await page.getByLabel('Password').fill(admin.password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        const usePasskey = page.getByRole('button', { name: 'Use a passkey' });
        await usePasskey.waitFor();
        await assertAccessible(page, 'second-factor step with a passkey');
        await usePasskey.click();
        await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
        await shot(page, `${name}-passkey-signed-in`);
      });
      await context.close();
    });

    test('an employee sees the new privacy statement, the branding and their sessions in the Company Portal', async () => {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, bypassCSP: true });
      const page = await context.newPage();
      await withFailureShot(page, `${name}-portal-settings`, async () => {
        await page.goto(`${server.url}/portal?tenant=${tenantId}`);
        await page.getByLabel('User name').fill(employee.userName);
        await page.getByLabel('Password').fill(employee.password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await page.getByRole('heading', { name: 'My devices' }).waitFor();
        assert.equal((await page.getByTestId('privacy-statement').textContent())?.trim(), PRIVACY_TEXT);
        assert.equal((await page.getByTestId('portal-brand').textContent())?.trim(), 'Acme IT');
        await page.getByRole('region', { name: 'Your sessions' }).getByText('(this browser)').waitFor();
        await assertAccessible(page, 'company portal with branding and sessions');
        await shot(page, `${name}-portal-branding`);
      });
      await context.close();
    });
  });
}
