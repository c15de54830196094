import { describe, expect, it } from 'vitest';
import { DomainError } from '../../errors/index.js';
import { FakeSealToken } from '../testing/fake-seal-token.js';
import { describeUnsealSource } from '../testing/unseal-source-conformance.js';
import { pkcs11Source } from './pkcs11.js';
import { randomBytes } from 'node:crypto';

const KEY_LABEL = 'sealbox-seal';

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error('expected a DomainError');
}

function tokenWithKey(tokenLabel: string, keyLabel: string): FakeSealToken {
  const token = new FakeSealToken(tokenLabel);
  token.keys.set(keyLabel, randomBytes(32));
  return token;
}

describeUnsealSource({
  name: 'pkcs11 (auto-unseal, fake token)',
  source: pkcs11Source({ token: new FakeSealToken('token-a'), keyLabel: KEY_LABEL }),
  init: {},
  inputsFor: () => [],
  wrongInputs: async () => [],
  // Same kind, same key label, another token: another key, which does not open the KEK.
  wrongSource: pkcs11Source({ token: tokenWithKey('token-b', KEY_LABEL), keyLabel: KEY_LABEL }),
  malformed: 'any key at all',
});

describe('pkcs11 source', () => {
  it('creates the token key if the token has none, then reuses it; stores only the token-wrapped KEK and public labels', async () => {
    const token = new FakeSealToken('token-a');
    const source = pkcs11Source({ token, keyLabel: KEY_LABEL });
    const first = await source.create({});
    const key = token.keys.get(KEY_LABEL);
    expect(key).toHaveLength(32);
    const second = await source.create({});
    expect(token.keys.get(KEY_LABEL)).toBe(key);
    expect(first.params).toMatchObject({ mechanism: 'CKM_AES_GCM', tokenLabel: 'token-a', keyLabel: KEY_LABEL });
    expect(first.params.wrappedKek).not.toBe(second.params.wrappedKek);
    expect(Buffer.from(first.params.wrappedKek, 'base64')).toHaveLength(12 + 32 + 16);
    expect(first.handout).toEqual([]);
    expect(source.required(first.params)).toBe(0);
    expect(source.auto).toBe(true);
  });

  it('binds the KEK to the key label: a token key under another label that holds the same material does not open it', async () => {
    const token = new FakeSealToken();
    const created = await pkcs11Source({ token, keyLabel: KEY_LABEL }).create({});
    token.keys.set('other-label', token.keys.get(KEY_LABEL) ?? Buffer.alloc(0));
    const relabelled = pkcs11Source({ token, keyLabel: 'other-label' });
    expect(await codeOf(() => relabelled.derive(created.params, []))).toBe('UNSEAL_FAILED');
  });

  it('reports a missing key, a missing token and an unconfigured token with their codes', async () => {
    const token = new FakeSealToken();
    const created = await pkcs11Source({ token, keyLabel: KEY_LABEL }).create({});
    expect(await codeOf(() => pkcs11Source({ token, keyLabel: 'wrong-label' }).derive(created.params, []))).toBe('SEAL_TOKEN_KEY_NOT_FOUND');
    token.unavailable = true;
    expect(await codeOf(() => pkcs11Source({ token, keyLabel: KEY_LABEL }).derive(created.params, []))).toBe('SEAL_TOKEN_UNAVAILABLE');
    expect(await codeOf(() => pkcs11Source(undefined).derive(created.params, []))).toBe('SEAL_TOKEN_NOT_CONFIGURED');
    expect(await codeOf(() => pkcs11Source(undefined).create({}))).toBe('SEAL_TOKEN_NOT_CONFIGURED');
  });

  it('names the token and key in the message when the key does not open the store, never the KEK', async () => {
    const created = await pkcs11Source({ token: new FakeSealToken('token-a'), keyLabel: KEY_LABEL }).create({});
    const other = pkcs11Source({ token: new FakeSealToken('token-b'), keyLabel: KEY_LABEL });
    await other.create({}); // token-b gets its own key under the same label
    const failure = await other.derive(created.params, []).then(
      () => undefined,
      (error: unknown) => error as DomainError,
    );
    expect(failure?.code).toBe('UNSEAL_FAILED');
    expect(failure?.message).toContain('token-b');
    expect(failure?.message).toContain('sealed with the key sealbox-seal of token token-a');
    expect(failure?.message).not.toContain(created.kek.toString('base64'));
  });
});
