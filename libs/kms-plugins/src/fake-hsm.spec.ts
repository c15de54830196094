import { HsmUnavailableError } from '@sealbox/hsm';
import { describeHsmConformance } from '@sealbox/hsm/testing';
import { describe, expect, it } from 'vitest';
import { FakeHsm, FakeHsmStore } from './testing/index.js';

/** The unit tier's fake must keep the port's semantics, or the provider suites prove nothing: it passes the HSM suite. */
describeHsmConformance('FakeHsm (kms-plugins unit tier)', () => {
  const store = new FakeHsmStore();
  return { open: () => new FakeHsm(store), cleanup: async () => store.clear() };
});

describe('FakeHsm outage', () => {
  it('answers HsmUnavailableError during an outage and serves again afterwards, keys intact', async () => {
    const hsm = new FakeHsm();
    await hsm.generateKey('k');
    hsm.setOutage(true);
    await expect(hsm.hasKey('k')).rejects.toBeInstanceOf(HsmUnavailableError);
    await expect(hsm.encrypt({ label: 'k' }, Buffer.from('x'))).rejects.toBeInstanceOf(HsmUnavailableError);
    hsm.setOutage(false);
    expect(await hsm.hasKey('k')).toBe(true);
  });
});
