import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { freePort } from './infra.js';

/**
 * A headless Chromium driven over the W3C WebDriver protocol (chromedriver's HTTP API, with fetch):
 * enough to load a page, find elements by CSS selector, click, type and read text, for tests of what
 * a browser user sees. Needs `chromium` and `chromedriver` (Debian: chromium, chromium-driver).
 */

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMEDRIVER = '/usr/bin/chromedriver';

/** The id of an element `run` returned (WebDriver's element reference), or undefined for null. */
export const elementOf = (value: unknown): string | undefined =>
  value && typeof value === 'object' ? ((value as Record<string, string>)[ELEMENT] ?? undefined) : undefined;

/** An element as `run`'s arguments take it. */
export const asArgument = (element: string) => ({ [ELEMENT]: element });

export const browserInstalled = () => existsSync(CHROMIUM) && existsSync(CHROMEDRIVER);

export interface Browser {
  open(url: string): Promise<void>;
  /** The first element matching `css`, waiting for it up to `timeoutMs`. */
  find(css: string, timeoutMs?: number): Promise<string>;
  /** Every element matching `css` now (none: []). */
  findAll(css: string): Promise<string[]>;
  /** The first element matching `css` inside `parent`, waiting for it up to `timeoutMs`. */
  findIn(parent: string, css: string, timeoutMs?: number): Promise<string>;
  click(element: string): Promise<void>;
  type(element: string, text: string): Promise<void>;
  text(element: string): Promise<string>;
  /** Runs `script` (a function body) in the page; its return value comes back as JSON (an element as its id, see `elementOf`). */
  run<T>(script: string, ...args: unknown[]): Promise<T>;
  /** Polls `probe` until it answers something other than undefined. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function startBrowser(): Promise<Browser> {
  if (!browserInstalled()) throw new Error(`browser: ${CHROMIUM} or ${CHROMEDRIVER} missing; install with: apt-get install -y chromium chromium-driver`);
  const port = await freePort();
  const driver: ChildProcess = spawn(CHROMEDRIVER, [`--port=${port}`], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = (await response.json()) as { value: T & { error?: string; message?: string } };
    if (!response.ok) throw new Error(`webdriver ${method} ${path}: ${answer.value.error ?? response.status} ${answer.value.message ?? ''}`);
    return answer.value;
  };

  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (error) {
        last = error;
      }
      if (Date.now() > deadline) throw new Error(`browser: ${what} did not happen within ${timeoutMs} ms${last instanceof Error ? ` (${last.message})` : ''}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  };

  const stopDriver = async () => {
    if (driver.exitCode === null && driver.signalCode === null) {
      driver.kill('SIGTERM');
      await once(driver, 'exit');
    }
  };

  let session: string;
  try {
    await waitFor('chromedriver start', async () => ((await call<{ ready: boolean }>('GET', '/status')).ready ? true : undefined), 20_000);
    const created = await call<{ sessionId: string }>('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'chrome',
          'goog:chromeOptions': { binary: CHROMIUM, args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1280,1600'] },
        },
      },
    });
    session = created.sessionId;
  } catch (error) {
    await stopDriver();
    throw error;
  }

  const s = `/session/${session}`;
  const findAll = async (css: string) => (await call<Record<string, string>[]>('POST', `${s}/elements`, { using: 'css selector', value: css })).map((element) => element[ELEMENT] as string);
  return {
    open: async (url) => void (await call('POST', `${s}/url`, { url })),
    find: (css, timeoutMs) => waitFor(`an element ${css}`, async () => (await findAll(css))[0], timeoutMs),
    findAll,
    findIn: (parent, css, timeoutMs) =>
      waitFor(
        `an element ${css}`,
        async () => (await call<Record<string, string>[]>('POST', `${s}/element/${parent}/elements`, { using: 'css selector', value: css }))[0]?.[ELEMENT],
        timeoutMs,
      ),
    click: async (element) => void (await call('POST', `${s}/element/${element}/click`, {})),
    type: async (element, text) => void (await call('POST', `${s}/element/${element}/value`, { text })),
    text: (element) => call<string>('GET', `${s}/element/${element}/text`),
    run: (script, ...args) => call('POST', `${s}/execute/sync`, { script, args }),
    waitFor,
    close: async () => {
      await call('DELETE', s).catch(() => undefined);
      await stopDriver();
    },
  };
}
