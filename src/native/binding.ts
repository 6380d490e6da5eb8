// The only file that loads the native addon (src/native/vrngd.c) and its typed
// interface. VRNGD_NATIVE_PATH points at the .node for distro and initramfs
// layouts; when nothing loads, the error lists every path that was tried.
import * as path from 'path';

export interface RndBinding {
  /** ioctl(RNDGETENTCNT): the input pool's entropy estimate in bits. */
  getEntropyCount(fd: number): number;
  /** ioctl(RNDADDENTROPY): mix data, credit entropyBits (0..8*length). Needs CAP_SYS_ADMIN. */
  addEntropy(fd: number, data: Uint8Array, entropyBits: number): void;
  /**
   * poll(2) on a worker thread; resolves revents (0 on timeout). timeoutMs 0..60000.
   * With wakeFd (the read end of makeWakePipe()), resolves constants.POLL_WOKEN as
   * soon as a byte is written to the pipe: a stop never waits for the timeout.
   */
  pollFd(fd: number, events: number, timeoutMs: number, wakeFd?: number): Promise<number>;
  /** A non-blocking close-on-exec pipe [readFd, writeFd]; the caller owns and closes both. */
  makeWakePipe(): [number, number];
  /** getrandom(GRND_NONBLOCK): true ready, false not yet, null no getrandom (ENOSYS). */
  crngReady(): boolean | null;
  /** ioctl(RNDRESEEDCRNG): true done, false unsupported (EINVAL before 4.17). */
  reseedCrng(fd: number): boolean;
  /** One unix datagram to a path or "@abstract" socket (sd_notify(3), syslog). */
  sendDatagram(socketPath: string, message: string): void;
  /** flock(fd, LOCK_EX|LOCK_NB): true when taken, false when another open file holds it. Released when the fd closes. */
  tryLockFd(fd: number): boolean;
  /** CPUID: whether RDRAND and RDSEED exist (always false off x86_64). */
  cpuRngSupport(): { rdrand: boolean; rdseed: boolean };
  /** Fills data from RDSEED or RDRAND; returns bytes filled (short if the CPU keeps failing). */
  readCpuRng(data: Uint8Array, useRdseed: boolean): number;
  /** mmap(2) of an open /dev/mem fd: `length` (1..64) bytes of physical memory at addr (the vmgenid ID). */
  readPhys?(fd: number, addr: number, length: number): Buffer;
  /**
   * The FIPS 140-2 tests of blocks 2,500-byte blocks of data (src/native/fips.c, bit-exact
   * with core/fips.ts): masks[k] = block k's failure mask. last32 and lastBit: the continuous-test
   * word and the last bit before block 0. stats (14 per block): ones, poker sum, runs[0..11].
   */
  fipsTestBlocks(data: Uint8Array, blocks: number, last32: number, lastBit: number, masks: Uint8Array, stats?: Int32Array): void;
  /** The same on libuv's thread pool (data and masks must not be touched until it settles); resolves the nanoseconds the tests took. */
  fipsTestBlocksAsync(data: Uint8Array, blocks: number, last32: number, lastBit: number, masks: Uint8Array): Promise<number>;
  /** repeat.c: a native RepeatMemory (core/repeat-memory.ts's algorithm) of blockBytes (16..65536) blocks. */
  repeatCreate(blockBytes: number): RepeatHandle;
  /** repeat.c: whether any 16 bytes of data[offset, offset+blockBytes) were seen before; remembers them. */
  repeatSeen(memory: RepeatHandle, data: Uint8Array, offset: number): boolean;
  /**
   * inject.c: RNDADDENTROPY in steps in one call (see the header of inject.c);
   * out[0] steps made, out[1] errno of a refused step (or minus that of a failed
   * RNDGETENTCNT), out[2+k] the count after step k with flags & 1. Returns the
   * failure as an Error with errno and syscall (not thrown), or undefined.
   */
  addEntropySteps(fd: number, data: Uint8Array, stepBytes: number, bitsFull: number, bitsLast: number, maxSteps: number, startBits: number, untilBits: number, flags: number, out: Int32Array): Error | undefined;
  readonly constants: {
    POLLIN: number;
    POLLOUT: number;
    POLLERR: number;
    POLLHUP: number;
    MAX_ADD_BYTES: number;
    MAX_POLL_MS: number;
    POLL_WOKEN: number;
  };
}

/** An opaque native repeat memory (a napi external). */
export type RepeatHandle = { readonly __repeatMemory: unique symbol };

/** Where the addon may be, in order: the override, a source checkout, an install, a bundle. */
export function candidatePaths(): string[] {
  const override = process.env.VRNGD_NATIVE_PATH;
  const roots = [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..'), __dirname];
  const found = roots.flatMap((root) => [
    path.join(root, 'build', 'Release', 'vrngd.node'),
    path.join(root, 'vrngd.node'),
  ]);
  return [...(override ? [override] : []), ...new Set(found)];
}

let cached: RndBinding | undefined;

export function loadBinding(): RndBinding {
  if (cached) return cached;
  const tried: string[] = [];
  for (const candidate of candidatePaths()) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      cached = require(candidate) as RndBinding;
      return cached;
    } catch (e: unknown) {
      const code = (e as { code?: string }).code;
      if (code !== 'MODULE_NOT_FOUND') throw e;
      tried.push(candidate);
    }
  }
  const err = new Error(`native addon vrngd.node not found (tried ${tried.join(', ')}); run npm install or set VRNGD_NATIVE_PATH`);
  (err as Error & { code: string }).code = 'ENOADDON';
  throw err;
}
