/**
 * Medium tier: every provider on the real HSM backends, through the same conformance suites as
 * the unit tier: `pkcs11` on a fresh SoftHSM2 token (temporary directory, found by label) and the
 * `soft` emulator in a temporary directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pkcs11Hsm, SoftHsm, type Hsm } from '@sealbox/hsm';
import { createSoftHsm2Store, SOFTHSM2_LIBRARY, type SoftHsm2Store, type SoftHsm2Token } from '@sealbox/hsm/testing';
import { afterAll } from 'vitest';
import { createProvider, providerKinds, type ProviderKind } from './registry.js';
import { describeHpcsCeremony, describeProviderConformance, type ProviderUnderTest } from './testing/index.js';

/** One SoftHSM2 store per file (SOFTHSM2_CONF is read when the module initializes), a token per suite. */
let store: Promise<SoftHsm2Store> | undefined;
const softDirectories: string[] = [];

afterAll(async () => {
  await (await store)?.remove();
  await Promise.all(softDirectories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function onPkcs11(kind: ProviderKind): Promise<ProviderUnderTest> {
  store ??= createSoftHsm2Store();
  const token: SoftHsm2Token = await (await store).initToken();
  const hsm = new Pkcs11Hsm({ library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: token.pin });
  await hsm.open();
  return harness(kind, hsm);
}

async function onSoft(kind: ProviderKind): Promise<ProviderUnderTest> {
  const directory = await mkdtemp(join(tmpdir(), 'sealbox-kms-plugins-soft-'));
  softDirectories.push(directory);
  const hsm = new SoftHsm({ directory });
  await hsm.open();
  return harness(kind, hsm);
}

function harness(kind: ProviderKind, hsm: Hsm): ProviderUnderTest {
  return { hsm, provider: () => createProvider(kind, { hsm }), close: () => hsm.close() };
}

for (const kind of providerKinds) {
  describeProviderConformance(`${kind} on SoftHSM2 (pkcs11)`, () => onPkcs11(kind));
  describeProviderConformance(`${kind} on the soft HSM`, () => onSoft(kind));
}
describeHpcsCeremony('hpcs on SoftHSM2 (pkcs11)', () => onPkcs11('hpcs'));
describeHpcsCeremony('hpcs on the soft HSM', () => onSoft('hpcs'));
