/**
 * Generated passwords of `username_password` secrets, by IBM's `password_generation_policy`.
 *
 * Every character is drawn with node:crypto `randomInt`, which is unbiased (rejection sampling), and
 * the password holds at least one character of each enabled class: one of each is drawn first, the
 * rest from the union of the classes, then the whole is shuffled (Fisher–Yates on `randomInt`) so
 * the guaranteed characters sit anywhere.
 */
import { randomInt } from 'node:crypto';
import { SecretsWire } from '@sealbox/contracts';
import { validationFailed } from '@sealbox/platform';

export const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
export const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';
/** ASCII punctuation without quotes, backslash, backtick and space (they break shells and config files). */
export const SYMBOLS = '!#$%&()*+,-./:;<=>?@[]^_{|}~';

/** A policy with every field set (IBM returns it so in the secret's metadata). */
export interface ResolvedPasswordPolicy {
  readonly length: number;
  readonly include_digits: boolean;
  readonly include_symbols: boolean;
  readonly include_uppercase: boolean;
}

/**
 * A policy with the defaults applied (length 32, every class), checked against the wire contract
 * (length 12–256, booleans, no other field). Throws VALIDATION_FAILED naming the field, under `field`.
 */
export function resolvePasswordPolicy(policy: unknown, field = 'password_generation_policy'): ResolvedPasswordPolicy {
  const parsed = SecretsWire.PasswordGenerationPolicy.safeParse(policy ?? {});
  if (!parsed.success) {
    throw validationFailed(
      parsed.error.issues.map((issue) => ({
        field: [field, ...issue.path.map(String), ...('keys' in issue ? issue.keys.slice(0, 1) : [])].join('.'),
        message: issue.message,
      })),
    );
  }
  return { ...SecretsWire.DEFAULT_PASSWORD_GENERATION_POLICY, ...definedFields(parsed.data) };
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/** The character classes a policy enables, lowercase first. */
export function passwordClasses(policy: ResolvedPasswordPolicy): readonly string[] {
  return [
    LOWERCASE,
    ...(policy.include_uppercase ? [UPPERCASE] : []),
    ...(policy.include_digits ? [DIGITS] : []),
    ...(policy.include_symbols ? [SYMBOLS] : []),
  ];
}

/** A uniformly drawn character of `alphabet`. */
function draw(alphabet: string): string {
  return alphabet.charAt(randomInt(alphabet.length));
}

/** A new password by `policy` (defaults applied, validated: see resolvePasswordPolicy). */
export function generatePassword(policy?: unknown): string {
  const resolved = resolvePasswordPolicy(policy);
  const classes = passwordClasses(resolved);
  const alphabet = classes.join('');
  const characters = classes.map(draw);
  while (characters.length < resolved.length) characters.push(draw(alphabet));
  for (let index = characters.length - 1; index > 0; index -= 1) {
    const other = randomInt(index + 1);
    const current = characters[index] ?? '';
    characters[index] = characters[other] ?? '';
    characters[other] = current;
  }
  return characters.join('');
}
