import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SEAL_KEY_BYTES } from '../aead.js';
import { decodeBase64Exactly, type UnsealSource } from '../unseal-source.js';

export const DevKeyInit = z.object({
  /** The key (base64 of 32 bytes) when the caller made it first (dev mode writes its file before init); absent: generated. */
  key: z.string().optional(),
});
export type DevKeyInit = z.infer<typeof DevKeyInit>;
export const DevKeyParams = z.object({});
export type DevKeyParams = z.infer<typeof DevKeyParams>;

/**
 * DEVELOPMENT ONLY: the KEK itself, generated, handed out as base64 and (in dev mode) written to
 * `DEV-ONLY-unseal.key` in the data directory so `npm start` unseals by itself. Whoever reads that
 * file opens the store: it protects nothing against a copy of the data directory.
 */
export const devKeySource: UnsealSource<DevKeyInit, DevKeyParams> = {
  type: 'dev-key',
  initSchema: DevKeyInit,
  paramsSchema: DevKeyParams,
  async create(init) {
    const kek = init.key === undefined ? randomBytes(SEAL_KEY_BYTES) : decodeBase64Exactly(init.key, SEAL_KEY_BYTES, 'dev unseal key');
    return { kek, params: {}, handout: [kek.toString('base64')] };
  },
  required: () => 1,
  pieces: () => 1,
  accept(_params, input) {
    decodeBase64Exactly(input, SEAL_KEY_BYTES, 'dev unseal key').fill(0);
  },
  async derive(_params, inputs) {
    return decodeBase64Exactly(inputs[0] ?? '', SEAL_KEY_BYTES, 'dev unseal key');
  },
};
