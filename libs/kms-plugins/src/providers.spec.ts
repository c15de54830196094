import { describeHpcsCeremony, describeProviderConformance, FakeHsm } from './testing/index.js';
import { createProvider, providerKinds } from './registry.js';

/** Unit tier: every provider on the in-memory fake HSM. */
for (const kind of providerKinds) {
  describeProviderConformance(`${kind} on the fake HSM`, () => {
    const hsm = new FakeHsm();
    return { hsm, provider: () => createProvider(kind, { hsm }), close: () => hsm.close() };
  });
}

describeHpcsCeremony('hpcs on the fake HSM', () => {
  const hsm = new FakeHsm();
  return { hsm, provider: () => createProvider('hpcs', { hsm }), close: () => hsm.close() };
});
