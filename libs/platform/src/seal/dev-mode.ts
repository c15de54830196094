import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SEAL_KEY_BYTES } from './aead.js';
import { durableFiles, type DurableFiles } from './durable-files.js';
import type { SealKeeper } from './keeper.js';

/** The dev-only unseal key file in the data directory: its name says what it is worth. */
export const DEV_UNSEAL_KEY_FILE = 'DEV-ONLY-unseal.key';

export interface DevUnsealResult {
  /** Whether the store is now unsealed by the dev key. */
  readonly unsealed: boolean;
  /** Whether this start initialised the store. */
  readonly initialized: boolean;
  readonly keyFile: string;
}

/**
 * Dev mode (`npm start`): an empty store is initialised with a generated key written to
 * `DEV-ONLY-unseal.key` beside the data, and a store sealed by such a key is unsealed from that file.
 * The file is written BEFORE the store is initialised with it, so a crash in between leaves a key
 * file that the next start reuses, never a store whose key is lost. A store initialised otherwise
 * (passphrase, shares) is left sealed.
 */
export async function devUnseal(keeper: SealKeeper, directory: string, files: DurableFiles = durableFiles): Promise<DevUnsealResult> {
  const keyFile = join(directory, DEV_UNSEAL_KEY_FILE);
  let key = (await files.read(keyFile))?.toString('utf8').trim() || undefined;
  let initialized = false;
  if (!keeper.initialized) {
    if (!key) {
      const fresh = randomBytes(SEAL_KEY_BYTES);
      key = fresh.toString('base64');
      fresh.fill(0);
      await files.writeAtomic(keyFile, Buffer.from(`${key}\n`, 'utf8'));
    }
    await keeper.initialize('dev-key', { key });
    initialized = true;
  } else if (keeper.type !== 'dev-key' || !key) {
    return { unsealed: false, initialized, keyFile };
  }
  await keeper.unseal(key);
  return { unsealed: !keeper.sealed, initialized, keyFile };
}
