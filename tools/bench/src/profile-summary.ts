/**
 * `node tools/bench/dist/profile-summary.js <file.cpuprofile> [last seconds] [rows]`: where a
 * profiled process spent its CPU (a profile from `BENCH_CPU_PROF_DIR`), idle time left out:
 * - by area: the nearest frame of a Sealbox lib on the stack (libs/platform and libs/contracts do not
 *   count as an area: they serve every lib), else the package or runtime part of the leaf frame;
 * - the top frames by self time.
 * `last seconds` keeps only the end of the profile (the measured window; start-up left out).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  /** CPU time (µs) not idle in the window. */
  readonly busyUs: number;
  readonly areas: readonly (readonly [string, number])[];
  readonly frames: readonly (readonly [string, number])[];
}

const libOf = (url: string) => /\/libs\/([^/]+)\/(dist|src)\//.exec(url)?.[1];

function areaOfLeaf(frame: CallFrame): string {
  if (frame.functionName === '(garbage collector)') return 'gc';
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(frame.url)?.[1];
  if (pkg) return `pkg ${pkg.replace(/^@(nestjs|opentelemetry|nats-io)\/.*/, '@$1/*')}`;
  if (frame.url.includes('/libs/platform/')) return `platform (${frame.url.split('/libs/platform/')[1]?.split('/')[1] ?? '?'})`;
  if (frame.url.startsWith('node:')) return 'node internals';
  return frame.functionName.startsWith('(') ? frame.functionName : `native ${frame.functionName}`;
}

const frameName = (frame: CallFrame) => `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;

export function summarizeProfile(profile: CpuProfile, lastSeconds = Number.POSITIVE_INFINITY, rows = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const areas = new Map<string, number>();
  const frames = new Map<string, number>();
  const from = profile.endTime - profile.startTime - lastSeconds * 1e6;
  let at = 0;
  let busyUs = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    const leaf = byId.get(id);
    if (at < from || !leaf || leaf.callFrame.functionName === '(idle)') return;
    busyUs += delta;
    let area: string | undefined;
    for (let current: number | undefined = id; current !== undefined && area === undefined; current = parent.get(current)) {
      const lib = libOf(byId.get(current)?.callFrame.url ?? '');
      if (lib && lib !== 'platform' && lib !== 'contracts') area = lib;
    }
    area ??= areaOfLeaf(leaf.callFrame);
    areas.set(area, (areas.get(area) ?? 0) + delta);
    frames.set(frameName(leaf.callFrame), (frames.get(frameName(leaf.callFrame)) ?? 0) + delta);
  });
  const top = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, rows);
  return { busyUs, areas: top(areas), frames: top(frames) };
}

export function formatProfileSummary(summary: ProfileSummary): string {
  const share = (us: number) => `${((100 * us) / Math.max(1, summary.busyUs)).toFixed(1).padStart(5)}%`;
  return [
    `busy ${(summary.busyUs / 1e6).toFixed(2)} s of CPU`,
    'by area:',
    ...summary.areas.map(([name, us]) => `  ${share(us)} ${name}`),
    'top frames by self time:',
    ...summary.frames.map(([name, us]) => `  ${share(us)} ${name}`),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, last, rows] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-summary <file.cpuprofile> [last seconds] [rows]\n');
    process.exit(64);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${formatProfileSummary(summarizeProfile(profile, last ? Number(last) : undefined, rows ? Number(rows) : undefined))}\n`);
}
