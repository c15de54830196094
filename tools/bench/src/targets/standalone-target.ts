import type { AddressInfo } from 'node:net';

/** The part of apps/standalone's `startStandalone` this target relies on. */
interface StandaloneModule {
  startStandalone(options: {
    readonly env?: Record<string, string | undefined>;
    readonly announce?: (text: string) => void;
  }): Promise<{ readonly app: { getHttpServer(): { address(): AddressInfo | string | null } } }>;
}

/**
 * The built all-in-one app (`npm start` without its banner), loaded at run time: an app is not a
 * dependency of the bench tool, and `npm run bench` builds it (tsconfig.build.json) before the bench.
 */
const STANDALONE_MODULE = new URL('../../../../apps/standalone/dist/standalone.js', import.meta.url).href;

function isStandaloneModule(loaded: unknown): loaded is StandaloneModule {
  return typeof loaded === 'object' && loaded !== null && typeof (loaded as { startStandalone?: unknown }).startStandalone === 'function';
}

/**
 * The standalone rows' server: `startStandalone` with every module in one process over the
 * in-process transport, configured by the SEALBOX_* variables the case process gave this child
 * (data dir, port 0, rate limits off, logs silent). The admin API key lands in <data dir>/admin-apikey.
 */
export async function startStandaloneTarget(): Promise<number> {
  const loaded: unknown = await import(STANDALONE_MODULE);
  if (!isStandaloneModule(loaded)) throw new Error(`${STANDALONE_MODULE} does not export startStandalone`);
  const { app } = await loaded.startStandalone({ env: process.env, announce: () => undefined });
  const address = app.getHttpServer().address();
  if (typeof address !== 'object' || address === null) throw new Error('standalone: no TCP address');
  return address.port;
}
