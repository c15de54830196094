/**
 * TESTS ONLY, not part of the production configuration: run the lifecycle service with a clock a
 * distributed test can move. `node e2e/harness/lifecycle-with-test-clock.mjs` starts lifecycle like
 * apps/lifecycle does, plus `SEALBOX_LIFECYCLE_TEST_CLOCK_FILE`, a file holding a number of ms added to
 * the system time (absent file = 0). Production lifecycle neither reads that variable nor ships this
 * entry point in its app.
 */
import { runService } from '@sealbox/platform';
import { z } from 'zod';
import { LifecycleAppConfig, lifecycleOptionsFrom } from '../config.js';
import { LifecycleModule } from '../lifecycle.module.js';
import { OffsetFileClock } from './offset-file-clock.js';

export { OffsetFileClock } from './offset-file-clock.js';

/** The one setting of the test clock. */
export const TestClockSettings = {
  SEALBOX_LIFECYCLE_TEST_CLOCK_FILE: z
    .string()
    .min(1)
    .describe('TESTS ONLY: a file holding a number of ms added to the system time of the lifecycle service (absent file = 0)'),
};

/** Start lifecycle (as apps/lifecycle) whose domain reads time from OffsetFileClock on SEALBOX_LIFECYCLE_TEST_CLOCK_FILE. */
export async function runLifecycleWithTestClock(): Promise<void> {
  await runService({
    service: 'lifecycle',
    schema: LifecycleAppConfig.extend(TestClockSettings),
    module: (config) => LifecycleModule.register({ ...lifecycleOptionsFrom(config), clock: new OffsetFileClock(config.SEALBOX_LIFECYCLE_TEST_CLOCK_FILE) }),
  });
}
