// The error that layers below the CLI throw for an expected failure: one line for
// the user and what kind of failure it is. The CLI alone turns the kind into an
// exit status (src/cli/exit.ts exitCodeFor); nothing below it knows sysexits.
// Unexpected failures stay plain Errors (a bug: the CLI prints its stack).

/** What went wrong, in the terms of sysexits(3); exit.ts maps each to its number. */
export type FailureKind =
  | 'usage' // the options or arguments are wrong
  | 'noinput' // an input file cannot be opened
  | 'unavailable' // a device, source or service is missing or held by another vrngd
  | 'oserr' // a system call failed for no reason above
  | 'cantcreat' // a file cannot be created safely (not ours, a link, hard links)
  | 'ioerr' // reading or writing failed
  | 'tempfail' // try again later (EAGAIN, EBUSY, a timeout)
  | 'noperm'; // permission denied, or a path we must not trust

export class DomainError extends Error {
  readonly kind: FailureKind;
  constructor(message: string, kind: FailureKind) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
  }
}
