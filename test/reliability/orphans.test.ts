// No reader is left behind: vrngd-reader (src/native/reader.c) dies with its
// parent however the parent ends. The silent device is a pty slave: a real
// character device whose read(2) blocks until someone types, so the reader sits in
// a pending read exactly as on a virtio-rng device the host stopped feeding.
// `run` and `seed`, each SIGKILLed and SIGTERMed while the read is pending; then
// `ps` must show no reader for that device. Needs root for `seed` (its privilege
// check is one RNDADDENTROPY of one byte with no credit); `run` writes to a file.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, skipReason, which } from '../helpers/env';

const noPty = skipReason([[which('python3') !== null, 'no python3 to hold a pty open']]);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-orphans-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A pty whose slave nobody writes to; resolves its /dev/pts path. */
function silentDevice(): Promise<{ path: string; holder: ChildProcess }> {
  const holder = spawn('python3', ['-c', 'import os,pty,sys,time\nm,s=pty.openpty()\nprint(os.ttyname(s),flush=True)\ntime.sleep(600)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(holder);
  return new Promise((resolve) => holder.stdout?.once('data', (b: Buffer) => resolve({ path: b.toString().trim(), holder })));
}

/** Pids of vrngd-reader processes reading this device, from ps. */
function readersOf(dev: string): Array<{ pid: number; ppid: number }> {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && /vrngd-reader /.test(m[3] as string) && (m[3] as string).includes(` ${dev} `))
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]) }));
}

/** The state letter of /proc/PID/stat, or 'gone'. */
function procState(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
  } catch {
    return 'gone';
  }
}

async function waitFor<T>(fn: () => T | null, what: string, timeoutMs = 15000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== null) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const env = { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '', VITEST: '' };

describe.skipIf(noPty !== null)('device readers die with their parent', () => {
  it.each([
    ['run', 'SIGKILL'],
    ['run', 'SIGTERM'],
    ['seed', 'SIGKILL'],
    ['seed', 'SIGTERM'],
  ] as const)('%s, %s while a read is pending on a silent device: no reader left (ps)', async (command, signal) => {
    if (command === 'seed' && !isRoot) {
      process.stderr.write('skip: not root: vrngd seed needs CAP_SYS_ADMIN\n');
      return;
    }
    const dev = await silentDevice();
    const out = path.join(tmp, `${command}-${signal}.out`);
    fs.writeFileSync(out, '');
    const args =
      command === 'run'
        ? ['run', '-f', '-r', dev.path, '-x', 'rdrand', '-o', out, '--state-file', 'off', '--stall-timeout', '60s']
        : ['seed', '-r', dev.path, '--timeout', '60'];
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    const readers = await waitFor(() => {
      const r = readersOf(dev.path);
      return r.length > 0 ? r : null;
    }, `a reader of ${dev.path}; stderr: ${err}`);
    expect(readers.map((r) => r.ppid)).toEqual([child.pid]);
    // the read is pending: the reader is in the kernel, not running
    await new Promise((r) => setTimeout(r, 300));
    expect(readersOf(dev.path)).toHaveLength(1);
    const t0 = Date.now();
    child.kill(signal);
    await exited;
    await waitFor(() => (readersOf(dev.path).length === 0 ? true : null), 'the reader to die', 3000);
    expect(Date.now() - t0).toBeLessThan(3000);
    // dead: gone, or a zombie its new parent has not reaped yet (this machine's reaper may be slow)
    for (const r of readers) expect(['gone', 'Z', 'X']).toContain(procState(r.pid));
    dev.holder.kill('SIGKILL');
  });

  it('the reader leads its own process group (a ^C to the terminal reaches vrngd, which decides)', async () => {
    const dev = await silentDevice();
    const out = path.join(tmp, 'pgrp.out');
    fs.writeFileSync(out, '');
    const child = spawn(process.execPath, [CLI, 'run', '-f', '-r', dev.path, '-x', 'rdrand', '-o', out, '--state-file', 'off'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
    children.push(child);
    const [reader] = await waitFor(() => {
      const r = readersOf(dev.path);
      return r.length > 0 ? r : null;
    }, 'a reader');
    const pgid = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(reader?.pid)], { encoding: 'utf8' }).trim());
    expect(pgid).toBe(reader?.pid);
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    child.kill('SIGTERM');
    await exited;
    dev.holder.kill('SIGKILL');
  });
});
