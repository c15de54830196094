// TESTS ONLY: the e2e stack starts lifecycle through this file instead of apps/lifecycle/dist/main.js,
// so its clock can be moved (see libs/lifecycle/src/test-clock and harness/lifecycle.ts).
import 'reflect-metadata';
import { runLifecycleWithTestClock } from '@sealbox/lifecycle/test-clock';

await runLifecycleWithTestClock();
