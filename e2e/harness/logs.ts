import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The last `lines` lines of one process's log file. */
export function logTail(logDir: string, name: string, lines = 40): string {
  const file = join(logDir, `${name}.log`);
  if (!existsSync(file)) return '(no log file)';
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n') || '(empty)';
}

/** The tails of several logs, one titled block each, for a failure message. */
export function logTails(logDir: string, names: readonly string[], lines = 40): string {
  return names.map((name) => `----- ${name}.log (last ${lines} lines) -----\n${logTail(logDir, name, lines)}`).join('\n');
}
