// The one place where errno numbers from the addon (and from Node's fs) become
// codes, and where codes are classified. Code above matches on `code`, never on
// message text. See errno(3).
import { getSystemErrorMap } from 'util';

export class KernelError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string | undefined;
  constructor(code: string, errno: number, syscall: string | undefined, message: string) {
    super(message);
    this.name = 'KernelError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** Turns whatever the addon or fs threw into a KernelError with a code; other errors pass through. */
export function fromNativeError(e: unknown): unknown {
  if (e instanceof KernelError || !(e instanceof Error)) return e;
  const raw = e as Error & { errno?: unknown; code?: unknown; syscall?: unknown };
  if (typeof raw.errno !== 'number') return e;
  const errno = raw.errno < 0 ? raw.errno : -raw.errno;
  const code = typeof raw.code === 'string' && raw.code.startsWith('E') ? raw.code : getSystemErrorMap().get(errno)?.[0] ?? `ERRNO${-errno}`;
  const syscall = typeof raw.syscall === 'string' ? raw.syscall : undefined;
  const out = new KernelError(code, errno, syscall, raw.message);
  out.stack = raw.stack;
  return out;
}

/** Calls fn and rethrows any native failure as a KernelError. */
export function kernelCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e: unknown) {
    throw fromNativeError(e);
  }
}

export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const isRetryable = (e: unknown): boolean => ['EINTR', 'EAGAIN', 'EWOULDBLOCK'].includes(errorCode(e) ?? '');
export const isPermission = (e: unknown): boolean => ['EPERM', 'EACCES'].includes(errorCode(e) ?? '');
/** ENOTTY/EINVAL from RNDADDENTROPY: the target is not a random device (rngd's write() fallback). */
export const isNotRandomDevice = (e: unknown): boolean => ['ENOTTY'].includes(errorCode(e) ?? '');
/** The device went away (hot-unplug, live migration): close and reopen with backoff. */
export const isDeviceGone = (e: unknown): boolean => ['ENODEV', 'ENOENT', 'ENXIO'].includes(errorCode(e) ?? '');
