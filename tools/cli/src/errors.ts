/**
 * Exit codes of `sealbox` (also in docs/cli.md):
 * 0 done; 1 the server refused (its IBM error code and message are printed) or the operation failed;
 * 2 wrong usage; 3 not logged in, or the session expired; 4 an operation did not finish in time;
 * 5 the gateway (or NATS) could not be reached.
 */
export const ExitCode = {
  OK: 0,
  SERVER: 1,
  USAGE: 2,
  NOT_LOGGED_IN: 3,
  TIMEOUT: 4,
  UNREACHABLE: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI reports as one message and an exit code. `code` is the server's error code, when there is one. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly details: { readonly code?: string; readonly status?: number; readonly trace?: string } = {},
  ) {
    super(message);
  }
}

export const usage = (message: string): CliError => new CliError(ExitCode.USAGE, message);

export const notLoggedIn = (message = 'Not logged in. Run: sealbox login --apikey KEY [--endpoint URL]'): CliError =>
  new CliError(ExitCode.NOT_LOGGED_IN, message);
