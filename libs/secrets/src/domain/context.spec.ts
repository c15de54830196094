import { StorageWire } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import { parseVersionObjectKey, secretCrn, secretPrefix, versionContext, versionObjectKey } from './context.js';

const INSTANCE_CRN = 'crn:v1:bluemix:public:secrets-manager:us-south:a/acct-1:0f3c6a56-9d1e-4c55-9a38-5c1d2b0e7a11::';
const SECRET_ID = '7d2b1f0e-3a4c-4b5d-8e6f-0a1b2c3d4e5f';
const VERSION_ID = 'c0ffee00-1111-4222-8333-444455556666';

describe('versionContext', () => {
  it('binds the instance CRN, the secret id and the version id', () => {
    expect(versionContext(INSTANCE_CRN, SECRET_ID, VERSION_ID)).toEqual({ instanceCrn: INSTANCE_CRN, secretId: SECRET_ID, versionId: VERSION_ID });
  });
});

describe('versionObjectKey', () => {
  it('lays a version out under its secret, as a valid object key', () => {
    const key = versionObjectKey(SECRET_ID, VERSION_ID);
    expect(key).toBe(`secrets/${SECRET_ID}/versions/${VERSION_ID}`);
    expect(StorageWire.objectKeyProblem(key)).toBeUndefined();
    expect(key.startsWith(secretPrefix(SECRET_ID))).toBe(true);
    expect(StorageWire.listBoundProblem(secretPrefix(SECRET_ID))).toBeUndefined();
  });

  it('gives distinct versions and secrets distinct keys, and one secret prefix never covers another secret', () => {
    const other = '7d2b1f0e-3a4c-4b5d-8e6f-0a1b2c3d4e5f0';
    expect(versionObjectKey(SECRET_ID, VERSION_ID)).not.toBe(versionObjectKey(SECRET_ID, SECRET_ID));
    expect(versionObjectKey(other, VERSION_ID).startsWith(secretPrefix(SECRET_ID))).toBe(false);
  });

  it('reads the ids back from a key, and nothing from another key', () => {
    expect(parseVersionObjectKey(versionObjectKey(SECRET_ID, VERSION_ID))).toEqual({ secretId: SECRET_ID, versionId: VERSION_ID });
    expect(parseVersionObjectKey(`secrets/${SECRET_ID}`)).toBeUndefined();
    expect(parseVersionObjectKey(`secrets/${SECRET_ID}/versions/${VERSION_ID}/x`)).toBeUndefined();
    expect(parseVersionObjectKey(`other/${SECRET_ID}/versions/${VERSION_ID}`)).toBeUndefined();
  });

  it.each([
    ['an empty secret id', '', VERSION_ID],
    ['a secret id with "/"', 'a/b', VERSION_ID],
    ['a ".." secret id', '..', VERSION_ID],
    ['an empty version id', SECRET_ID, ''],
    ['a "." version id', SECRET_ID, '.'],
    ['a version id with a control character', SECRET_ID, 'v\u0000'],
    ['an overlong version id', SECRET_ID, 'v'.repeat(StorageWire.MAX_KEY_CHARS)],
  ])('refuses %s', (_what, secretId, versionId) => {
    expect(() => versionObjectKey(secretId, versionId)).toThrow(/storage key/);
  });
});

describe('secretCrn', () => {
  it('names the secret as a resource of its instance', () => {
    expect(secretCrn(INSTANCE_CRN, SECRET_ID)).toBe(
      `crn:v1:bluemix:public:secrets-manager:us-south:a/acct-1:0f3c6a56-9d1e-4c55-9a38-5c1d2b0e7a11:secret:${SECRET_ID}`,
    );
  });

  it.each([
    ['not a CRN', 'instance-1'],
    ['a CRN without an instance', 'crn:v1:bluemix:public:secrets-manager:us-south:a/acct-1:::'],
    ['a CRN that already names a resource', `crn:v1:bluemix:public:secrets-manager:us-south:a/acct-1:i-1:secret:${SECRET_ID}`],
    ['a CRN of another version', 'crn:v2:bluemix:public:secrets-manager:us-south:a/acct-1:i-1::'],
    ['too few segments', 'crn:v1:bluemix:public:secrets-manager:us-south:a/acct-1:i-1'],
  ])('refuses an instance CRN that is %s', (_what, crn) => {
    expect(() => secretCrn(crn, SECRET_ID)).toThrow(/CRN of a service instance/);
  });

  it('refuses a secret id that cannot be a CRN segment', () => {
    expect(() => secretCrn(INSTANCE_CRN, '')).toThrow(/CRN segment/);
    expect(() => secretCrn(INSTANCE_CRN, 'a:b')).toThrow(/CRN segment/);
  });
});
