import { describe, expect, it } from 'vitest';
import { formatProfileSummary, summarizeProfile, type CpuProfile } from './profile-summary.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

/** root → handler (libs/secrets) → query (typeorm); root → idle; root → gc. Samples: 1 s each. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4, 5] },
    { id: 2, callFrame: frame('get', 'file:///w/libs/secrets/dist/secrets/secret.service.js'), children: [3] },
    { id: 3, callFrame: frame('query', 'file:///w/node_modules/typeorm/driver/query.js') },
    { id: 4, callFrame: frame('(idle)') },
    { id: 5, callFrame: frame('(garbage collector)') },
  ],
  startTime: 0,
  endTime: 5e6,
  samples: [3, 3, 4, 5, 2],
  timeDeltas: [1e6, 1e6, 1e6, 1e6, 1e6],
};

describe('profile summary', () => {
  it('charges a sample to the nearest Sealbox lib on its stack, leaves idle out, and ranks leaf frames by self time', () => {
    const summary = summarizeProfile(profile);
    expect(summary.busyUs).toBe(4e6);
    expect(summary.areas).toEqual([
      ['secrets', 3e6],
      ['gc', 1e6],
    ]);
    expect(summary.frames[0]).toEqual(['query driver/query.js:1', 2e6]);
    expect(formatProfileSummary(summary)).toContain(' 75.0% secrets');
  });

  it('keeps only the last seconds when asked', () => {
    expect(summarizeProfile(profile, 2).busyUs).toBe(2e6);
  });
});
