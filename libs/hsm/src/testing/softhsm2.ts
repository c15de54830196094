/**
 * SoftHSM2 tokens for medium tests: a temp token directory with its own softhsm2.conf, tokens
 * initialised by `softhsm2-util --init-token --free`, PINs from node:crypto. SoftHSM2 reads
 * SOFTHSM2_CONF when the module is initialized, so create the store before the first PKCS#11 call
 * of the process (a later store is seen after the module's next initialization, which the backend
 * does by itself when it does not find a token).
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SOFTHSM2_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsm2Token {
  readonly label: string;
  readonly pin: string;
  readonly soPin: string;
}

export interface SoftHsm2Store {
  /** The directory holding this store's tokens (one sub-directory per token). */
  readonly tokenDir: string;
  readonly confPath: string;
  /** Initialise a new token (label unique unless given) and return its PINs. */
  initToken(label?: string): Promise<SoftHsm2Token>;
  /** Delete the tokens and the configuration. */
  remove(): Promise<void>;
}

export async function createSoftHsm2Store(): Promise<SoftHsm2Store> {
  const root = await mkdtemp(join(tmpdir(), 'sealbox-softhsm2-'));
  const tokenDir = join(root, 'tokens');
  const confPath = join(root, 'softhsm2.conf');
  await mkdir(tokenDir, { mode: 0o700 });
  await writeFile(confPath, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, {
    mode: 0o600,
  });
  process.env.SOFTHSM2_CONF = confPath;
  return {
    tokenDir,
    confPath,
    async initToken(label = `t-${randomUUID().slice(0, 8)}`) {
      const pin = randomBytes(12).toString('hex');
      const soPin = randomBytes(12).toString('hex');
      await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], {
        env: { ...process.env, SOFTHSM2_CONF: confPath },
      });
      return { label, pin, soPin };
    },
    async remove() {
      await rm(root, { recursive: true, force: true });
    },
  };
}
