// The clone e2e's QEMU driver (test/e2e/clone.test.ts): one legacy guest under TCG
// with a vmgenid device (guid=auto), its serial console on a unix socket (the
// guest's /init reads commands from it and prints "E2E-" lines to it) and QMP on
// another. A VM is either booted or restored from a migration file (-incoming).
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

export interface VmOptions {
  kernel: string;
  initrd: string;
  /** Directory for the sockets and the console log. */
  dir: string;
  name: string;
  /** A migration file to restore from (QEMU -incoming "exec:cat FILE"). */
  incoming?: string;
  cases?: string;
  /** -icount shift=5,sleep=off: guest time from the instruction count, so a clone left alone runs exactly as its twin. */
  icount?: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function connect(sock: string, ms: number): Promise<net.Socket> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(sock, () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() > until) throw e;
      await sleep(50);
    }
  }
}

export class Vm {
  readonly lines: string[] = [];
  readonly log: string;
  private child: ChildProcess | null = null;
  private serial: net.Socket | null = null;
  private qmpSock: net.Socket | null = null;
  private qmpBuf = '';
  private qmpWaiters: Array<(v: Record<string, unknown>) => void> = [];
  private lineWaiters: Array<() => void> = [];
  private exited: Promise<number | null> = Promise.resolve(null);
  /** Date.now() when the VM began to run (boot, or the end of the incoming migration). */
  resumedAt = 0;

  constructor(private readonly o: VmOptions) {
    this.log = path.join(o.dir, `${o.name}.log`);
  }

  async start(): Promise<void> {
    const o = this.o;
    const ser = path.join(o.dir, `${o.name}.serial`);
    const qmp = path.join(o.dir, `${o.name}.qmp`);
    for (const f of [ser, qmp, this.log]) fs.rmSync(f, { force: true });
    const args = [
      '-n', '10', 'timeout', '--kill-after=5', '600',
      'qemu-system-x86_64', '-machine', 'pc,accel=tcg', '-m', '1536', '-smp', '1', '-no-reboot', '-nic', 'none',
      '-display', 'none', '-monitor', 'none',
      '-chardev', `socket,id=s0,path=${ser},server=on,wait=on`, '-serial', 'chardev:s0',
      '-qmp', `unix:${qmp},server=on,wait=off`,
      '-kernel', o.kernel, '-initrd', o.initrd,
      '-append', `console=ttyS0 panic=-1 loglevel=3 e2e.cases=${o.cases ?? 'clone'}`,
      '-object', 'rng-random,filename=/dev/urandom,id=rng0', '-device', 'virtio-rng-pci,rng=rng0',
      '-device', 'vmgenid,guid=auto',
    ];
    if (o.icount) args.push('-icount', 'shift=5,sleep=off');
    if (o.incoming) args.push('-incoming', `exec:cat ${o.incoming}`);
    const child = spawn('nice', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    this.exited = new Promise((resolve) => child.on('close', (code) => {
      if (err.trim()) fs.appendFileSync(this.log, `\n[qemu stderr] ${err}`);
      resolve(code);
    }));
    this.serial = await connect(ser, 10000);
    let partial = '';
    this.serial.on('data', (d: Buffer) => {
      const text = d.toString('latin1').replace(/\r/g, '');
      fs.appendFileSync(this.log, text);
      partial += text;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) {
        const i = l.indexOf('E2E-');
        if (i >= 0) this.lines.push(l.slice(i));
      }
      for (const w of this.lineWaiters.splice(0)) w();
    });
    this.qmpSock = await connect(qmp, 10000);
    this.qmpSock.on('data', (d: Buffer) => {
      this.qmpBuf += d.toString();
      let i: number;
      while ((i = this.qmpBuf.indexOf('\n')) >= 0) {
        const line = this.qmpBuf.slice(0, i);
        this.qmpBuf = this.qmpBuf.slice(i + 1);
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if ('return' in msg || 'error' in msg) this.qmpWaiters.shift()?.(msg);
      }
    });
    await this.qmp('qmp_capabilities');
    if (!o.incoming) this.resumedAt = Date.now();
  }

  qmp(execute: string, args?: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.qmpWaiters.push(resolve);
      this.qmpSock?.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
    });
  }

  /** Waits until a guest line matches re (searching from line `from`); returns it. */
  async waitFor(re: RegExp, ms: number, from = 0): Promise<string> {
    const until = Date.now() + ms;
    for (;;) {
      const hit = this.lines.slice(from).find((l) => re.test(l));
      if (hit) return hit;
      if (Date.now() > until) throw new Error(`${this.o.name}: no guest line matching ${String(re)} within ${ms} ms (console log ${this.log})`);
      await new Promise<void>((r) => {
        this.lineWaiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  /** Sends a command line to the guest's /init and waits for its acknowledgement. */
  async cmd(line: string, ms = 120000): Promise<void> {
    const from = this.lines.length;
    this.serial?.write(`${line}\n`);
    await this.waitFor(new RegExp(`^E2E-CLONE-ACK ${line}$`), ms, from);
  }

  /** Waits until QMP says the VM runs (after an incoming migration); sets resumedAt. */
  async waitRunning(ms: number): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      const r = (await this.qmp('query-status')) as { return?: { status?: string } };
      if (r.return?.status === 'running') {
        this.resumedAt = Date.now();
        return;
      }
      if (Date.now() > until) throw new Error(`${this.o.name}: not running after ${ms} ms (status ${r.return?.status})`);
      await sleep(100);
    }
  }

  /** QMP migrate to FILE; waits until completed. */
  async snapshot(file: string, ms: number): Promise<void> {
    fs.rmSync(file, { force: true });
    const r = await this.qmp('migrate', { uri: `exec:cat > ${file}` });
    if ('error' in r) throw new Error(`${this.o.name}: migrate: ${JSON.stringify(r.error)}`);
    const until = Date.now() + ms;
    for (;;) {
      const q = (await this.qmp('query-migrate')) as { return?: { status?: string } };
      if (q.return?.status === 'completed') return;
      if (q.return?.status === 'failed' || Date.now() > until) throw new Error(`${this.o.name}: migrate ${q.return?.status}`);
      await sleep(100);
    }
  }

  async quit(): Promise<number | null> {
    if (this.child && this.child.exitCode === null) {
      await Promise.race([this.qmp('quit'), sleep(2000)]);
      const t = setTimeout(() => this.child?.kill('SIGKILL'), 5000);
      const code = await this.exited;
      clearTimeout(t);
      this.serial?.destroy();
      this.qmpSock?.destroy();
      return code;
    }
    return this.exited;
  }
}
