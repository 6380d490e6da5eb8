// Proof on booted kernels of the legacy eras (issue 11): upstream 3.10.108 (RHEL
// 7.0's base: no hwrng kernel thread, no getrandom, linear crediting) and 5.4.59
// (RHEL 7.1+ behaviour: the kernel's hwrng thread feeds, asymptotic crediting),
// from ../shared/guest-kernels or VRNGD_E2E_KERNELS, under QEMU TCG with a
// virtio-rng device. The guest (scripts/dev/e2e/legacy-guest.sh) is busybox-static
// with Debian 12's glibc, vrngd installed by scripts/install.sh --destdir and run
// through /usr/sbin/vrngd on Node 16.20.2, and Debian's rngd 5 beside it. Its /init
// (scripts/dev/e2e/legacy-init.sh) runs the cases and prints "E2E-" lines; the
// measuring is done in the guest by scripts/dev/e2e/legacy-probe.c (one process, no
// exec per sample: each exec costs the 3.10 pool 128-256 bits).
//
// One boot per kernel: 3.10 about 4.5 min under TCG (three 60 s drains, a 30 s
// bounded wait for the plain `vrngd seed`), 5.4 about 1 min.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CACHE, E2E, sh } from './scripts';
import { ROOT, skipReason, which } from '../helpers/env';

const KERNELS = process.env.VRNGD_E2E_KERNELS ?? path.resolve(ROOT, '..', 'shared', 'guest-kernels');
const K310 = path.join(KERNELS, 'bzImage-3.10.108');
const K54 = path.join(KERNELS, 'bzImage-5.4.59');
const LOGS = path.join(CACHE, 'legacy');

const isStatic = (file: string | null): boolean => {
  if (!file) return false;
  try {
    // a static ELF has no PT_INTERP, so no "/lib64/ld-linux" string in its first page
    return !fs.readFileSync(file).subarray(0, 4096).includes('ld-linux');
  } catch {
    return false;
  }
};

const skip = skipReason([
  [fs.existsSync(K310) || fs.existsSync(K54), `no legacy guest kernels in ${KERNELS} (set VRNGD_E2E_KERNELS to a directory with bzImage-3.10.108 and bzImage-5.4.59)`],
  [which('qemu-system-x86_64') !== null, 'qemu-system-x86_64 missing (bash scripts/dev/setup-deps.sh)'],
  [isStatic(which('busybox')), 'busybox-static missing (bash scripts/dev/setup-deps.sh)'],
  [which('rngd') !== null || fs.existsSync('/usr/sbin/rngd'), 'rngd missing (rng-tools5; bash scripts/dev/setup-deps.sh)'],
  [which('gcc') !== null && fs.existsSync('/usr/lib/x86_64-linux-gnu/libc.a'), 'gcc with a static libc missing (libc6-dev)'],
  [which('cpio') !== null, 'cpio missing'],
  [fs.existsSync(path.join(ROOT, 'build', 'Release', 'vrngd-preload.so')), 'build/Release/vrngd-preload.so missing (npm run build:native)'],
]);

