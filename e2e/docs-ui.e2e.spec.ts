import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, type RunningStandalone } from './harness/standalone.js';
import { asArgument, elementOf, startBrowser, type Browser } from './harness/webdriver.js';

/**
 * The API docs at /docs in a real browser (headless Chromium), as a newcomer uses them: Try it out on
 * a protected operation is refused without a token, Authorize with an access token makes the same
 * call succeed (the token travels as `Authorization: Bearer`), the token survives a reload, and an
 * operation with a body offers a body editor filled from its schema.
 */

let sealbox: RunningStandalone;
let browser: Browser;
let token = '';

beforeAll(async () => {
  sealbox = await startStandalone('sealbox-docs-ui-');
  const response = await fetch(`${sealbox.url}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: sealbox.apikey }),
  });
  expect(response.status).toBe(200);
  token = ((await response.json()) as { access_token: string }).access_token;
  browser = await startBrowser();
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await sealbox?.stop();
});

/** The operation block of `method path` on the page, opened, with Try it out pressed. */
async function tryOut(method: string, path: string): Promise<string> {
  const block = await browser.waitFor(`the ${method} ${path} operation`, async () =>
    elementOf(
      await browser.run(
        `return [...document.querySelectorAll('.opblock.opblock-${method.toLowerCase()}')].find((block) => block.querySelector('[data-path="${path}"]')) ?? null;`,
      ),
    ),
  );
  await browser.click(await browser.findIn(block, '.opblock-summary-control, .opblock-summary'));
  await browser.click(await browser.findIn(block, 'button.try-out__btn'));
  return block;
}

/** Execute in an open block; the status the page shows once the answer is in. */
async function execute(block: string, expected: string): Promise<string> {
  await browser.click(await browser.findIn(block, 'button.execute'));
  return browser.waitFor(`the answer ${expected}`, async () => {
    const status = await browser.run<string | null>(
      `return arguments[0].querySelector('.live-responses-table tbody .response-col_status')?.textContent?.trim() ?? null;`,
      asArgument(block),
    );
    return status === expected ? status : undefined;
  });
}

describe('/docs (Swagger UI) in a browser', () => {
  it('Try it out without a token is 401; after Authorize the same call is 200 with the bearer token', async () => {
    await browser.open(`${sealbox.url}/docs`);
    const plans = await tryOut('GET', '/v1/plans');
    expect(await execute(plans, '401')).toBe('401');

    await browser.click(await browser.find('.auth-wrapper button.authorize'));
    const input = await browser.find('.modal-ux input');
    await browser.type(input, token);
    await browser.click(await browser.find('.modal-ux button.authorize'));
    await browser.click(await browser.find('.modal-ux button.btn-done'));

    expect(await execute(plans, '200')).toBe('200');
    const shown = await browser.run<string>('return arguments[0].innerText;', asArgument(plans));
    expect(shown).toContain('Authorization: Bearer');
    expect(shown).toContain('secrets-manager-standard');
  }, 90_000);

  it('keeps the token across a reload (persistAuthorization)', async () => {
    await browser.open(`${sealbox.url}/docs`);
    const plans = await tryOut('GET', '/v1/plans');
    expect(await execute(plans, '200')).toBe('200');
  }, 60_000);

  it('offers a body editor filled from the schema on an operation that takes a body', async () => {
    const create = await tryOut('POST', '/secrets-manager/{instance_guid}/api/v2/secrets');
    const editor = await browser.findIn(create, 'textarea.body-param__text');
    const body = await browser.run<string>('return arguments[0].value;', asArgument(editor));
    expect(body).toContain('"secret_type"');
  }, 60_000);
});
