// A closed or full standard output in every command that prints: one line on
// stderr and exit 74 (EX_IOERR), never a stack trace or an unhandled 'error'
// event. The real binary in a shell pipeline (`| head -c0` closes the pipe at once)
// and redirected to /dev/full.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, isRoot } from '../helpers/env';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-stdout-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const data = path.join(tmp, 'f.bin');
{
  const fd = fs.openSync('/dev/urandom', 'r');
  const b = Buffer.alloc(25000);
  fs.readSync(fd, b, 0, b.length, null);
  fs.closeSync(fd);
  fs.writeFileSync(data, b);
}

const sh = (script: string): { status: number | null; stderr: string } => {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, JOURNAL_STREAM: '' }, timeout: 30000 });
  return { status: r.status, stderr: r.stderr };
};
const cmds: Array<[string, string]> = [
  ['check', `check ${data}`],
  ['status', 'status'],
  ['status --json', 'status --json'],
  ['sources', 'sources'],
  ['--help', '--help'],
  // seed reads /dev/urandom as its device here and mixes one block into the kernel (root only)
  ...(isRoot ? ([['seed', 'seed -r /dev/urandom --bytes 2500 --timeout 10']] as Array<[string, string]>) : []),
];

describe('closed or full stdout', () => {
  it.each(cmds)('%s | head -c0: one line, exit 74', (_name, args) => {
    const r = sh(`"${process.execPath}" "${CLI}" ${args} | head -c0; exit \${PIPESTATUS[0]}`);
    expect(r.status, r.stderr).toBe(74);
    expect(r.stderr).toMatch(/^vrngd: cannot write to standard output: .*EPIPE.*\n$/);
  });

  it.each(cmds)('%s >/dev/full: one line, exit 74', (_name, args) => {
    const r = sh(`"${process.execPath}" "${CLI}" ${args} >/dev/full`);
    expect(r.status, r.stderr).toBe(74);
    expect(r.stderr).toMatch(/^vrngd: cannot write to standard output: ENOSPC.*\n$/);
  });
});
