import { Clock } from '@sealbox/platform';
import { readFileSync } from 'node:fs';

/**
 * TESTS ONLY (see index.ts, `SEALBOX_LIFECYCLE_TEST_CLOCK_FILE`): the system time plus a number of ms read from a
 * file on every reading. A distributed test writes e.g. `604800000` to move the lifecycle service 7
 * days ahead. No file, or no integer in it: no offset.
 */
export class OffsetFileClock extends Clock {
  constructor(
    private readonly path: string,
    private readonly system: () => number = Date.now,
  ) {
    super();
  }

  override now(): Date {
    return new Date(this.nowMs());
  }

  override nowMs(): number {
    return this.system() + this.offset();
  }

  private offset(): number {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8').trim();
    } catch {
      return 0;
    }
    const value = Number(text);
    return text !== '' && Number.isSafeInteger(value) ? value : 0;
  }
}
