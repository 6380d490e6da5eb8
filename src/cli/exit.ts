// Exit statuses (sysexits(3)) and the one mapping from error codes to an exit
// status and a one-line message, used by every command. Expected failures never
// print a stack trace.
import { errorCode } from '../kernel/errors';

export const EX = {
  OK: 0,
  /** rngtest's verdict: a block failed, or none was tested. */
  FAIL: 1,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  OSERR: 71,
  /** A file cannot be created safely (it is not ours, or is a link). */
  CANTCREAT: 73,
  IOERR: 74,
  TEMPFAIL: 75,
  NOPERM: 77,
  CONFIG: 78,
} as const;

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

/** The exit status for any thrown value. `input` says the failing path was an input file (66, not 69). */
export function exitCodeFor(e: unknown, opts: { input?: boolean } = {}): number {
  if (e instanceof CliError) return e.exitCode;
  const code = errorCode(e);
  if (code === undefined) return EX.SOFTWARE;
  if (opts.input && ['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES', 'EPERM', 'ENXIO', 'ENODEV'].includes(code)) return EX.NOINPUT;
  return BY_CODE[code] ?? EX.OSERR;
}

/** One line, no stack: "<context>: <reason>". EPERM on entropy calls names CAP_SYS_ADMIN. */
export function describeError(e: unknown, context?: string): string {
  if (e instanceof CliError) return e.message;
  const code = errorCode(e);
  const syscall = (e as { syscall?: unknown } | null)?.syscall;
  const where = context ? `${context}: ` : '';
  if ((code === 'EPERM' || code === 'EACCES') && typeof syscall === 'string' && /RND|ioctl/.test(syscall)) {
    return `${where}permission denied: ${syscall} needs CAP_SYS_ADMIN (run as root or grant the capability)`;
  }
  const message = e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e);
  return `${where}${message}`;
}
