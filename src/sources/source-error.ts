// Builds KernelErrors for the source adapters, including from the one-line
// messages of a reader child (the reader prints strerror(3) text, not errno numbers):
// the text is matched against the system's errno table, in one place.
import { getSystemErrorMap } from 'util';
import { KernelError } from '../kernel/errors';

export function sourceError(code: string, message: string, syscall = 'read'): KernelError {
  const entry = [...getSystemErrorMap().entries()].find(([, [c]]) => c === code);
  return new KernelError(code, entry ? entry[0] : 0, syscall, message);
}

/** "vrngd-reader: /dev/hwrng: No such device" → ENODEV; EIO when nothing matches. */
export function codeFromStrerror(text: string): string {
  const lower = text.toLowerCase();
  let best: string | undefined;
  let bestLength = 0;
  for (const [, [code, message]] of getSystemErrorMap()) {
    const m = message.toLowerCase();
    // the longest matching message wins ("no such device or address" over "no such device")
    if (m.length > bestLength && lower.includes(m)) {
      best = code;
      bestLength = m.length;
    }
  }
  return best ?? 'EIO';
}
