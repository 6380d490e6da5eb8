// Wires the clone watcher (clone-watch.ts) into `vrngd run`: decides once, at
// start, whether it runs here (kernel/vmgenid.ts probeVmgenid), says so in one
// line, and builds its parts from the daemon's (random device, -r device, -e,
// the shared repeat memory). Called from cli/commands/run.ts.
import * as fs from 'fs';
import { ConfigError, parseDurationMs } from '../core/config';
import { BlockGate } from '../core/gate';
import type { RepeatCheck } from '../core/repeat-memory';
import type { RandomDevice } from '../kernel/random-device';
import { DevMemIdReader, probeVmgenid, VmgenidVerdict } from '../kernel/vmgenid';
import { loadBinding } from '../native/binding';
import { CloneLogger, CloneWatch, rekey } from './clone-watch';

export const DEFAULT_CLONE_WATCH = '1s';

/** --clone-watch: an interval (100ms..1h) or 'off' → ms or null. Throws ConfigError (one line) otherwise. */
export function parseCloneWatch(value: string | undefined): number | null {
  const v = (value ?? DEFAULT_CLONE_WATCH).trim();
  if (v === 'off') return null;
  const ms = parseDurationMs('--clone-watch', v);
  if (ms < 100) throw new ConfigError(`--clone-watch: ${v} is out of range (100ms..1h, or 'off')`);
  return ms;
}

export interface CloneSetup {
  intervalMs: number | null;
  device: RandomDevice | null;
  rngDevice: string;
  entropyPerByte: number;
  hasGetrandom: boolean;
  repeats: RepeatCheck;
  logger: CloneLogger;
  onEvent: (clonesDetected: number) => void;
  probe?: () => VmgenidVerdict;
}

/** Up to `bytes` from `file` (opened per call), read on the threadpool (callback fs: Node 10 has no stable fs.promises). */
function readFrom(file: string, bytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (err, fd) => {
      if (err) return reject(err);
      const out = Buffer.alloc(bytes);
      const done = (e: Error | null, n: number): void => fs.close(fd, () => (e ? reject(e) : resolve(out.subarray(0, n))));
      const step = (off: number): void => {
        if (off >= bytes) return done(null, off);
        fs.read(fd, out, off, bytes - off, null, (e, n) => (e ? done(e, off) : n <= 0 ? done(null, off) : step(off + n)));
      };
      step(0);
    });
  });
}

/** The watcher when it applies here (started), else null; one log line either way. */
export function startCloneWatch(s: CloneSetup): CloneWatch | null {
  if (s.intervalMs === null || s.device === null) return null;
  const v = (s.probe ?? probeVmgenid)();
  if (v.kind === 'absent') return null; // hosts and most guests: nothing to say, nothing runs
  if (v.kind !== 'watch') {
    (v.kind === 'kernel' ? s.logger.info : s.logger.warning).call(s.logger, `clone watch: ${v.reason}`);
    return null;
  }
  let reader: DevMemIdReader;
  try {
    reader = new DevMemIdReader(v.address, loadBinding());
  } catch (e: unknown) {
    s.logger.warning(`clone watch: ${v.reason}, but it cannot be opened: ${e instanceof Error ? e.message : String(e)}; restored or cloned VMs are not detected`);
    return null;
  }
  const device = s.device;
  let urandomFd = -1;
  const watch = new CloneWatch({
    reader,
    intervalMs: s.intervalMs,
    logger: s.logger,
    onEvent: s.onEvent,
    rekey: () =>
      rekey({
        device,
        gate: new BlockGate({ repeats: s.repeats }),
        readFresh: (n) => readFrom(s.rngDevice, n),
        quality: s.entropyPerByte,
        hasGetrandom: s.hasGetrandom,
        writeUrandom: (data) => {
          if (urandomFd < 0) urandomFd = fs.openSync('/dev/urandom', 'r+');
          let off = 0;
          while (off < data.length) off += fs.writeSync(urandomFd, data, off, data.length - off);
        },
      }),
  });
  try {
    watch.start();
  } catch (e: unknown) {
    reader.close();
    s.logger.warning(`clone watch: ${v.reason}, but reading it failed: ${e instanceof Error ? e.message : String(e)}; restored or cloned VMs are not detected`);
    return null;
  }
  s.logger.notice(`clone watch: ${v.reason} every ${s.intervalMs} ms (one wakeup each); a restored or cloned VM is re-keyed from ${s.rngDevice}`);
  return watch;
}
