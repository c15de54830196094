#!/usr/bin/env node
// `npm test`: the tiers in order (unit, medium, e2e, the fault tier, then browser: the web console in
// Chromium), each its own vitest run so the tiers never share NATS subjects or the event stream at the same time. Prints one closing line
// "N passed, N failed" over all tiers and exits non-zero if any tier failed or ran no test.
// Before the medium and e2e tiers it makes the machine ready (tools/test-setup.mjs): SoftHSM2,
// nats-server, PostgreSQL and NATS, or one line saying what is missing and how to install it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareMachine } from './test-setup.mjs';

const tiers = (process.env.SEALBOX_TEST_TIERS ?? 'static,unit,medium,e2e,faults,faults-cluster,browser').split(',').map((tier) => tier.trim()).filter(Boolean);
const reports = mkdtempSync(join(tmpdir(), 'sealbox-test-'));
let passed = 0;
let failed = 0;
let skipped = 0;
let exitCode = 0;
/** Tiers that failed without a failed test, named again at the end. */
const tierProblems = [];

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', env: process.env });
  return result.status ?? 1;
}

const needsStack = tiers.includes('e2e') || tiers.includes('faults') || tiers.includes('faults-cluster');
if (tiers.includes('medium') || needsStack) {
  const ready = await prepareMachine();
  if (!ready.ok) {
    console.error(ready.line);
    process.exit(1);
  }
}

if (tiers.includes('browser') && !existsSync('/usr/bin/chromium')) {
  // The browser tier drives Debian's Chromium; playwright never downloads one.
  console.error('the browser tier needs Chromium at /usr/bin/chromium: apt-get install -y chromium');
  process.exit(1);
}

if (needsStack) {
  // The e2e and fault tiers run the built apps.
  if (run('npx', ['tsc', '-b', 'tsconfig.build.json']) !== 0) {
    console.error('build failed');
    process.exit(1);
  }
}

if (tiers.includes('static')) {
  // Lint and the whole-repo typecheck (including the compile-time tests of the typed RPC client).
  console.log('\n=== static checks: eslint, tsc ===');
  const lint = run('npx', ['eslint', '.']);
  const types = run('npx', ['tsc', '-p', 'tsconfig.spec.json']);
  const consoleTypes = run('npx', ['tsc', '-p', 'libs/console-web/tsconfig.json']);
  if (lint !== 0 || types !== 0 || consoleTypes !== 0) {
    failed += 1;
    exitCode = 1;
    console.error('static checks failed');
  }
}

for (const tier of tiers.filter((name) => name !== 'static')) {
  const output = join(reports, `${tier}.json`);
  console.log(`\n=== ${tier} tests ===`);
  const status = run('npx', ['vitest', 'run', '--project', tier, '--reporter=default', '--reporter=json', `--outputFile.json=${output}`]);
  let report;
  try {
    report = JSON.parse(readFileSync(output, 'utf8'));
  } catch {
    report = undefined;
  }
  const tierPassed = report?.numPassedTests ?? 0;
  const tierFailed = (report?.numFailedTests ?? 0) + (report ? 0 : 1);
  passed += tierPassed;
  failed += tierFailed;
  skipped += (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0);
  if (status !== 0 || tierFailed > 0) exitCode = 1;
  // vitest also fails a run whose tests all passed: an unhandled error or rejection, a file that did
  // not load. Say so in the closing lines, where a CI excerpt shows it.
  const suitesFailed = report?.numFailedTestSuites ?? 0;
  if (status !== 0 && tierFailed === 0) {
    tierProblems.push(`the ${tier} tier exited ${status} with no failed test (${suitesFailed} failed file(s); look for "Unhandled" or "Errors" in its output)`);
  }
  if (tierPassed === 0) {
    console.error(`the ${tier} tier ran no test`);
    exitCode = 1;
  }
}
rmSync(reports, { recursive: true, force: true });
for (const problem of tierProblems) console.error(problem);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(exitCode);
