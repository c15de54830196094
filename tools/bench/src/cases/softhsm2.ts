/**
 * A throwaway SoftHSM2 token for the HSM and kms rows. `@sealbox/hsm/testing` has the same helper
 * for tests, but it ships TypeScript sources only (and the conformance suite, which needs vitest), so
 * the built bench cannot import it. SoftHSM2 reads SOFTHSM2_CONF when the PKCS#11 module is
 * initialized: call this before the process's first PKCS#11 call (each case runs in a process of its
 * own, so that holds).
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SOFTHSM2_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

export interface BenchToken {
  /** Token label (at most 32 characters, as PKCS#11 allows). */
  readonly label: string;
  readonly pin: string;
  /** Delete the token directory and its configuration. */
  remove(): Promise<void>;
}

/** A fresh token in a temporary directory, initialised by `softhsm2-util --init-token --free`. */
export async function createBenchToken(): Promise<BenchToken> {
  const root = await mkdtemp(join(tmpdir(), 'sealbox-bench-softhsm2-'));
  const remove = () => rm(root, { recursive: true, force: true });
  try {
    const tokenDir = join(root, 'tokens');
    const confPath = join(root, 'softhsm2.conf');
    await mkdir(tokenDir, { mode: 0o700 });
    await writeFile(confPath, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, {
      mode: 0o600,
    });
    process.env.SOFTHSM2_CONF = confPath;
    const label = `bench-${randomUUID().slice(0, 8)}`;
    const pin = randomBytes(12).toString('hex');
    const soPin = randomBytes(12).toString('hex');
    try {
      await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], {
        env: { ...process.env, SOFTHSM2_CONF: confPath },
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`cannot initialise a SoftHSM2 token (is softhsm2 installed, ${SOFTHSM2_LIBRARY}?): ${reason}`);
    }
    return { label, pin, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
