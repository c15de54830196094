import { readFileSync } from 'node:fs';
import { usage } from './errors.js';

/** Where `@-` reads from (the process's stdin; a fake in tests). */
export type ReadStdin = () => Promise<string>;

/**
 * Any option value may come from elsewhere: `@FILE` is the file's contents, `@-` standard input
 * (once per command line), `@@text` the literal `@text`. One final newline is dropped, so
 * `echo secret > f` gives `secret`.
 */
export class ValueReader {
  private stdinUsedBy: string | undefined;

  constructor(private readonly readStdin: ReadStdin | undefined) {}

  async read(value: string, option: string): Promise<string> {
    if (!value.startsWith('@')) return value;
    if (value.startsWith('@@')) return value.slice(1);
    if (value === '@-') {
      if (this.stdinUsedBy) throw usage(`${option}: standard input is already read for ${this.stdinUsedBy}; use @FILE for one of them`);
      if (!this.readStdin) throw usage(`${option}: there is no standard input to read`);
      this.stdinUsedBy = option;
      return withoutFinalNewline(await this.readStdin());
    }
    const path = value.slice(1);
    try {
      return withoutFinalNewline(readFileSync(path, 'utf8'));
    } catch (error) {
      throw usage(`${option}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (a value starting with @ is a file; write @@ for a literal @)`);
    }
  }
}

const withoutFinalNewline = (text: string): string => text.replace(/\r?\n$/, '');
