import { randomBytes } from 'node:crypto';
import type { Locator } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, blocking, buildConsole, selfSignedCertificate, startConsoleRun, type ConsoleRun } from './harness.js';

/**
 * The web console in a real browser against `npm start`'s server: every step goes through the UI
 * (labels and roles, as a keyboard or screen-reader user finds them), and the API underneath is the
 * public one.
 */
let run: ConsoleRun;
let apiKey = '';
/** The arbitrary secret's payload: it must appear on screen only after Reveal. */
const PAYLOAD = `console-canary-${Date.now().toString(36)}`;

/** The Secrets Manager instance's GUID, read from the API with the administrator's token. */
async function smGuid(): Promise<string> {
  const token = await tokenOf(run.adminKey);
  const list = (await (await fetch(`${run.server.url}/v2/resource_instances?name=console-sm`, { headers: { authorization: `Bearer ${token.accessToken}` } })).json()) as { resources: { guid: string }[] };
  return list.resources[0]?.guid ?? '';
}

async function tokenOf(apikey: string): Promise<{ status: number; accessToken: string }> {
  const response = await fetch(`${run.server.url}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }),
  });
  const body = (await response.json()) as { access_token?: string };
  return { status: response.status, accessToken: body.access_token ?? '' };
}

beforeAll(async () => {
  buildConsole();
  run = await startConsoleRun();
  console.log(`console screenshots: ${run.screenshots}`);
}, 120_000);
afterAll(() => run?.close());
// A failed step leaves a picture of the page it failed on.
afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await run.page.screenshot({ path: `${run.screenshots}/failed-${context.task.name.slice(0, 40).replace(/\W+/g, '-')}.png` }).catch(() => undefined);
});

/** Wait until the locator shows (playwright-core has no assertions of its own). */
const shown = (locator: Locator) => locator.first().waitFor({ state: 'visible', timeout: 15_000 });
const textOf = (locator: Locator) => expect.poll(() => locator.first().textContent(), { timeout: 15_000 });

/** A link of the main navigation. */
const nav = (name: string) => run.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });

const shot = (name: string) => run.page.screenshot({ path: `${run.screenshots}/${name}.png`, fullPage: true });

async function expectAccessible(page: string): Promise<void> {
  const violations = await axeViolations(run.page);
  expect(blocking(violations), `${page}: ${JSON.stringify(blocking(violations), null, 2)}`).toEqual([]);
}

describe('web console', () => {
  it('is where / leads, served with a strict CSP, and signs in with an API key (a wrong one shows the IBM error)', async () => {
    const { page } = run;
    const response = await page.goto('/');
    expect(page.url()).toBe(`${run.server.url}/console/`);
    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['x-frame-options']).toBe('DENY');

    await shown(page.getByRole('heading', { name: 'Sealbox' }));
    await expectAccessible('sign-in');
    await shot('01-sign-in');

    await page.getByLabel('API key').fill('not-a-real-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await shown(alert);
    await textOf(alert.locator('.error-code')).toMatch(/^[A-Z0-9_]+$/);
    await textOf(alert.locator('.error-message')).toMatch(/\w/);

    // Keyboard only: the field, the key, Enter.
    await page.getByLabel('API key').focus();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type(run.adminKey);
    await page.keyboard.press('Enter');
    await shown(page.getByRole('heading', { name: 'Resource instances' }));
    await shown(page.getByText('No instances yet'));
    // The token is in memory only: nothing in the browser's storage, the URL or the title.
    expect(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([0, 0, '']);
    expect(page.url()).not.toContain(run.adminKey);
    await expectAccessible('instances (empty)');
  });

  it('creates a Key Protect and a Secrets Manager instance and shows their state', async () => {
    const { page } = run;
    for (const [name, service] of [
      ['console-kms', 'Key Protect'],
      ['console-sm', 'Secrets Manager'],
    ] as const) {
      await page.getByRole('button', { name: 'Create instance' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create instance' });
      await dialog.getByLabel('Name').fill(name);
      await dialog.getByLabel(service, { exact: true }).check();
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await dialog.waitFor({ state: 'hidden' });
      await textOf(page.locator(`tr[data-instance="${name}"] .state`)).toBe('active');
    }
    await expectAccessible('instances');
    await shot('02-instances');
    // Down to 1024 px wide, nothing overflows the page sideways.
    await page.setViewportSize({ width: 1024, height: 768 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1024);
    await shot('02-instances-1024');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('creates a service ID and an API key for it (shown once), grants it a policy, and sees the key revoked when deleted', async () => {
    const { page } = run;
    await nav('Access').click();
    await shown(page.getByRole('heading', { name: 'Access' }));
    await page.getByLabel('Service ID name').fill('console-app');
    await page.getByRole('button', { name: 'Create service ID' }).click();
    await shown(page.getByRole('table', { name: 'Service IDs' }).getByRole('rowheader', { name: 'console-app' }));
    await expectAccessible('access: service IDs');
    await shot('06-access-service-ids');

    await page.getByRole('tab', { name: 'API keys' }).click();
    await page.getByLabel('API key name').fill('console-app-key');
    await page.getByLabel(/^For/).selectOption({ label: 'Service ID console-app' });
    await page.getByRole('button', { name: 'Create API key' }).click();
    const once = page.getByRole('dialog', { name: 'API key created' });
    await shown(once);
    await shown(once.getByText('this is the only time it is shown'));
    apiKey = ((await once.locator('[data-apikey-value]').textContent()) ?? '').trim();
    expect(apiKey.length).toBeGreaterThan(20);
    await once.getByRole('button', { name: 'Copy API key' }).click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(apiKey);
    await expectAccessible('access: API key shown once');
    await shot('07-access-api-key-once');
    await once.getByRole('button', { name: 'I have copied it' }).click();
    await shown(page.getByRole('table', { name: 'API keys' }).getByRole('rowheader', { name: 'console-app-key' }));
    expect(await page.content()).not.toContain(apiKey);

    await page.getByRole('tab', { name: 'Access policies' }).click();
    await page.getByLabel(/^Subject/).selectOption({ label: 'console-app' });
    await page.getByLabel(/^Service(?! ID)/).selectOption({ label: 'Secrets Manager' });
    await page.getByRole('checkbox', { name: 'Reader', exact: true }).check();
    await page.getByRole('button', { name: 'Grant access' }).click();
    await shown(page.getByRole('table', { name: 'Access policies' }).getByRole('rowheader', { name: 'console-app' }));
    await expectAccessible('access: policies');
    await shot('08-access-policies');

    // The key works for its service ID...
    const token = await tokenOf(apiKey);
    expect(token.status).toBe(200);
    const bearer = `Bearer ${token.accessToken}`;
    expect((await fetch(`${run.server.url}/v1/serviceids?account_id=x`, { headers: { authorization: bearer } })).status).not.toBe(401);
    // ...until it is deleted in the console: then the token made from it is refused.
    await page.getByRole('tab', { name: 'API keys' }).click();
    await page.getByRole('button', { name: 'Delete API key console-app-key' }).click();
    await page.getByRole('dialog', { name: 'Delete API key' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('table', { name: 'API keys' }).getByRole('rowheader', { name: 'console-app-key' }).waitFor({ state: 'detached' });
    await expect
      .poll(async () => {
        const refused = await fetch(`${run.server.url}/v2/resource_instances`, { headers: { authorization: bearer } });
        return refused.status === 401 ? ((await refused.json()) as { errors: { message: string }[] }).errors[0]?.message : refused.status;
      }, { timeout: 5000 })
      .toMatch(/revoked/i);
    expect((await tokenOf(apiKey)).status).toBe(400);
  });

  it('creates a secret of every type in the Secrets Manager instance, each with its own form', async () => {
    const { page } = run;
    await nav('Instances').click();
    await page.getByRole('link', { name: 'console-sm' }).click();
    await shown(page.getByRole('heading', { name: 'console-sm: secrets' }));
    await shown(page.getByText('No secrets yet'));
    const cert = selfSignedCertificate('console.example');
    const create = async (type: string, name: string, fill: (dialog: Locator) => Promise<void>) => {
      await page.goto(`/console/#/instances/${await smGuid()}/secrets`);
      await page.getByRole('button', { name: 'Create secret' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create secret' });
      await dialog.getByLabel('Secret type').selectOption({ label: type });
      await dialog.getByLabel('Name', { exact: true }).fill(name);
      await fill(dialog);
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await shown(page.getByRole('heading', { name }));
    };
    await create('Arbitrary', 'db-note', (dialog) => dialog.getByLabel('Payload').fill(PAYLOAD));
    await create('User credentials', 'db-user', (dialog) => dialog.getByLabel('Username').fill('app'));
    await create('Key-value', 'app-config', (dialog) => dialog.getByLabel('Data (JSON object)').fill('{"region": "us-south", "replicas": 3}'));
    await create('Imported certificate', 'web-cert', async (dialog) => {
      await dialog.getByLabel('Certificate (PEM)').fill(cert.certificate);
      await dialog.getByLabel('Private key (PEM, optional)').fill(cert.privateKey);
    });
    await create('IAM credentials', 'app-apikey', async (dialog) => {
      await dialog.getByLabel('Service ID').selectOption({ label: 'console-app' });
    });

    await page.goto(`/console/#/instances/${await smGuid()}/secrets`);
    const rows = page.locator('#panel-secrets tbody tr');
    await expect.poll(() => rows.count()).toBe(5);
    await page.getByLabel('Search').fill('db-');
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByLabel('Search').fill('');
    await page.getByLabel(/^Type/).selectOption({ label: 'Key-value' });
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByLabel(/^Type/).selectOption({ label: 'All types' });
    await page.getByLabel('Sort by').selectOption({ label: 'Name (Z–A)' });
    await textOf(rows.first().getByRole('rowheader')).toContain('web-cert');
    await expectAccessible('secrets list');
    await shot('03-secrets');
  });

  it('reveals a value only on request, hides it again, adds a version and a lock', async () => {
    const { page } = run;
    await page.getByRole('link', { name: 'db-note' }).click();
    await shown(page.getByRole('heading', { name: 'db-note' }));
    expect(await page.content()).not.toContain(PAYLOAD);
    await page.getByRole('button', { name: 'Reveal' }).click();
    await textOf(page.locator('[data-secret-field="payload"]')).toBe(PAYLOAD);
    expect(page.url()).not.toContain(PAYLOAD);
    expect(await page.title()).not.toContain(PAYLOAD);
    await expectAccessible('secret (revealed)');
    await shot('04-secret-revealed');
    await page.getByRole('button', { name: 'Hide' }).click();
    await page.locator('[data-secret-field="payload"]').waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(PAYLOAD);

    await page.getByRole('button', { name: 'Create version' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create version' });
    await dialog.getByLabel('New payload').fill(`${PAYLOAD}-v2`);
    await dialog.getByRole('button', { name: 'Create version' }).click();
    const versions = page.getByRole('table', { name: 'Versions' }).locator('tbody tr');
    await expect.poll(() => versions.count()).toBe(2);
    await textOf(versions.nth(0).locator('td').first()).toMatch(/current|previous/);

    // Metadata: the secret's (labels, custom metadata, expiration) and one version's.
    await page.getByRole('button', { name: 'Edit metadata', exact: true }).click();
    const edit = page.getByRole('dialog', { name: 'Edit metadata', exact: true });
    await edit.getByLabel('Labels (comma-separated)').fill('console, demo');
    await edit.getByLabel('Custom metadata (JSON object)').fill('{"owner": "team-a"}');
    await edit.getByLabel('Expiration date (empty: never)').fill('2031-01-02T03:04');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'hidden' });
    await shown(page.getByText('console, demo'));
    await shown(page.getByText('{"owner":"team-a"}'));
    await page.getByRole('button', { name: 'Edit metadata of version current' }).click();
    const versionEdit = page.getByRole('dialog', { name: 'Edit version metadata' });
    await versionEdit.getByLabel('Version metadata (JSON object)').fill('{"deployed": true}');
    await versionEdit.getByRole('button', { name: 'Save' }).click();
    await shown(page.getByRole('table', { name: 'Versions' }).getByText('{"deployed":true}'));

    await page.getByLabel('Lock name').fill('used-by-app');
    await page.getByRole('button', { name: 'Add lock' }).click();
    await shown(page.getByRole('table', { name: 'Locks' }).getByRole('rowheader', { name: 'used-by-app' }));
    await expectAccessible('secret (versions, locks)');
    await shot('05-secret-versions-locks');
  });

  it('manages keys: create, rotate, disable, enable, delete and restore', async () => {
    const { page } = run;
    await nav('Instances').click();
    await page.getByRole('link', { name: 'console-kms' }).click();
    await shown(page.getByRole('heading', { name: 'console-kms: keys' }));
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create key' });
    await dialog.getByLabel('Key name').fill('console-root');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const row = page.locator('tr[data-key="console-root"]');
    await textOf(row.locator('.state')).toBe('active');
    await page.getByRole('button', { name: 'Rotate console-root' }).click();
    await textOf(row.locator('td').nth(4)).toMatch(/\d/);
    await page.getByRole('button', { name: 'Disable console-root' }).click();
    await textOf(row.locator('.state')).toBe('suspended');
    await page.getByRole('button', { name: 'Enable console-root' }).click();
    await textOf(row.locator('.state')).toBe('active');
    await expectAccessible('keys');
    await shot('09-keys');
    await page.getByRole('button', { name: 'Delete console-root' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete key' });
    await confirm.getByLabel('Type console-root to confirm').fill('console-root');
    await confirm.getByRole('button', { name: 'Delete key' }).click();
    await textOf(row.locator('.state')).toBe('destroyed');
    await page.getByRole('button', { name: 'Restore console-root' }).click();
    await textOf(row.locator('.state')).toBe('active');

    // Import own key material with an import token: encrypted in the browser (WebCrypto) before it is sent.
    await page.getByRole('button', { name: 'Create key' }).click();
    await dialog.getByLabel('Key name').fill('imported-root');
    await dialog.getByLabel('Key material to import (base64, optional)').fill(randomBytes(32).toString('base64'));
    expect(await dialog.getByRole('checkbox', { name: /Use an import token/ }).isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const imported = page.locator('tr[data-key="imported-root"]');
    await textOf(imported.locator('.state')).toBe('active');
    await textOf(imported.locator('td').first()).toBe('root (imported)');
  });

  it("creates a Secrets Manager instance protected by the user's own root key once Secrets Manager is authorized", async () => {
    const { page } = run;
    await nav('Access').click();
    await page.getByRole('tab', { name: 'Authorizations' }).click();
    await page.getByLabel('Target service').selectOption({ label: 'Key Protect' });
    await page.getByLabel(/^Instance/).selectOption({ label: 'console-kms' });
    expect(await page.getByRole('checkbox', { name: 'Reader', exact: true }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Authorize' }).click();
    await shown(page.getByRole('table', { name: 'Authorizations' }).getByRole('cell', { name: 'console-kms' }));

    await nav('Instances').click();
    await page.getByRole('button', { name: 'Create instance' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create instance' });
    await dialog.getByLabel('Name').fill('console-byok');
    await shown(dialog.getByText('authorization policy'));
    await expect.poll(() => dialog.getByLabel('Root key (optional)').locator('option').allTextContents()).toContain('console-root (console-kms)');
    await dialog.getByLabel('Root key (optional)').selectOption({ label: 'console-root (console-kms)' });
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await textOf(page.locator('tr[data-instance="console-byok"] .state')).toBe('active');
    // The key now protects that instance: its registration shows on the keys page.
    await page.getByRole('link', { name: 'console-kms' }).click();
    await textOf(page.locator('tr[data-key="console-root"] td').nth(2)).toContain(':secrets-manager:');
  });

  it('deletes the Secrets Manager instance into reclamation with its scheduled time, and restores it', async () => {
    const { page } = run;
    await nav('Instances').click();
    await page.getByRole('button', { name: 'Delete console-sm', exact: true }).click();
    await page.getByRole('dialog', { name: 'Delete instance' }).getByRole('button', { name: 'Delete' }).click();
    const row = page.locator('tr[data-instance="console-sm"]');
    await textOf(row.locator('.state')).toBe('pending reclamation');
    await textOf(row.locator('.hint')).toMatch(/^Reclamation scheduled for .*\d/);
    await expectAccessible('instances (reclamation)');
    await shot('10-instances-reclamation');
    // The permanent delete waits for the typed name.
    await page.getByRole('button', { name: 'Delete permanently console-sm' }).click();
    const permanent = page.getByRole('dialog', { name: 'Delete instance permanently' });
    expect(await permanent.getByRole('button', { name: 'Delete permanently' }).isDisabled()).toBe(true);
    await permanent.getByLabel('Type console-sm to confirm').fill('console-s');
    expect(await permanent.getByRole('button', { name: 'Delete permanently' }).isDisabled()).toBe(true);
    await permanent.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Restore console-sm' }).click();
    await textOf(row.locator('.state')).toBe('active');
    await page.getByRole('link', { name: 'console-sm' }).click();
    await expect.poll(() => page.locator('#panel-secrets tbody tr').count()).toBe(5);
  });

  it("shows the account's events live, in the dark theme too", async () => {
    const { page } = run;
    await nav('Events').click();
    await textOf(page.getByRole('status').filter({ hasText: /live|connecting/ })).toBe('live');
    const token = await tokenOf(run.adminKey);
    const created = await fetch(`${run.server.url}/secrets-manager/${await smGuid()}/api/v2/secret_groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'from-another-client' }),
    });
    expect(created.status).toBe(201);
    await shown(page.getByRole('list', { name: 'Events, newest first' }).getByText('secrets.group.created'));
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await expect.poll(() => page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await expectAccessible('events (dark)');
    await shot('11-events-dark');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await shown(page.getByLabel('API key'));
    await shown(page.getByText('You signed out.'));
  });
});
