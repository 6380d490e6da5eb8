// Nothing credited twice, with real sources through the real daemon loop (real
// timers) and a simulated 3.10 kernel (linear credit, so asked = credited) whose
// pool a reader keeps draining: the daemon always wants more. For each source the
// bits asked stay within distinct passing blocks × 20,000, and every injected
// block is distinct.
//   - a regular file with retries (its tail fails FIPS) and SIGHUP reloads;
//   - FIFO loops of 2 and of 50 blocks (`while :; do cat loop.bin; done`);
//   - a replaying device through the hwrng path (a loop block device: every
//     reader child opens it at offset 0 and reads the same bytes again).
// `vrngd seed` at a file's end is in test/seed/seed-replay.test.ts.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunOptions } from '../../src/core/config';
import { daemonCreditPolicy, gateFor } from '../../src/core/credit-policy';
import { RepeatMemory } from '../../src/core/repeat-memory';
import { buildDaemon, Daemon } from '../../src/daemon/daemon';
import type { RandomDevice } from '../../src/kernel/random-device';
import { createSource } from '../../src/sources/open-source';
import { MemoryLogger, RecordingNotifier } from '../fakes/fake-logger';
import { isRoot, skipReason } from '../helpers/env';
import { SimKernel } from '../sim/sim-kernel';

const BLOCK = 2500;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-replay-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The sim kernel, remembering every byte it was given. */
class RecordingKernel extends SimKernel {
  readonly mixed: Buffer[] = [];
  override addEntropy(data: Uint8Array, bits: number): void {
    super.addEntropy(data, bits);
    this.mixed.push(Buffer.from(data));
  }
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`not in ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function daemonOn(sourcePath: string, kind: 'pipe' | 'hwrng'): { daemon: Daemon; sim: RecordingKernel; logger: MemoryLogger } {
  const sim = new RecordingKernel({ era: 'v3.10', entropyBits: 0 });
  const logger = new MemoryLogger();
  const raw = kind === 'pipe' ? { exclude: ['hwrng'], pipe: [sourcePath] } : { rngDevice: sourcePath };
  const config = { ...parseRunOptions(raw), stateFile: null };
  const daemon = buildDaemon({
    config,
    device: sim as RandomDevice,
    kernel: sim.kernelView(false),
    sources: [{ source: createSource({ kind, path: sourcePath }), gate: gateFor(daemonCreditPolicy(config), new RepeatMemory()), readsKernelHwrng: false }],
    logger,
    notifier: new RecordingNotifier(),
    health: { disableAfterFailures: 3, retryInitialMs: 30, retryMaxMs: 60 },
  });
  sim.startReader(1e6); // drains as fast as the daemon fills: it always wants more
  return { daemon, sim, logger };
}

/** The bound, and that no 2,500-byte block reached the kernel twice. */
function expectNothingTwice(d: { daemon: Daemon; sim: RecordingKernel }): number {
  const st = d.daemon.state();
  const passed = st.sources[0]!.blocksPassed;
  expect(d.sim.claimedBits).toBeLessThanOrEqual(passed * BLOCK * 8);
  expect(d.daemon.totals.bitsAsked).toBe(d.sim.claimedBits);
  expect(d.daemon.totals.bitsCredited).toBeLessThanOrEqual(d.daemon.totals.bitsAsked);
  const all = Buffer.concat(d.sim.mixed);
  const seen = new Set<string>();
  for (let at = 0; at + BLOCK <= all.length; at += BLOCK) {
    const key = all.subarray(at, at + BLOCK).toString('hex');
    expect(seen.has(key)).toBe(false);
    seen.add(key);
  }
  return passed;
}

describe('nothing credited twice through the daemon', () => {
  it('a regular file whose tail fails FIPS, with retries and three SIGHUP reloads: read once, each block credited at most once', async () => {
    const file = path.join(dir, 'capture.bin');
    const good = randomBytes(4 + 10 * BLOCK);
    fs.writeFileSync(file, Buffer.concat([good, Buffer.alloc(12 * BLOCK)]));
    const d = daemonOn(file, 'pipe');
    await d.daemon.start();
    await until(() => d.daemon.state().sources[0]!.blocksFailed >= 3, 5000, 'the zero tail fails');
    for (let i = 0; i < 3; i++) {
      d.daemon.reload();
      await new Promise((r) => setTimeout(r, 150));
    }
    await until(() => d.logger.visible(/source exhausted/).length > 0, 15000, `the end of the file is reached: ${d.logger.lines.filter((l) => !l.message.startsWith("asked")).map((l) => l.message).join(" | ")}`);
    await new Promise((r) => setTimeout(r, 300)); // retries and reloads had their chance to replay
    d.daemon.reload();
    await new Promise((r) => setTimeout(r, 200));
    const passed = expectNothingTwice(d);
    expect(passed).toBe(9); // 10 good blocks, the first a baseline
    expect(d.sim.claimedBits).toBe(9 * BLOCK * 8);
    expect(d.logger.visible(/source exhausted/)).toHaveLength(1); // said once
    await d.daemon.stop();
  });

  it.each([2, 50])('a FIFO fed a loop of %i blocks forever: the loop is credited once at most', async (loopBlocks) => {
    const fifo = path.join(dir, `loop${loopBlocks}`);
    const loopFile = path.join(dir, `loop${loopBlocks}.bin`);
    fs.writeFileSync(loopFile, randomBytes(loopBlocks * BLOCK));
    execFileSync('mkfifo', [fifo]);
    const d = daemonOn(fifo, 'pipe');
    await d.daemon.start();
    const writer = spawn('sh', ['-c', `while :; do cat '${loopFile}'; done > '${fifo}'`], { stdio: 'ignore', detached: true });
    children.push(writer);
    await until(() => d.daemon.state().sources[0]!.bytesRead > Math.max(4, 160 / loopBlocks) * loopBlocks * BLOCK, 20000, 'the loop goes round');
    const st = d.daemon.state().sources[0]!;
    const passed = expectNothingTwice(d);
    expect(passed).toBeLessThanOrEqual(loopBlocks);
    expect(st.blocksRepeated).toBeGreaterThan(st.blocksPassed);
    await d.daemon.stop();
    process.kill(-(writer.pid as number), 'SIGKILL');
  }, 30_000);

  const noLoop = skipReason([
    [isRoot, 'not root (losetup)'],
    [fs.existsSync('/dev/loop-control'), 'no /dev/loop-control'],
  ]);
  it.skipIf(noLoop !== null)('a replaying device through the hwrng path (a loop device reread from offset 0 by every reader child): credited once at most', async () => {
    const backing = path.join(dir, 'device.bin');
    fs.writeFileSync(backing, randomBytes(64 * 1024));
    const r = spawnSync('losetup', ['--find', '--show', '--read-only', backing], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`losetup: ${r.stderr}`);
    const loop = r.stdout.trim();
    try {
      const d = daemonOn(loop, 'hwrng');
      await d.daemon.start();
      await until(() => d.daemon.state().sources[0]!.bytesRead > 30 * BLOCK, 20000, 'the device is read again and again');
      const passed = expectNothingTwice(d);
      expect(passed).toBeLessThanOrEqual(1);
      await d.daemon.stop();
    } finally {
      spawnSync('losetup', ['-d', loop]);
    }
  }, 30_000);
});
