import { DomainError } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { DIGITS, generatePassword, LOWERCASE, resolvePasswordPolicy, SYMBOLS, UPPERCASE } from './password.js';

const has = (password: string, alphabet: string) => [...password].some((char) => alphabet.includes(char));

function validationFields(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    const domainError = error as DomainError;
    expect(domainError.code).toBe('VALIDATION_FAILED');
    return (domainError.fields ?? []).map((issue) => issue.field);
  }
  throw new Error('expected VALIDATION_FAILED');
}

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((sum, count) => sum + count, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
}

describe('resolvePasswordPolicy', () => {
  it('applies the IBM defaults: 32 characters, every class', () => {
    expect(resolvePasswordPolicy(undefined)).toEqual({ length: 32, include_digits: true, include_symbols: true, include_uppercase: true });
    expect(resolvePasswordPolicy({ include_symbols: false })).toEqual({
      length: 32,
      include_digits: true,
      include_symbols: false,
      include_uppercase: true,
    });
  });

  it.each([
    [{ length: 11 }, 'password_generation_policy.length'],
    [{ length: 257 }, 'password_generation_policy.length'],
    [{ length: 12.5 }, 'password_generation_policy.length'],
    [{ length: '32' }, 'password_generation_policy.length'],
    [{ include_digits: 'yes' }, 'password_generation_policy.include_digits'],
    [{ include_symbols: 1 }, 'password_generation_policy.include_symbols'],
    [{ include_uppercase: null }, 'password_generation_policy.include_uppercase'],
    [{ include_lowercase: false }, 'password_generation_policy.include_lowercase'],
    ['long', 'password_generation_policy'],
  ])('refuses %j naming %s', (policy, field) => {
    expect(validationFields(() => generatePassword(policy))).toEqual([field]);
  });

  it('names the field under the caller-given path', () => {
    expect(validationFields(() => resolvePasswordPolicy({ length: 1 }, 'rotation.password_generation_policy'))).toEqual([
      'rotation.password_generation_policy.length',
    ]);
  });
});

describe('generatePassword', () => {
  it.each([12, 13, 32, 100, 256])('makes %i characters', (length) => {
    expect(generatePassword({ length })).toHaveLength(length);
  });

  it('uses 32 characters of every class by default', () => {
    for (let round = 0; round < 200; round += 1) {
      const password = generatePassword();
      expect(password).toHaveLength(32);
      for (const alphabet of [LOWERCASE, UPPERCASE, DIGITS, SYMBOLS]) expect(has(password, alphabet)).toBe(true);
    }
  });

  it('holds one of each enabled class even at the minimum length, and nothing of a disabled class', () => {
    const policies = [
      { include_digits: false },
      { include_symbols: false },
      { include_uppercase: false },
      { include_digits: false, include_symbols: false, include_uppercase: false },
      { include_symbols: false, include_uppercase: false },
    ];
    for (const policy of policies) {
      for (let round = 0; round < 300; round += 1) {
        const password = generatePassword({ ...policy, length: 12 });
        expect(has(password, LOWERCASE)).toBe(true);
        expect(has(password, UPPERCASE)).toBe(policy.include_uppercase !== false);
        expect(has(password, DIGITS)).toBe(policy.include_digits !== false);
        expect(has(password, SYMBOLS)).toBe(policy.include_symbols !== false);
      }
    }
  });

  it('never repeats (256 bits of entropy and more per password)', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generatePassword()));
    expect(seen.size).toBe(1000);
  });

  it('draws each letter equally often (chi-square, 25 degrees of freedom)', () => {
    const counts = new Array<number>(LOWERCASE.length).fill(0);
    for (let round = 0; round < 1000; round += 1) {
      for (const char of generatePassword({ length: 64, include_digits: false, include_symbols: false, include_uppercase: false })) {
        counts[LOWERCASE.indexOf(char)] = (counts[LOWERCASE.indexOf(char)] ?? 0) + 1;
      }
    }
    expect(counts.every((count) => count > 0)).toBe(true);
    // The 99.9999th percentile of chi-square with 25 degrees of freedom is about 75: a biased or
    // truncated draw (one letter never or twice as often) lands in the hundreds.
    expect(chiSquare(counts)).toBeLessThan(80);
  });

  it('draws every character of the full alphabet equally often (chi-square, 89 degrees of freedom)', () => {
    const alphabet = LOWERCASE + UPPERCASE + DIGITS + SYMBOLS;
    const counts = new Array<number>(alphabet.length).fill(0);
    // At 256 characters the 4 guaranteed ones barely tilt the counts (well under the bound's slack).
    for (let round = 0; round < 400; round += 1) {
      for (const char of generatePassword({ length: 256 })) counts[alphabet.indexOf(char)] = (counts[alphabet.indexOf(char)] ?? 0) + 1;
    }
    // The 99.9999th percentile of chi-square with 89 degrees of freedom is about 170.
    expect(chiSquare(counts)).toBeLessThan(180);
  });

  it('places the guaranteed characters anywhere (shuffled)', () => {
    const firstClasses = new Set<string>();
    const lastClasses = new Set<string>();
    const classOf = (char: string) => [LOWERCASE, UPPERCASE, DIGITS, SYMBOLS].find((alphabet) => alphabet.includes(char)) ?? '?';
    for (let round = 0; round < 2000; round += 1) {
      const password = generatePassword({ length: 12 });
      firstClasses.add(classOf(password.charAt(0)));
      lastClasses.add(classOf(password.charAt(11)));
    }
    expect(firstClasses.size).toBe(4);
    expect(lastClasses.size).toBe(4);
  });
});
