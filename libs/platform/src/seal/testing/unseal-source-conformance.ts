import { DomainError } from '../../errors/index.js';
import { SEAL_KEY_BYTES } from '../aead.js';
import type { UnsealSource } from '../unseal-source.js';
import { describe, expect, it } from 'vitest';

export interface UnsealSourceCase<Init, Params> {
  readonly name: string;
  readonly source: UnsealSource<Init, Params>;
  /** A valid init request. */
  readonly init: Init;
  /** The inputs operators would give to unseal what `create(init)` made (from its handout). */
  readonly inputsFor: (init: Init, handout: readonly string[]) => string[];
  /** Inputs of the right shape that are NOT the secret (another passphrase, another init's shares). */
  readonly wrongInputs: (init: Init, handout: readonly string[]) => Promise<string[]>;
  /** An input no secret of this kind can be (refused by `accept`). */
  readonly malformed: string;
  /**
   * Auto-unseal kinds take no input: the same kind on another device (another token key) stands
   * for "the wrong secret" and derives with `wrongInputs`.
   */
  readonly wrongSource?: UnsealSource<Init, Params>;
}

/**
 * What every unseal source must do (the one suite; a new kind is done when it passes): a 32-byte
 * KEK, a different one per init, given back by the right inputs only; public parameters that do not
 * hold the KEK; a malformed input refused with UNSEAL_FAILED before any derivation.
 */
export function describeUnsealSource<Init, Params>(testCase: UnsealSourceCase<Init, Params>): void {
  const { source } = testCase;
  describe(`unseal source conformance: ${testCase.name}`, () => {
    it('creates a 32-byte KEK that the inputs from its handout derive again', async () => {
      const created = await source.create(testCase.init);
      expect(created.kek).toHaveLength(SEAL_KEY_BYTES);
      const params = source.paramsSchema.parse(JSON.parse(JSON.stringify(created.params)));
      const inputs = testCase.inputsFor(testCase.init, created.handout);
      expect(inputs).toHaveLength(source.required(params));
      inputs.forEach((input, index) => source.accept(params, input, inputs.slice(0, index)));
      expect((await source.derive(params, inputs)).equals(created.kek)).toBe(true);
    });

    it('makes a different KEK at every init, and the stored parameters do not hold it', async () => {
      const first = await source.create(testCase.init);
      const second = await source.create(testCase.init);
      expect(first.kek.equals(second.kek)).toBe(false);
      const stored = Buffer.from(JSON.stringify(first.params));
      expect(stored.includes(first.kek)).toBe(false);
      expect(stored.includes(Buffer.from(first.kek.toString('base64')))).toBe(false);
      expect(stored.includes(Buffer.from(first.kek.toString('hex')))).toBe(false);
    });

    it('derives another KEK from wrong inputs (the key store then refuses them)', async () => {
      const created = await source.create(testCase.init);
      const params = source.paramsSchema.parse(created.params);
      const wrong = await testCase.wrongInputs(testCase.init, created.handout);
      let derived: Buffer | undefined;
      try {
        derived = await (testCase.wrongSource ?? source).derive(params, wrong);
      } catch (error) {
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).code).toBe('UNSEAL_FAILED');
      }
      if (derived) expect(derived.equals(created.kek)).toBe(false);
    });

    it('refuses a malformed input with UNSEAL_FAILED', async () => {
      const created = await source.create(testCase.init);
      const params = source.paramsSchema.parse(created.params);
      let refused: unknown;
      try {
        source.accept(params, testCase.malformed, []);
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(DomainError);
      expect((refused as DomainError).code).toBe('UNSEAL_FAILED');
    });
  });
}
