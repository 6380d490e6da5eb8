// vrngd(8) (docs/vrngd.8): renders with man -l and groff without a warning, and
// documents every command, every option the real program registers, every exit
// status in the shared EX table, the signals and the files.
import * as fs from 'fs';
import * as path from 'path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program';
import { ALL_EXIT_CODES, EX } from '../../src/cli/exit';
import { ROOT, skipReason, which } from '../helpers/env';
import { run } from './install-root';

const PAGE = path.join(ROOT, 'docs', 'vrngd.8');
const source = fs.readFileSync(PAGE, 'utf8');
/** The page's text with roff's escaped hyphens made plain. */
const plain = source.replace(/\\-/g, '-');

/** A flag as a whole word in a piece of the page (so -r is not found inside --rng-device). */
function documents(flag: string, text: string = plain): boolean {
  const escaped = flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[\\s"])${escaped}(?=[\\s",]|$)`, 'm').test(text);
}

/** The .SS subsection whose title starts with `title`, up to the next .SS or .SH. */
function subsection(title: string): string {
  const start = plain.indexOf(`.SS "${title}`);
  if (start < 0) return '';
  const rest = plain.slice(start + 1);
  const next = rest.search(/^\.S[SH] /m);
  return next < 0 ? rest : rest.slice(0, next);
}

function section(name: string): string {
  const start = plain.indexOf(`.SH ${name}`);
  expect(start, `section ${name}`).toBeGreaterThanOrEqual(0);
  const next = plain.indexOf('\n.SH ', start + 1);
  return plain.slice(start, next < 0 ? undefined : next);
}

describe('vrngd(8) renders', () => {
  const noMan = skipReason([[which('man') !== null && which('groff') !== null, 'man-db/groff-base not installed (scripts/dev/setup-deps.sh)']]);

  it.skipIf(noMan !== null)('with man -l, every section present', () => {
    const r = run('man', ['-P', 'cat', '-l', PAGE], { env: { ...process.env, MANWIDTH: '80', LC_ALL: 'C.UTF-8' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const heading of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'SIGNALS', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'SEE ALSO']) {
      expect(r.stdout).toMatch(new RegExp(`^${heading}$`, 'm'));
    }
    expect(r.stdout).toMatch(/^VRNGD\(8\)/);
  });

  it.skipIf(noMan !== null)('without a groff warning', () => {
    const r = run('groff', ['-man', '-Tutf8', '-ww', '-z', PAGE]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('vrngd(8) documents', () => {
  it('the five commands', () => {
    for (const name of ['run', 'seed', 'status', 'check', 'sources']) {
      expect(plain).toMatch(new RegExp(`^\\.SS "vrngd ${name}\\b`, 'm'));
    }
  });

  it('flags as whole words, per subsection', () => {
    expect(documents('--rng-device')).toBe(true);
    expect(documents('-r')).toBe(true);
    expect(documents('--rng')).toBe(false);
    expect(documents('-z')).toBe(false);
    expect(documents('--bytes', subsection('vrngd seed '))).toBe(true);
    expect(documents('--bytes', subsection('vrngd status '))).toBe(false);
  });

  it('every option of every command the program registers', async () => {
    const program = await buildProgram();
    const missing: string[] = [];
    // each flag must be in its own command's subsection, not just somewhere in the page
    const check = (cmd: Command, where: string, text: string): void => {
      // hidden options are internal (run's --rngd5-*: what -n 0|1, -d 0|1, -t N become);
      // commander 8 (the line that runs on Node 10) has options at run time but not in its typings
      for (const opt of (cmd as unknown as { options: Array<{ long?: string; short?: string; hidden?: boolean }> }).options.filter((o) => !o.hidden)) {
        for (const flag of [opt.long, opt.short]) {
          if (flag && !documents(flag, text)) missing.push(`${where} ${flag}`);
        }
      }
    };
    check(program, 'vrngd', subsection('Common options'));
    for (const cmd of program.commands) {
      const text = subsection(`vrngd ${cmd.name()} `);
      expect(text, `command ${cmd.name()}`).not.toBe('');
      check(cmd, cmd.name(), text);
    }
    expect(missing).toEqual([]);
  });

  it('every exit status in the shared table, and no other', () => {
    const exit = section('"EXIT STATUS"');
    for (const [name, code] of Object.entries(EX)) {
      expect(exit, `${name} = ${code}`).toMatch(new RegExp(`^\\.B ${code}$`, 'm'));
    }
    const listed = [...exit.matchAll(/^\.B (\d+)$/gm)].map((m) => Number(m[1]));
    expect(listed.sort((a, b) => a - b)).toEqual([...ALL_EXIT_CODES].sort((a, b) => a - b));
  });

  it("README.md's exit table lists the same statuses", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Exit statuses'));
    const listed = [...table.slice(0, table.indexOf('\n## ', 3) > 0 ? table.indexOf('\n## ', 3) : undefined).matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(listed.sort((a, b) => a - b)).toEqual([...ALL_EXIT_CODES].sort((a, b) => a - b));
  });

  it('the signals, the service files and the environment', () => {
    const signals = section('SIGNALS');
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1']) expect(signals).toContain(sig);
    const files = section('FILES');
    for (const f of ['/usr/sbin/vrngd', '/etc/sysconfig/vrngd', '/run/vrngd/state.json', 'vrngd.service', 'vrngd-seed.service', '/etc/rc.d/init.d/vrngd', '/usr/lib/dracut/modules.d/90vrngd/', '/dev/hwrng']) {
      expect(files).toContain(f);
    }
    const env = section('ENVIRONMENT');
    for (const v of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'VRNGD_ARGS', 'VRNGD_NODE_FLAGS']) expect(env).toContain(v);
  });
});