/** Boots KERNEL with the guest image, runs CASES, returns the guest's "E2E-" lines. */
async function boot(kernel: string, image: string, name: string, cases: string[]): Promise<string[]> {
  const log = path.join(LOGS, `${name}.log`);
  fs.rmSync(log, { force: true });
  const t0 = Date.now();
  const status = await new Promise<number | null>((resolve) => {
    const child = spawn('nice', ['bash', path.join(E2E, 'legacy-boot.sh'), kernel, image, log, cases.join(',')], { cwd: ROOT, stdio: 'ignore' });
    child.on('close', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
  const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').replace(/\r/g, '') : '';
  process.stderr.write(`e2e ${name}: legacy-boot.sh exit ${String(status)} after ${((Date.now() - t0) / 1000).toFixed(0)} s, console log ${log}\n`);
  return text.split('\n').filter((l) => l.startsWith('E2E-'));
}

const num = (re: RegExp, line: string | undefined): number => Number(re.exec(line ?? '')?.[1] ?? NaN);
/** vrngd seed's line: credited = what RNDGETENTCNT showed the kernel gained, then what was asked. */
const SEED_LINE = /^vrngd seed: \w+: read \d+ bytes from \/dev\/hwrng, credited (\d+) bits \((\d+) asked\), entropy \d+ -> \d+ bits/;

interface Drain {
  feeder: string;
  wakeup: number;
  samples: number[];
  atOrAboveWakeup: number;
  maxBlockMs: number;
  blocksOver1s: number;
  bytes: number;
  elapsedMs: number;
}

function drainOf(lines: string[], tag: string, feeder: string): Drain | null {
  const mine = lines.filter((l) => l.startsWith(`E2E-OUT drain-${tag}: `)).map((l) => l.slice(`E2E-OUT drain-${tag}: `.length));
  const start = mine.find((l) => l.startsWith('E2E-DRAIN-START '));
  const end = mine.find((l) => l.startsWith('E2E-DRAIN '));
  if (!start || !end) return null;
  const wakeup = num(/write_wakeup_threshold=(\d+)/, start);
  const samples = mine.filter((l) => l.startsWith('E2E-SAMPLE ')).map((l) => Number(l.split(' ')[2]));
  return {
    feeder,
    wakeup,
    samples,
    atOrAboveWakeup: samples.filter((s) => s >= wakeup).length / Math.max(1, samples.length),
    maxBlockMs: num(/max_block_ms=(\d+)/, end),
    blocksOver1s: num(/blocks_over_1s=(\d+)/, end),
    bytes: num(/ bytes=(\d+)/, end),
    elapsedMs: num(/elapsed_ms=(\d+)/, end),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor(s.length / 2)] as number) : NaN;
};

function drainTable(kernel: string, rows: Drain[]): string {
  const head = `| ${kernel}: 64 B from /dev/random every 50 ms | samples | >= write_wakeup (${rows[0]?.wakeup}) | median entropy_avail | min | longest read block | reads blocked > 1 s | bytes read |`;
  const sep = '|---|---|---|---|---|---|---|---|';
  const body = rows.map(
    (r) =>
      `| ${r.feeder} | ${r.samples.length} | ${(100 * r.atOrAboveWakeup).toFixed(0)} % | ${median(r.samples)} | ${Math.min(...r.samples)} | ${r.maxBlockMs} ms | ${r.blocksOver1s} | ${r.bytes} (${((r.bytes / r.elapsedMs) * 1000).toFixed(0)} B/s) |`,
  );
  return [head, sep, ...body].join('\n');
}

interface SeedRun {
  line: string | undefined;
  exit: number;
  ms: number;
  availBefore: number;
  availAfter: number;
}

function seedOf(lines: string[], tag: string): SeedRun {
  const mine = lines.filter((l) => l.startsWith(`E2E-OUT ${tag}: `)).map((l) => l.slice(`E2E-OUT ${tag}: `.length));
  const run = mine.find((l) => l.startsWith('E2E-RUN '));
  return {
    line: mine.find((l) => l.startsWith('vrngd seed: ')),
    exit: num(/exit=(\d+)/, run),
    ms: num(/ms=(\d+)/, run),
    availBefore: num(/avail_before=(\d+)/, run),
    availAfter: num(/avail_after=(\d+)/, run),
  };
}

/** SIGTERM to exit, in ms, per state name; NaN when it timed out. */
function stopsOf(lines: string[]): Record<string, { ms: number; exit: number }> {
  const out: Record<string, { ms: number; exit: number }> = {};
  for (const l of lines) {
    const m = /^E2E-STOP (\S+) E2E-TERM pid=\d+ ms=(\S+)/.exec(l);
    if (m) out[m[1] as string] = { ms: Number(m[2]), exit: NaN };
    const e = /^E2E-DAEMON-EXIT (\S+) status=(\d+)/.exec(l);
    if (e && out[e[1] as string]) (out[e[1] as string] as { exit: number }).exit = Number(e[2]);
  }
  return out;
}

function jsonAfter(lines: string[], prefix: string): Record<string, unknown> | null {
  const l = lines.find((x) => x.startsWith(prefix));
  if (!l) return null;
  const text = l.slice(l.indexOf('{'));
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

let image = '';
/** Builds (or takes from the cache) the guest image once for both kernels. */
async function guestImage(): Promise<string> {
  fs.mkdirSync(LOGS, { recursive: true });
  if (!image) image = await sh(path.join(E2E, 'legacy-guest.sh'), []);
  return image;
}

describe.skipIf(skip !== null || !fs.existsSync(K310))('3.10.108 guest (RHEL 7.0 era): vrngd against no feeder and rngd 5', () => {
  let lines: string[] = [];
  const drains: Drain[] = [];

  beforeAll(async () => {
    const img = await guestImage();
    lines = await boot(K310, img, 'guest-3.10', ['seed-cold', 'seed-plain', 'seed-traced', 'drain-none', 'drain-rngd', 'drain-vrngd', 'stop']);
    for (const [tag, feeder] of [['none', 'no feeder'], ['rngd', 'rngd 5 (Debian rng-tools5)'], ['vrngd', 'vrngd run (Node 16.20.2)']] as const) {
      const d = drainOf(lines, tag, feeder);
      if (d) drains.push(d);
    }
    if (drains.length) process.stderr.write(`\ne2e 3.10 drain, side by side:\n${drainTable('3.10.108', drains)}\n\n`);
    const plain = seedOf(lines, 'seed-plain');
    process.stderr.write(`e2e 3.10 plain \`vrngd seed\` (no preload, pool zapped, shm 114 removed): exit ${plain.exit} after ${plain.ms} ms, entropy ${plain.availBefore} -> ${plain.availAfter}${plain.exit === 137 ? ' (killed at the 30 s bound: Node never reached its JavaScript)' : ''}\n`);
  });

  it('the guest is the 3.10 legacy era: poolsize 4096, write_wakeup 128, no hwrng thread, Node 16.20.2 under /usr/lib/vrngd', () => {
    const info = lines.find((l) => l.startsWith('E2E-INFO '));
    expect(info, 'the guest ran its /init').toBeDefined();
    expect(info).toMatch(/kernel=3\.10\.108 poolsize=4096 write_wakeup=128 read_wakeup=64 /);
    expect(info).toMatch(/rng_current=virtio current_quality=none hwrng_thread=no node=v16\.20\.2/);
    expect(lines).toContain('E2E-DONE');
  });

  it('cold boot: the installed `vrngd seed` (as the dracut hook and vrngd-seed.service run it) takes the pool from < 64 bits to >= the fill watermark and exits 0 within 5 s', () => {
    const s = seedOf(lines, 'seed-cold');
    process.stderr.write(`e2e 3.10 cold seed: ${s.line} | exit ${s.exit}, ${s.ms} ms wall, entropy_avail ${s.availBefore} -> ${s.availAfter}\n`);
    // the first Node process of the boot, with OpenSSL's SysV shm flag (key 114) absent
    expect(lines.find((l) => l.startsWith('E2E-IPCRM key=114'))).toBe('E2E-IPCRM key=114 present=no');
    expect(s.line).toMatch(SEED_LINE);
    // credited = what RNDGETENTCNT rose by, asked beside it; linear 3.10 clamps at the pool's 4096
    const credited = num(SEED_LINE, s.line);
    expect(credited).toBeGreaterThanOrEqual(num(/-> (\d+) bits/, s.line) - num(/entropy (\d+) ->/, s.line));
    expect(credited).toBeLessThanOrEqual(4096);
    expect(Number(SEED_LINE.exec(s.line ?? '')?.[2])).toBeGreaterThanOrEqual(credited);
    expect(s.exit).toBe(0);
    expect(s.availBefore).toBeLessThan(64);
    expect(num(/entropy (\d+) ->/, s.line)).toBeLessThan(64);
    // rngd's fill watermark, 3/4 of poolsize, measured by the probe after vrngd exited
    expect(s.availAfter).toBeGreaterThanOrEqual(3072);
    expect(num(/-> (\d+) bits/, s.line)).toBeGreaterThanOrEqual(3072);
    expect(s.ms).toBeLessThanOrEqual(5000);
  });

  it('the seed step writes the checked bytes to /dev/urandom and credits them with RNDADDENTROPY (strace -f in the guest)', (ctx) => {
    if (lines.includes('E2E-TRACE none')) {
      process.stderr.write('skip: no strace on the host, so none in the guest (bash scripts/dev/setup-deps.sh)\n');
      ctx.skip();
    }
    const s = seedOf(lines, 'seed-traced');
    expect(s.exit).toBe(0);
    const trace = lines.filter((l) => l.startsWith('E2E-OUT trace: ')).map((l) => l.slice('E2E-OUT trace: '.length));
    const opens = trace.map((l) => /^(\d+)\s+open(?:at)?\((?:AT_FDCWD, )?"\/dev\/urandom", O_[A-Z|_]*(?:WRONLY|RDWR)[A-Z|_]*\) = (\d+)/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
    expect(opens.length, '/dev/urandom opened for writing').toBeGreaterThan(0);
    const written = opens.flatMap(([, pid, fd]) => trace.map((l) => new RegExp(`^${pid}\\s+write\\(${fd}, .*\\) = (\\d+)$`).exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])));
    const credited = trace.map((l) => /RNDADDENTROPY, \{entropy_count=(\d+), buf_size=(\d+)/.exec(l)).filter((m): m is RegExpExecArray => m !== null && Number(m[1]) > 0);
    process.stderr.write(`e2e 3.10 traced seed (${s.ms} ms under strace): ${written.reduce((a, b) => a + b, 0)} bytes written to /dev/urandom in ${written.length} write(2)s, ${credited.length} RNDADDENTROPY calls with credit\n`);
    expect(written.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2500);
    expect(credited.length).toBeGreaterThan(0);
  });

  it('drain: with `vrngd run`, >= 95 % of the 1 s samples are at or above write_wakeup_threshold and no read of /dev/random blocks > 1 s', () => {
    const v = drains.find((d) => d.feeder.startsWith('vrngd'));
    expect(v, 'the vrngd drain ran').toBeDefined();
    const d = v as Drain;
    // vrngd raises write_wakeup_threshold to its fill watermark while it runs (as rngd 5 does),
    // so the drain started with 3072 in force; judge against the kernel's own 128 as well
    expect([128, 3072]).toContain(d.wakeup);
    expect(d.samples.length).toBeGreaterThanOrEqual(58);
    expect(d.samples.filter((x) => x >= 128).length / d.samples.length).toBeGreaterThanOrEqual(0.95);
    expect(d.maxBlockMs).toBeLessThanOrEqual(1000);
    expect(d.blocksOver1s).toBe(0);
    // the reader really took about 1 KiB/s for the whole minute
    expect(d.bytes / (d.elapsedMs / 1000)).toBeGreaterThan(1000);
  });

  it('drain: with no feeder the pool sits at ~0 and the reader blocks', () => {
    const n = drains.find((d) => d.feeder === 'no feeder');
    expect(n, 'the no-feeder drain ran').toBeDefined();
    const d = n as Drain;
    expect(d.samples.length).toBeGreaterThanOrEqual(58);
    expect(median(d.samples)).toBeLessThan(64);
    expect(d.atOrAboveWakeup).toBeLessThan(0.5);
    expect(d.maxBlockMs).toBeGreaterThan(1000);
  });

  it('drain: rngd 5 was measured the same way (reported side by side)', () => {
    const r = drains.find((d) => d.feeder.startsWith('rngd'));
    expect(r, 'the rngd drain ran').toBeDefined();
    expect((r as Drain).samples.length).toBeGreaterThanOrEqual(58);
    expect(lines.filter((l) => l.startsWith('E2E-OUT rngd-log: ')).join('\n')).not.toMatch(/No such file|not found|error while loading/);
  });

  it('accounting (3.10, linear): the state file and `vrngd status` carry bits asked and what RNDGETENTCNT showed gained, equal but for reads in between', () => {
    const state = jsonAfter(lines, 'E2E-STATE drain-vrngd ');
    expect(state, 'the daemon wrote its state file').not.toBeNull();
    const s = state as { bitsAsked: number; bitsCredited: number; injections: number };
    process.stderr.write(`e2e 3.10 accounting: state ${JSON.stringify({ bitsAsked: s.bitsAsked, bitsCredited: s.bitsCredited, injections: s.injections })}\n`);
    expect(s.injections).toBeGreaterThan(0);
    expect(typeof s.bitsAsked, 'state file: bitsAsked (what vrngd asked the kernel to credit)').toBe('number');
    expect(typeof s.bitsCredited, 'state file: bitsCredited (what RNDGETENTCNT showed the kernel gained)').toBe('number');
    expect(s.bitsAsked).toBeGreaterThan(0);
    expect(s.bitsCredited).toBeLessThanOrEqual(s.bitsAsked);
    // linear crediting: the kernel gains what was asked; a concurrent 64-byte read
    // between the before/after RNDGETENTCNT can take some of it
    expect(s.bitsCredited / s.bitsAsked).toBeGreaterThan(0.9);
    const statusLine = lines.find((l) => l.startsWith('E2E-STATUS drain-vrngd '));
    expect(statusLine).toMatch(/exit=0 /);
    const st = jsonAfter(lines, 'E2E-STATUS drain-vrngd ') as { daemon?: { running?: boolean; bitsAsked?: number; bitsCredited?: number } } | null;
    expect(st?.daemon?.running).toBe(true);
    const asked = st?.daemon?.bitsAsked ?? NaN;
    const credited = st?.daemon?.bitsCredited ?? NaN;
    expect(asked).toBeGreaterThanOrEqual(s.bitsAsked);
    expect(credited).toBeGreaterThanOrEqual(s.bitsCredited);
    expect(credited / asked).toBeGreaterThan(0.9);
  });

  it('stop: SIGTERM ends the daemon within 1 s starting, idle, feeding under a reader, and with its source read blocked', () => {
    const stops = stopsOf(lines);
    process.stderr.write(`e2e 3.10 SIGTERM to exit: ${JSON.stringify(stops)}\n`);
    for (const state of ['starting', 'idle', 'feeding', 'blocked', 'drain-vrngd-feeding']) {
      expect(stops[state], `stopped while ${state}`).toBeDefined();
      expect(stops[state]?.ms, `SIGTERM to exit while ${state}, ms`).toBeLessThanOrEqual(1000);
    }
    // before its handlers exist Node dies of the signal (143); after, vrngd exits 0
    for (const state of ['idle', 'feeding', 'blocked', 'drain-vrngd-feeding']) expect(stops[state]?.exit, state).toBe(0);
    expect(stops.starting?.exit === 0 || stops.starting?.exit === 143).toBe(true);
    // the blocked case really had the FIFO open in vrngd's reader, and left no reader behind
    expect(num(/STOP-STATE blocked readers=(\d+)/, lines.find((l) => l.startsWith('E2E-STOP-STATE blocked')))).toBeGreaterThanOrEqual(2);
    expect(num(/STOP-AFTER blocked readers=(\d+)/, lines.find((l) => l.startsWith('E2E-STOP-AFTER blocked')))).toBe(1);
  });
});

describe.skipIf(skip !== null || !fs.existsSync(K54))('5.4.59 guest (assisted era): the kernel thread feeds, vrngd stays out of its way', () => {
  let lines: string[] = [];

  beforeAll(async () => {
    const img = await guestImage();
    lines = await boot(K54, img, 'guest-5.4', ['assisted']);
  });

  it('the guest is the 5.4 assisted era: write_wakeup 896, the hwrng thread runs at quality 1000', () => {
    const info = lines.find((l) => l.startsWith('E2E-INFO '));
    expect(info, 'the guest ran its /init').toBeDefined();
    expect(info).toMatch(/kernel=5\.4\.59 poolsize=4096 write_wakeup=896 /);
    expect(info).toMatch(/current_quality=1000 hwrng_thread=yes node=v16\.20\.2/);
    expect(lines).toContain('E2E-DONE');
  });

  it('while the kernel thread feeds, the daemon stays idle: regime assisted, no injections', () => {
    const s = jsonAfter(lines, 'E2E-STATE assisted-idle ') as Record<string, unknown> | null;
    expect(s, 'state file').not.toBeNull();
    process.stderr.write(`e2e 5.4 idle: regime ${String(s?.regime)}, mode "${String(s?.mode)}", injections ${String(s?.injections)}\n`);
    expect(s?.regime).toBe('assisted');
    expect(s?.injections).toBe(0);
    const st = jsonAfter(lines, 'E2E-STATUS assisted-idle ') as { kernel?: { regime?: string } } | null;
    expect(st?.kernel?.regime).toBe('assisted');
  });

  it('with the thread at quality 0 a (re)started daemon says legacy and feeds, and its accounting shows the asymptotic credit', () => {
    expect(lines).toContain('E2E-QUALITY 0');
    // the daemon already running when quality dropped: it probes at start only (reported, not asserted)
    const running = jsonAfter(lines, 'E2E-STATE quality0-running ') as Record<string, unknown> | null;
    const rd = drainOf(lines, 'quality0-running', 'running daemon');
    process.stderr.write(`e2e 5.4 quality 0, daemon started before: regime ${String(running?.regime)}, injections ${String(running?.injections)}, reader's longest block ${rd?.maxBlockMs} ms over ${rd?.samples.length} s\n`);
    const st0 = jsonAfter(lines, 'E2E-STATUS quality0-running ') as { kernel?: { regime?: string } } | null;
    expect(st0?.kernel?.regime, 'vrngd status sees the kernel thread no longer credits').toBe('legacy');
    const s = jsonAfter(lines, 'E2E-STATE quality0 ') as Record<string, number | string> | null;
    expect(s, 'state file').not.toBeNull();
    const d = drainOf(lines, 'quality0', 'vrngd');
    process.stderr.write(`e2e 5.4 quality 0, daemon restarted: regime ${String(s?.regime)}, injections ${String(s?.injections)}, bitsAsked ${String(s?.bitsAsked)}, bitsCredited ${String(s?.bitsCredited)}; reader's longest block ${d?.maxBlockMs} ms\n`);
    expect(s?.regime).toBe('legacy');
    expect(s?.injections as number).toBeGreaterThan(0);
    // the reader got its bytes (the longest block, printed above, includes the daemon's start-up on an empty pool)
    expect(d?.bytes).toBeGreaterThan(0);
    expect(typeof s?.bitsAsked, 'state file: bitsAsked').toBe('number');
    expect(typeof s?.bitsCredited, 'state file: bitsCredited').toBe('number');
    // asymptotic: 5.4 credits 3/4 of the request scaled by the empty part of the pool
    expect(s?.bitsCredited as number).toBeGreaterThan(0);
    expect((s?.bitsCredited as number) / (s?.bitsAsked as number)).toBeLessThan(0.8);
    const st = jsonAfter(lines, 'E2E-STATUS quality0 ') as { daemon?: { bitsAsked?: number; bitsCredited?: number } } | null;
    const asked = st?.daemon?.bitsAsked ?? NaN;
    const credited = st?.daemon?.bitsCredited ?? NaN;
    expect(asked).toBeGreaterThanOrEqual(s?.bitsAsked as number);
    expect(credited).toBeGreaterThanOrEqual(s?.bitsCredited as number);
    expect(credited / asked).toBeLessThan(0.8);
  });

  it('with --compete the daemon feeds beside the kernel thread', () => {
    const s = jsonAfter(lines, 'E2E-STATE compete ') as Record<string, unknown> | null;
    expect(s, 'state file').not.toBeNull();
    process.stderr.write(`e2e 5.4 --compete: regime ${String(s?.regime)}, mode "${String(s?.mode)}", injections ${String(s?.injections)}\n`);
    expect(s?.injections as number).toBeGreaterThan(0);
  });

  it('`vrngd seed` credits and says what the kernel gained', () => {
    const s = seedOf(lines, 'seed-assisted');
    process.stderr.write(`e2e 5.4 seed: ${s.line} | exit ${s.exit}, ${s.ms} ms wall\n`);
    expect(s.exit).toBe(0);
    expect(s.line).toMatch(SEED_LINE);
    // what the kernel gained (RNDGETENTCNT), and what was asked: asymptotic, so less
    const credited = num(SEED_LINE, s.line);
    const asked = Number(SEED_LINE.exec(s.line ?? '')?.[2]);
    expect(credited).toBeGreaterThan(0);
    expect(credited).toBeLessThan(asked);
    // from a pool zapped to 0 in the guest: what RNDGETENTCNT showed before and after
    expect(num(/E2E-ZAP avail=(\d+)/, lines.find((l) => l.startsWith('E2E-ZAP ')))).toBeLessThan(896);
    expect(num(/-> (\d+) bits/, s.line)).toBeGreaterThan(num(/entropy (\d+) ->/, s.line));
  });

  it('stop: SIGTERM ends the daemon within 1 s idle beside the kernel thread, feeding at quality 0 and competing', () => {
    const stops = stopsOf(lines);
    process.stderr.write(`e2e 5.4 SIGTERM to exit: ${JSON.stringify(stops)}\n`);
    for (const state of ['assisted-idle', 'quality0', 'compete']) {
      expect(stops[state]?.ms, state).toBeLessThanOrEqual(1000);
      expect(stops[state]?.exit, state).toBe(0);
    }
  });
});
