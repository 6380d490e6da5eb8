// The daemon with a real FIFO pipe source (real timers): a writer that comes and
// goes is followed, its FIPS-passing bytes are credited, and stop() never waits
// for a writer.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseRunOptions } from '../../src/core/config';
import { BlockGate } from '../../src/core/gate';
import { buildDaemon } from '../../src/daemon/daemon';
import { createSource } from '../../src/sources/open-source';
import { MemoryLogger, RecordingNotifier } from '../fakes/fake-logger';
import { SimKernel } from '../sim/sim-kernel';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-pipe-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes to the FIFO from a child: opening a FIFO for writing waits for a reader, and must not block this process. */
function writer(data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('dd', [`of=${FIFO()}`, 'status=none'], { stdio: ['pipe', 'ignore', 'ignore'] });
    c.on('error', reject);
    c.on('exit', () => resolve());
    c.stdin.end(data);
  });
}
let fifoPath = '';
const FIFO = (): string => fifoPath;

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met in time: ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('pipe source through the daemon', () => {
  it('follows a writer that comes and goes, credits only passing blocks, and stops at once with no writer', async () => {
    const fifo = path.join(dir, 'feed');
    execFileSync('mkfifo', [fifo]);
    fifoPath = fifo;
    const sim = new SimKernel({ era: 'v3.10', entropyBits: 0 });
    const logger = new MemoryLogger();
    const config = { ...parseRunOptions({ exclude: ['hwrng'], pipe: [fifo] }), stateFile: null };
    const daemon = buildDaemon({
      config,
      device: sim,
      kernel: sim.kernelView(false),
      sources: [{ source: createSource({ kind: 'pipe', path: fifo }), gate: new BlockGate({ baselineBlock: true }), readsKernelHwrng: false }],
      logger,
      notifier: new RecordingNotifier(),
      health: { disableAfterFailures: 4, retryInitialMs: 50, retryMaxMs: 200 },
    });
    await daemon.start();
    // first writer: 4 + 3 blocks of random data (baseline + 2 credited) then closes
    const first = writer(randomBytes(4 + 3 * 2500));
    await until(() => sim.addCalls > 0);
    await until(() => daemon.state().sources[0]!.blocksPassed === 2);
    expect(sim.claimedBits).toBeGreaterThan(0);
    // a /dev/random reader drains the pool, the daemon wants more, finds EOF, reopens
    sim.startReader(100000);
    await until(() => logger.lines.some((l) => /end of data/.test(l.message)));
    // the second writer sends zeros: never credited
    await first;
    const second = writer(Buffer.alloc(3 * 2500));
    await until(() => daemon.state().sources[0]!.blocksFailed >= 2);
    sim.stopReader();
    await second;
    expect(daemon.state().sources[0]!.blocksPassed).toBe(2);
    expect(sim.claimedBits).toBeLessThanOrEqual(2 * 2500 * 8);
    expect(daemon.totals.bitsAsked).toBe(sim.claimedBits);
    // no writer now: stop is immediate
    const t0 = Date.now();
    await daemon.stop();
    await daemon.done();
    expect(Date.now() - t0).toBeLessThan(600);
  });
});
