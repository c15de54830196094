import { combine } from 'shamir-secret-sharing';
import { describe, expect, it } from 'vitest';
import { describeUnsealSource } from '../testing/unseal-source-conformance.js';
import { devKeySource } from './dev-key.js';
import { passphraseSource } from './passphrase.js';
import { shamirSource } from './shamir.js';

const passphrase = passphraseSource({ logN: 14 });

describeUnsealSource({
  name: 'passphrase (scrypt)',
  source: passphrase,
  init: { passphrase: 'correct horse battery staple' },
  inputsFor: (init) => [init.passphrase],
  wrongInputs: async () => ['correct horse battery stapler'],
  malformed: '',
});

describeUnsealSource({
  name: 'shamir 3 of 5',
  source: shamirSource,
  init: { secret_shares: 5, secret_threshold: 3 },
  inputsFor: (_init, handout) => [handout[4] ?? '', handout[0] ?? '', handout[2] ?? ''],
  // Three shares of another split: the right shape, another secret.
  wrongInputs: async (init) => (await shamirSource.create(init)).handout.slice(0, 3),
  malformed: 'bm90IGEgc2hhcmU=',
});

describeUnsealSource({
  name: 'dev key',
  source: devKeySource,
  init: {},
  inputsFor: (_init, handout) => [handout[0] ?? ''],
  wrongInputs: async () => [Buffer.alloc(32, 7).toString('base64')],
  malformed: 'too-short',
});

describe('passphrase source', () => {
  it('stores scrypt with its salt and cost; the same passphrase with another salt is another KEK', async () => {
    const first = await passphrase.create({ passphrase: 'correct horse battery staple' });
    const second = await passphrase.create({ passphrase: 'correct horse battery staple' });
    expect(first.params).toMatchObject({ kdf: 'scrypt', logN: 14, r: 8, p: 1 });
    expect(first.params.salt).not.toBe(second.params.salt);
    expect(first.kek.equals(second.kek)).toBe(false);
    expect(first.handout).toEqual([]);
  });

  it('uses memory-hard defaults (N = 2^17) and refuses a cost below 2^14', () => {
    expect(() => passphraseSource({ logN: 13 })).toThrow('below the minimum');
    expect(passphraseSource().paramsSchema.safeParse({ kdf: 'scrypt', logN: 10, r: 8, p: 1, salt: 'AA==' }).success).toBe(false);
  });
});

describe('shamir source', () => {
  it('any k of the n shares give the KEK, k - 1 do not', async () => {
    const created = await shamirSource.create({ secret_shares: 4, secret_threshold: 3 });
    const shares = created.handout.map((share) => new Uint8Array(Buffer.from(share, 'base64')));
    for (const subset of [[0, 1, 2], [1, 2, 3], [0, 2, 3], [3, 1, 0]]) {
      const combined = Buffer.from(await combine(subset.map((index) => shares[index] ?? new Uint8Array())));
      expect(combined.equals(created.kek)).toBe(true);
    }
    const tooFew = Buffer.from(await combine([shares[0] ?? new Uint8Array(), shares[1] ?? new Uint8Array()]));
    expect(tooFew.equals(created.kek)).toBe(false);
  });

  it('refuses a share given twice in one unseal, and k greater than n at init', async () => {
    const created = await shamirSource.create({ secret_shares: 3, secret_threshold: 2 });
    const params = shamirSource.paramsSchema.parse(created.params);
    const share = created.handout[0] ?? '';
    expect(() => shamirSource.accept(params, share, [share])).toThrow('already given');
    expect(shamirSource.initSchema.safeParse({ secret_shares: 2, secret_threshold: 3 }).success).toBe(false);
    expect(shamirSource.initSchema.safeParse({ secret_shares: 17, secret_threshold: 3 }).success).toBe(false);
  });
});
