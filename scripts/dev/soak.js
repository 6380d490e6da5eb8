#!/usr/bin/env node
// Soak: N blocks (default one million) through the real daemon path — source →
// SourceRunner → FIPS BlockGate (+ repeat check) → Daemon fill loop → RNDADDENTROPY
// in 64-byte steps — against an in-memory kernel that always wants entropy (a
// legacy pool drained infinitely fast), with heap and RSS sampled 100 times
// (after a forced GC when node runs with --expose-gc). Uses the compiled dist/
// (npm run build). Exits 1 when memory grows beyond the bounds or the accounting
// does not close; prints one JSON object with --json.
// Usage: node --expose-gc scripts/dev/soak.js [--blocks N] [--json]
'use strict';
const path = require('path');
const { randomBytes } = require('crypto');

const root = path.resolve(__dirname, '..', '..');
const dist = (m) => require(path.join(root, 'dist', m));
const { parseRunOptions } = dist('core/config');
const { BlockGate } = dist('core/gate');
const { buildDaemon } = dist('daemon/daemon');

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const BLOCKS = Number(arg('--blocks', '1000000'));
const JSON_OUT = args.includes('--json');
/** Bounds, after the first 10 % (warm-up: JIT, pools, the gate's windows). */
const MAX_HEAP_GROWTH_MB = Number(arg('--max-heap-growth-mb', '8'));
const MAX_RSS_GROWTH_MB = Number(arg('--max-rss-growth-mb', '32'));
if (!Number.isInteger(BLOCKS) || BLOCKS < 1000) {
  process.stderr.write('soak: --blocks must be a whole number >= 1000\n');
  process.exit(64);
}

const MB = 1024 * 1024;
const samples = [];
function sample(block) {
  if (global.gc) global.gc();
  const m = process.memoryUsage();
  samples.push({ block, heapUsedMB: m.heapUsed / MB, rssMB: m.rss / MB, externalMB: (m.external + (m.arrayBuffers || 0)) / MB });
}

let reads = 0;
let daemon = null;
let finish = null;
const finished = new Promise((resolve) => (finish = resolve));
const every = Math.floor(BLOCKS / 100);

// the source: fresh random bytes per read, as a device delivers them
const source = {
  name: 'hwrng',
  kind: 'hwrng',
  path: 'soak:random',
  quality: 8,
  open: async () => undefined,
  read: async (bytes) => {
    reads++;
    if (reads % every === 0) sample(reads);
    if (reads >= BLOCKS && daemon) {
      daemon.stop().then(finish);
      return new Uint8Array(0).subarray(0); // never used: the runner is stopped
    }
    return randomBytes(bytes);
  },
  close: () => undefined,
};

// the kernel: always below the watermark; counts what it is given
const kernel = {
  calls: 0,
  bytes: 0,
  bits: 0,
  entropyBits: () => 0,
  addEntropy(data, bits) {
    this.calls++;
    this.bytes += data.length;
    this.bits += bits;
  },
  write: () => undefined,
  poll: async () => 4,
  crngReady: () => null,
  reseedCrng: () => false,
  close: () => undefined,
};

const lines = { error: 0, warning: 0, notice: 0, info: 0, debug: 0 };
const logger = {
  error: () => void lines.error++,
  warning: () => void lines.warning++,
  notice: () => void lines.notice++,
  info: () => void lines.info++,
  debug: () => void lines.debug++,
  reopen: () => undefined,
  close: async () => undefined,
};
const notifier = { watchdogIntervalMs: null, ready: () => undefined, status: () => undefined, stopping: () => undefined, watchdog: () => undefined };

