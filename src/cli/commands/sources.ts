// `vrngd sources` (and rngd's -l): lists the entropy sources with availability,
// quality and what the daemon would do with each. Nothing is read from a device:
// availability is open(2)+close(2) for devices and CPUID for rdrand. Exit status
// is honest (rngd -l always exits 1): 0 when at least one source is usable, 69
// when none is.
import { Command } from 'commander';
import { EX, usageError } from '../exit';
import { CliIo } from '../io';
import { ProgramDeps } from '../program';
import { errorCode } from '../../kernel/errors';
import { kernelViewOf, sameCharDevice } from '../../kernel/kernel-view';
import { probeKernel } from '../../kernel/probe';
import { standbyReason } from '../../core/policy';
import { createSource } from '../../sources/open-source';
import { EntropySource, SourceKind } from '../../sources/entropy-source';
import { RdrandSource } from '../../sources/rdrand-source';

export interface SourceListing {
  name: string;
  kind: SourceKind;
  path: string;
  available: boolean;
  /** ok when it opened; absent otherwise, with the reason. */
  state: 'ok' | 'absent';
  reason: string | null;
  quality: number;
  /** Enabled in `vrngd run` by default. */
  defaultEnabled: boolean;
  /** Why `vrngd run` would not read it on this kernel (kernel's hwrng thread), or null. */
  standby: string | null;
}

export interface ListOptions {
  rngDevice: string;
  pipePath: string | null;
  json: boolean;
}

async function check(source: EntropySource): Promise<{ ok: boolean; reason: string | null }> {
  try {
    await source.open();
    source.close();
    return { ok: true, reason: null };
  } catch (e: unknown) {
    return { ok: false, reason: `${errorCode(e) ?? 'error'}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export async function collectSources(opts: Omit<ListOptions, 'json'>): Promise<SourceListing[]> {
  const probe = probeKernel({ hwrngDevice: '/dev/hwrng' });
  const kernel = kernelViewOf(probe);
  const out: SourceListing[] = [];
  const specs: Array<{ kind: SourceKind; path?: string; defaultEnabled: boolean }> = [
    { kind: 'hwrng', path: opts.rngDevice, defaultEnabled: true },
    { kind: 'rdrand', defaultEnabled: false },
  ];
  if (opts.pipePath) specs.push({ kind: 'pipe', path: opts.pipePath, defaultEnabled: true });
  for (const spec of specs) {
    let source: EntropySource;
    try {
      source = createSource(spec);
    } catch (e: unknown) {
      out.push({ name: spec.kind, kind: spec.kind, path: spec.path ?? '', available: false, state: 'absent', reason: e instanceof Error ? e.message : String(e), quality: 0, defaultEnabled: spec.defaultEnabled, standby: null });
      continue;
    }
    const { ok, reason } = await check(source);
    const hw = spec.kind === 'hwrng' && sameCharDevice(opts.rngDevice, '/dev/hwrng');
    out.push({
      name: source.name,
      kind: source.kind,
      path: source.path,
      available: ok,
      state: ok ? 'ok' : 'absent',
      reason: ok ? null : reason,
      quality: source instanceof RdrandSource && !source.available ? 0 : source.quality,
      defaultEnabled: spec.defaultEnabled,
      standby: ok ? standbyReason(kernel, hw, false) : null,
    });
  }
  return out;
}

export async function listSources(opts: ListOptions, io: CliIo): Promise<number> {
  const list = await collectSources(opts);
  if (opts.json) io.stdout.write(`${JSON.stringify({ sources: list }, null, 2)}\n`);
  else {
    for (const s of list) {
      const what = s.available ? 'available' : `unavailable (${s.reason ?? 'unknown'})`;
      const role = s.standby ? `; run: standby — ${s.standby}` : s.defaultEnabled ? '' : '; run: off unless -n ' + s.name;
      io.stdout.write(`${s.name.padEnd(6)} ${s.path}: ${what}, quality ${s.quality} bits/byte${role}\n`);
    }
  }
  return list.some((s) => s.available) ? EX.OK : EX.UNAVAILABLE;
}

export function register(program: Command, deps: ProgramDeps): void {
  program
    .command('sources')
    .description('list entropy sources, their availability and quality (rngd -l, with a correct exit status)')
    .option('-r, --rng-device <path>', 'hardware RNG device for the hwrng source', '/dev/hwrng')
    .option('--pipe <path>', 'also check a pipe source at this path', (v: string, prev: string[] = []) => [...prev, v])
    .option('--json', 'machine-readable output')
    .action(async (opts: { rngDevice: string; pipe?: string[]; json?: boolean }) => {
      // as for run: an empty path or a second, different pipe is an error, never dropped
      const pipes = [...new Set(opts.pipe ?? [])];
      if (pipes.some((p) => p.trim() === '')) throw usageError('sources: --pipe: empty path');
      if (pipes.length > 1) throw usageError(`sources: --pipe ${pipes[1]} conflicts with --pipe ${pipes[0]}: vrngd reads one pipe source`);
      process.exitCode = await listSources({ rngDevice: opts.rngDevice, pipePath: pipes[0] ?? null, json: opts.json ?? false }, deps.io);
    });
}
