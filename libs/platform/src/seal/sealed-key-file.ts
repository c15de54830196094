import { randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { SEAL_KEY_BYTES, type KeyProtector } from './aead.js';
import { durableFiles, removeStaleTempFiles, type DurableFiles } from './durable-files.js';

const SEALED_KEY_FORMAT = 'sealbox-sealed-key';

const SealedKeyFile = z.object({
  format: z.literal(SEALED_KEY_FORMAT),
  version: z.literal(1),
  purpose: z.string(),
  /** base64 of protector.wrap(key, purpose). */
  wrapped: z.string().min(1),
});

export interface SealedKeyFileOptions {
  /** Where the wrapped key lives. */
  readonly path: string;
  /** Bound to the wrapped key: it opens for this purpose only. */
  readonly purpose: string;
  readonly protector: KeyProtector;
  /** A key file in clear of an older version, migrated (wrapped, then deleted) if there is no wrapped one yet. */
  readonly legacyClearPath?: string;
  readonly files?: DurableFiles;
}

function clearKeyOf(raw: Buffer, path: string): Buffer {
  if (raw.length !== SEAL_KEY_BYTES) {
    raw.fill(0);
    throw new Error(`refusing ${path}: a master key is exactly ${SEAL_KEY_BYTES} bytes`);
  }
  return raw;
}

/**
 * A 32-byte master key that is on disk only wrapped by the key store (`protector`), returned in
 * clear (the caller zeroes it). Created at random the first time; a legacy clear key file is
 * migrated crash-safely: the wrapped file is written (temp, fsync, rename, fsync), then the clear
 * one is unlinked. A crash between the two leaves both: the next open checks they hold the same
 * key and removes the clear one.
 */
export async function openSealedKeyFile(options: SealedKeyFileOptions): Promise<Buffer> {
  const files = options.files ?? durableFiles;
  await removeStaleTempFiles(options.path);
  const raw = await files.read(options.path);
  const legacy = options.legacyClearPath ? await files.read(options.legacyClearPath) : undefined;
  if (raw) {
    const parsed = SealedKeyFile.safeParse(JSON.parse(raw.toString('utf8')));
    if (!parsed.success || parsed.data.purpose !== options.purpose) throw new Error(`${options.path} is not a sealed key file for ${options.purpose}`);
    const key = options.protector.unwrap(Buffer.from(parsed.data.wrapped, 'base64'), options.purpose);
    if (legacy && options.legacyClearPath) {
      // A migration that stopped before its unlink: finish it, unless the clear file is another key.
      const same = legacy.length === key.length && timingSafeEqual(legacy, key);
      legacy.fill(0);
      if (!same) {
        key.fill(0);
        throw new Error(`${options.legacyClearPath} and ${options.path} hold different keys: keep the right one, remove the other`);
      }
      await files.remove(options.legacyClearPath);
    }
    return clearKeyOf(key, options.path);
  }
  const key = legacy && options.legacyClearPath ? clearKeyOf(legacy, options.legacyClearPath) : randomBytes(SEAL_KEY_BYTES);
  const body = {
    format: SEALED_KEY_FORMAT,
    version: 1,
    purpose: options.purpose,
    wrapped: options.protector.wrap(key, options.purpose).toString('base64'),
  } satisfies z.input<typeof SealedKeyFile>;
  await files.writeAtomic(options.path, Buffer.from(`${JSON.stringify(body)}\n`, 'utf8'));
  if (legacy && options.legacyClearPath) await files.remove(options.legacyClearPath);
  return key;
}