async function main() {
  const config = { ...parseRunOptions({ stats: 'off' }), stateFile: null };
  let stateBytes = 0;
  daemon = buildDaemon({
    config,
    device: kernel,
    kernel: { regime: 'legacy', poolsizeBits: 4096, writeWakeupThresholdBits: 4096, crngReady: null, kernelFeeder: false },
    sources: [{ source, gate: new BlockGate({ baselineBlock: true }), readsKernelHwrng: false }],
    logger,
    notifier,
    writeState: (st) => void (stateBytes = JSON.stringify(st).length),
  });
  const t0 = process.hrtime.bigint();
  sample(0);
  await daemon.start();
  await finished;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  sample(reads);
  const st = daemon.state();
  const s = st.sources[0];
  const warm = samples.filter((x) => x.block >= BLOCKS / 10);
  const first = warm[0];
  const last = samples[samples.length - 1];
  const max = (k) => Math.max(...warm.map((x) => x[k]));
  const result = {
    blocks: reads,
    seconds: +seconds.toFixed(2),
    blocksPerSecond: Math.round(reads / seconds),
    mibPerSecond: +((reads * 2500) / MB / seconds).toFixed(2),
    gc: Boolean(global.gc),
    heapUsedMB: { start: +samples[0].heapUsedMB.toFixed(1), afterWarmup: +first.heapUsedMB.toFixed(1), end: +last.heapUsedMB.toFixed(1), max: +max('heapUsedMB').toFixed(1) },
    rssMB: { start: +samples[0].rssMB.toFixed(1), afterWarmup: +first.rssMB.toFixed(1), end: +last.rssMB.toFixed(1), max: +max('rssMB').toFixed(1) },
    heapGrowthMB: +(max('heapUsedMB') - first.heapUsedMB).toFixed(2),
    rssGrowthMB: +(max('rssMB') - first.rssMB).toFixed(2),
    blocksPassed: s.blocksPassed,
    blocksFailed: s.blocksFailed,
    blocksRepeated: s.blocksRepeated,
    fipsFailures: st.fipsFailures,
    bitsCredited: st.bitsCredited,
    bitsAsked: st.bitsAsked,
    kernelBitsClaimed: kernel.bits,
    kernelCalls: kernel.calls,
    kernelBytes: kernel.bytes,
    stateFileBytes: stateBytes,
    logLines: lines,
    bounds: { maxHeapGrowthMB: MAX_HEAP_GROWTH_MB, maxRssGrowthMB: MAX_RSS_GROWTH_MB },
  };
  const problems = [];
  if (result.heapGrowthMB > MAX_HEAP_GROWTH_MB) problems.push(`heap grew ${result.heapGrowthMB} MB after warm-up (bound ${MAX_HEAP_GROWTH_MB})`);
  if (result.rssGrowthMB > MAX_RSS_GROWTH_MB) problems.push(`RSS grew ${result.rssGrowthMB} MB after warm-up (bound ${MAX_RSS_GROWTH_MB})`);
  if (st.bitsAsked !== kernel.bits) problems.push(`daemon says it asked for ${st.bitsAsked} bits, kernel was asked for ${kernel.bits}`);
  if (kernel.bits > s.blocksPassed * 2500 * 8) problems.push('more bits claimed than passing blocks carry');
  if (s.blocksPassed + s.blocksFailed < BLOCKS - 2) problems.push(`only ${s.blocksPassed + s.blocksFailed} blocks judged`);
  result.problems = problems;
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(
      `soak: ${result.blocks} blocks in ${result.seconds} s (${result.blocksPerSecond} blocks/s, ${result.mibPerSecond} MiB/s)\n` +
        `  heap used MB: start ${result.heapUsedMB.start}, after warm-up ${result.heapUsedMB.afterWarmup}, max ${result.heapUsedMB.max}, end ${result.heapUsedMB.end} (growth ${result.heapGrowthMB}, bound ${MAX_HEAP_GROWTH_MB})\n` +
        `  RSS MB: start ${result.rssMB.start}, after warm-up ${result.rssMB.afterWarmup}, max ${result.rssMB.max}, end ${result.rssMB.end} (growth ${result.rssGrowthMB}, bound ${MAX_RSS_GROWTH_MB})\n` +
        `  blocks passed ${s.blocksPassed}, failed ${s.blocksFailed} (${JSON.stringify(st.fipsFailures)}), bits credited ${st.bitsCredited} in ${kernel.calls} calls\n` +
        `  log lines ${JSON.stringify(lines)}${result.gc ? '' : '  (no --expose-gc: samples without a forced GC)'}\n` +
        (problems.length ? `  FAILED: ${problems.join('; ')}\n` : '  memory bounded, accounting closes\n'),
    );
  }
  process.exitCode = problems.length ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`soak: ${e && e.stack ? e.stack : String(e)}\n`);
  process.exitCode = 70;
});
