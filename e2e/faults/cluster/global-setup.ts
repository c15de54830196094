import type { TestProject } from 'vitest/node';
import setup from '../../harness/global-setup.js';

/**
 * The e2e stack on a 3-node NATS cluster of its own (JetStream replicated on the three nodes, as
 * docker/compose.yaml runs it): the cluster fault tier kills its nodes.
 */
export default function clusterFaultsSetup(project: TestProject): Promise<() => Promise<void>> {
  process.env.SEALBOX_E2E_NATS_URL = 'private';
  process.env.SEALBOX_E2E_NATS_NODES = '3';
  return setup(project);
}
