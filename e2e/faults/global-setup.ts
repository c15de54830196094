import type { TestProject } from 'vitest/node';
import setup from '../harness/global-setup.js';

/**
 * The e2e stack, on a NATS server of its own: the fault tier stops and starts it, which it must
 * never do to a server other runs share.
 */
export default function faultsSetup(project: TestProject): Promise<() => Promise<void>> {
  process.env.SEALBOX_E2E_NATS_URL = 'private';
  return setup(project);
}
