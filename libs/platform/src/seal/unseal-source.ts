import type { SealWire } from '@sealbox/contracts';
import type { z } from 'zod';
import { DomainError } from '../errors/index.js';

/**
 * The port of the ways to unseal: each kind of unseal secret turns what operators type (a
 * passphrase, k of n Shamir shares, a key) into the key-encryption key (KEK, 32 bytes) that wraps
 * the key store's root key. A source never stores the KEK: what it stores (`params`: salt and cost
 * of a KDF, the share counts) is public. ONE conformance suite (testing/unseal-source-conformance.ts)
 * defines "works"; a new kind is one file and one line in `unsealSources`.
 */
export interface UnsealSource<Init, Params> {
  readonly type: SealType;
  /**
   * An auto-unseal kind (a PKCS#11 token): it takes no operator input (`required` is 0) and
   * `derive(params, [])` asks the device; the key store unseals with it at start (`autoUnseal`).
   */
  readonly auto?: boolean;
  /** What `init` and `rekey` take for this kind (the request body minus `type`). */
  readonly initSchema: z.ZodType<Init>;
  /** What is stored in seal.json for this kind (public). */
  readonly paramsSchema: z.ZodType<Params>;
  /** A new unseal secret: its KEK (the caller zeroes it), the public parameters to store and what operators are handed once. */
  create(init: Init): Promise<CreatedUnsealSecret<Params>>;
  /** How many inputs one unseal takes (one passphrase, `threshold` shares, one key). */
  required(params: Params): number;
  /** How many pieces the secret was handed out in (n shares; 1 for a passphrase or a key). */
  pieces(params: Params): number;
  /** Refuse an input that cannot be right whatever the others are (malformed, a share given twice): UNSEAL_FAILED. */
  accept(params: Params, input: string, previous: readonly string[]): void;
  /** The KEK from `required(params)` accepted inputs. A wrong secret gives a wrong KEK: the key store notices. */
  derive(params: Params, inputs: readonly string[]): Promise<Buffer>;
}

export interface CreatedUnsealSecret<Params> {
  readonly kek: Buffer;
  readonly params: Params;
  /** Shown once, never stored: the shares, or the generated key. Empty for a passphrase (the operator chose it). */
  readonly handout: readonly string[];
}

export type SealType = SealWire.SealType;

export const unsealFailed = (message: string) => new DomainError('UNSEAL_FAILED', message);

/** Strict base64 of exactly `bytes` bytes, or UNSEAL_FAILED naming `what`. */
export function decodeBase64Exactly(input: string, bytes: number, what: string): Buffer {
  const trimmed = input.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw unsealFailed(`This is not a ${what} (base64 expected)`);
  const decoded = Buffer.from(trimmed, 'base64');
  if (decoded.length !== bytes || decoded.toString('base64') !== trimmed) {
    decoded.fill(0);
    throw unsealFailed(`This is not a ${what} (${bytes} bytes in base64 expected)`);
  }
  return decoded;
}
