/**
 * What the console's browser tests stand on: the console built from its sources, a standalone server
 * (`npm start`'s composition) on a free port with a temporary data directory, Debian's Chromium driven
 * by playwright-core (never a downloaded browser), axe-core, and a folder for the run's screenshots.
 */
import { readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startStandalone, type Standalone } from '../../../apps/standalone/src/standalone.js';

export const CHROMIUM = '/usr/bin/chromium';
const root = join(import.meta.dirname, '..', '..', '..');

/** Build the console from its sources (typecheck + vite build), as the root `prepare` script does. */
export function buildConsole(): void {
  const built = spawnSync('npm', ['run', 'build:console'], { cwd: root, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`the console did not build:\n${built.stdout}\n${built.stderr}`);
}

export interface ConsoleRun {
  readonly server: Standalone;
  readonly context: BrowserContext;
  readonly page: Page;
  /** The administrator API key the first start wrote. */
  readonly adminKey: string;
  /** Where this run's screenshots go. */
  readonly screenshots: string;
  close(): Promise<void>;
}

export async function startConsoleRun(): Promise<ConsoleRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-console-data-'));
  const profile = mkdtempSync(join(tmpdir(), 'sealbox-console-chromium-'));
  const screenshots = join(root, 'tmp', 'console-screenshots', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(screenshots, { recursive: true });
  const server = await startStandalone({ env: { SEALBOX_DATA_DIR: dataDir, SEALBOX_PORT: '0', SEALBOX_HOST: '127.0.0.1', SEALBOX_LOG_LEVEL: 'silent', SEALBOX_RPC_TIMEOUT_MS: '30000' }, announce: () => undefined });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 860 },
    baseURL: server.url,
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    server,
    context,
    page,
    adminKey: readFileSync(join(dataDir, 'admin-apikey'), 'utf8').trim(),
    screenshots,
    async close() {
      await context.close().catch(() => undefined);
      await server.app.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations on the page as it is now (injected through the DevTools protocol, which the page's CSP does not govern). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations.map((violation) => ({
    id: violation.id, impact: violation.impact, help: violation.help, targets: violation.nodes.map((node) => String(node.target)),
  })))`);
}

/** The serious and critical ones, the ones the console must not have. */
export const blocking = (violations: readonly AxeViolation[]) => violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');

/** A self-signed certificate and its key (PEM), for an imported_cert secret. */
export function selfSignedCertificate(commonName: string): { certificate: string; privateKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-console-cert-'));
  try {
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '30', '-subj', `/CN=${commonName}`],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    return { certificate: readFileSync(join(dir, 'cert.pem'), 'utf8'), privateKey: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
