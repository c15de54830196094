/** `arbitrary`: the payload as given; an optional expiration date. */
import { checkExpiration } from '../validation.js';
import { textField } from '../payload.js';
import type { SecretTypeHandler } from './handler.js';

export const arbitrary: SecretTypeHandler<'arbitrary'> = {
  type: 'arbitrary',
  async first({ prototype, now }) {
    return {
      payload: { payload: prototype.payload },
      secretDetails: {},
      secretExpirationAt: checkExpiration(prototype.expiration_date, now),
      versionDetails: {},
      versionExpirationAt: null,
      nextRotationAt: null,
    };
  },
  async next({ secret, prototype }) {
    return { payload: { payload: prototype['payload'] as string }, secretDetails: secret.details, versionDetails: {}, versionExpirationAt: null };
  },
  decode: (value) => ({ payload: textField(value, 'payload') ?? '' }),
  metadataView: (_secret, { expiration }) => ({ ...expiration }),
  versionView: () => ({}),
};
