// Exit statuses (sysexits(3)) and the one mapping from anything thrown to an exit
// status (exitCodeFor) and a one-line message (describeError), used by every
// command and by main.ts. Layers below the CLI throw DomainError (src/core/errors.ts)
// with a kind, or an error with an errno code; only this file knows the numbers.
// Expected failures never print a stack trace.
import { DomainError, FailureKind } from '../core/errors';
import { errorCode } from '../kernel/errors';

export const EX = {
  OK: 0,
  /** `check`: a block failed the FIPS tests, or none was tested (rngtest's verdict). */
  FAIL: 1,
  USAGE: 64,
  NOINPUT: 66,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  OSERR: 71,
  /** A file cannot be created safely (it is not ours, or is a link). */
  CANTCREAT: 73,
  IOERR: 74,
  TEMPFAIL: 75,
  NOPERM: 77,
} as const;

/** Every status a vrngd command can return (README.md and docs/vrngd.8 list each one). */
export const ALL_EXIT_CODES: readonly number[] = Object.values(EX);

const BY_KIND: Record<FailureKind, number> = {
  usage: EX.USAGE,
  noinput: EX.NOINPUT,
  unavailable: EX.UNAVAILABLE,
  oserr: EX.OSERR,
  cantcreat: EX.CANTCREAT,
  ioerr: EX.IOERR,
  tempfail: EX.TEMPFAIL,
  noperm: EX.NOPERM,
};

/** An expected failure: what to print (one line) and how to exit. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string): CliError => new CliError(message, EX.USAGE);

const BY_CODE: Record<string, number> = {
  EPERM: EX.NOPERM,
  EACCES: EX.NOPERM,
  ENOENT: EX.UNAVAILABLE,
  ENODEV: EX.UNAVAILABLE,
  ENXIO: EX.UNAVAILABLE,
  ENOADDON: EX.UNAVAILABLE,
  EAGAIN: EX.TEMPFAIL,
  EINTR: EX.TEMPFAIL,
  EBUSY: EX.TEMPFAIL,
  ETIMEDOUT: EX.TEMPFAIL,
  EIO: EX.IOERR,
  EPIPE: EX.IOERR,
};

const NOINPUT_CODES = ['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES', 'EPERM', 'ENXIO', 'ENODEV'];

/**
 * The exit status for any thrown value: a CliError its own, a DomainError its
 * kind's, an errno code its class (EPERM/EACCES 77, ENOENT/ENODEV 69, EAGAIN 75,
 * EIO 74, any other 71), anything else 70 (a bug). `input`: the failing path was
 * an input file (66, not 69). `stream`: it was a stream being read, so whatever
 * is not 66 is 74.
 */
export function exitCodeFor(e: unknown, opts: { input?: boolean; stream?: boolean } = {}): number {
  if (e instanceof CliError) return e.exitCode;
  if (e instanceof DomainError) return BY_KIND[e.kind];
  const code = errorCode(e);
  if (code === undefined) return EX.SOFTWARE;
  if ((opts.input || opts.stream) && NOINPUT_CODES.includes(code)) return EX.NOINPUT;
  if (opts.stream) return EX.IOERR;
  return BY_CODE[code] ?? EX.OSERR;
}

/** `vrngd seed`: 0 seeded, 69 no device appeared, 75 too little data before the timeout or the end. */
export function seedExitCode(outcome: 'seeded' | 'no-device' | string): number {
  return outcome === 'seeded' ? EX.OK : outcome === 'no-device' ? EX.UNAVAILABLE : EX.TEMPFAIL;
}

/** One line, no stack: "<context>: <reason>". EPERM on entropy calls names CAP_SYS_ADMIN. */
export function describeError(e: unknown, context?: string): string {
  if (e instanceof CliError || e instanceof DomainError) return e.message;
  const code = errorCode(e);
  const syscall = (e as { syscall?: unknown } | null)?.syscall;
  const where = context ? `${context}: ` : '';
  if ((code === 'EPERM' || code === 'EACCES') && typeof syscall === 'string' && /RND|ioctl/.test(syscall)) {
    return `${where}permission denied: ${syscall} needs CAP_SYS_ADMIN (run as root or grant the capability)`;
  }
  const message = e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e);
  return `${where}${message}`;
}
