// The sd_notify(3) notifier: the exact datagram sequence against a fake send,
// WATCHDOG_USEC/WATCHDOG_PID handling, failures reported once and swallowed,
// and once for real: the addon delivers READY=1 and STATUS= to a python3
// AF_UNIX/SOCK_DGRAM receiver on a path socket and on an abstract socket.
import { spawn, ChildProcessWithoutNullStreams } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterEach, describe, expect, it } from 'vitest';
import { createNotifier, watchdogIntervalFrom } from '../../src/daemon/sd-notify';
import { skipReason, which } from '../helpers/env';

type Sent = Array<[string, string]>;

function recorder(): { sent: Sent; send: (p: string, m: string) => void } {
  const sent: Sent = [];
  return { sent, send: (p, m) => sent.push([p, m]) };
}

describe('createNotifier with a fake send', () => {
  it('sends nothing when NOTIFY_SOCKET is unset', () => {
    const { sent, send } = recorder();
    const n = createNotifier({ WATCHDOG_USEC: '30000000' }, send);
    n.ready('up');
    n.status('x');
    n.watchdog();
    n.stopping();
    expect(sent).toEqual([]);
    expect(n.watchdogIntervalMs).toBeNull();
  });

  it('sends the exact datagram sequence of a daemon life', () => {
    const { sent, send } = recorder();
    const n = createNotifier({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '20000000', WATCHDOG_PID: String(process.pid) }, send);
    expect(n.watchdogIntervalMs).toBe(20000);
    n.ready('feeding from hwrng;\nregime: blocking-pool');
    n.watchdog();
    n.status('hwrng: 4096 bits credited');
    n.stopping();
    expect(sent).toEqual([
      ['/run/systemd/notify', `READY=1\nSTATUS=feeding from hwrng; regime: blocking-pool\nMAINPID=${process.pid}`],
      ['/run/systemd/notify', 'WATCHDOG=1'],
      ['/run/systemd/notify', 'STATUS=hwrng: 4096 bits credited'],
      ['/run/systemd/notify', 'STOPPING=1'],
    ]);
  });

  it('does not ping the watchdog when it is off', () => {
    const { sent, send } = recorder();
    const n = createNotifier({ NOTIFY_SOCKET: '@sd' }, send);
    n.watchdog();
    expect(n.watchdogIntervalMs).toBeNull();
    expect(sent).toEqual([]);
  });

  it('reports a failing send once, swallows the rest, and keeps sending', () => {
    const reports: string[] = [];
    let calls = 0;
    const n = createNotifier(
      { NOTIFY_SOCKET: '/nonexistent/notify' },
      () => {
        calls += 1;
        throw new Error('sendto: ENOENT');
      },
      (m) => reports.push(m),
    );
    expect(() => {
      n.ready('a');
      n.status('b');
      n.stopping();
    }).not.toThrow();
    expect(calls).toBe(3);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain('/nonexistent/notify');
    expect(reports[0]).toContain('ENOENT');
  });

  it('rejects a relative NOTIFY_SOCKET without throwing', () => {
    const reports: string[] = [];
    const { sent, send } = recorder();
    const n = createNotifier({ NOTIFY_SOCKET: 'relative/sock' }, send, (m) => reports.push(m));
    n.ready('x');
    n.status('y');
    expect(sent).toEqual([]);
    expect(reports).toHaveLength(1);
  });

  it('survives a reporter that throws', () => {
    const n = createNotifier(
      { NOTIFY_SOCKET: '@x' },
      () => {
        throw new Error('boom');
      },
      () => {
        throw new Error('reporter boom');
      },
    );
    expect(() => n.ready('x')).not.toThrow();
  });
});

describe('watchdogIntervalFrom', () => {
  it('honours WATCHDOG_PID only when it names this process or is absent', () => {
    expect(watchdogIntervalFrom({ WATCHDOG_USEC: '1500000' }, 42)).toBe(1500);
    expect(watchdogIntervalFrom({ WATCHDOG_USEC: '1500000', WATCHDOG_PID: '42' }, 42)).toBe(1500);
    expect(watchdogIntervalFrom({ WATCHDOG_USEC: '1500000', WATCHDOG_PID: '43' }, 42)).toBeNull();
  });
  it('ignores missing, zero and malformed values', () => {
    expect(watchdogIntervalFrom({}, 1)).toBeNull();
    expect(watchdogIntervalFrom({ WATCHDOG_USEC: '0' }, 1)).toBeNull();
    expect(watchdogIntervalFrom({ WATCHDOG_USEC: '-5' }, 1)).toBeNull();
    expect(watchdogIntervalFrom({ WATCHDOG_USEC: '12abc' }, 1)).toBeNull();
    expect(watchdogIntervalFrom({ WATCHDOG_USEC: '500' }, 1)).toBe(1);
  });
});

// A receiver child: binds the socket, prints "bound", then prints each datagram as a JSON line.
const RECEIVER = `
import json, socket, sys
name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(('\\0' + name[1:]) if name.startswith('@') else name)
print('bound', flush=True)
for _ in range(int(sys.argv[2])):
    print(json.dumps(s.recv(4096).decode()), flush=True)
`;

const python = which('python3');
const noPython = skipReason([[python !== null, 'python3 not installed (scripts/dev/setup-deps.sh installs it)']]);

describe.skipIf(noPython !== null)('createNotifier with the real addon', () => {
  const children: ChildProcessWithoutNullStreams[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  function receive(socketName: string, count: number): { bound: Promise<void>; messages: Promise<string[]> } {
    const child = spawn(python as string, ['-c', RECEIVER, socketName, String(count)]);
    children.push(child);
    let out = '';
    let err = '';
    let onBound: () => void = () => {};
    const bound = new Promise<void>((resolve) => (onBound = resolve));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('bound\n')) onBound();
    });
    const messages = new Promise<string[]>((resolve, reject) => {
      child.on('exit', (code) => {
        if (code !== 0) reject(new Error(`receiver exited ${code}: ${err}`));
        else resolve(out.split('\n').slice(1).filter(Boolean).map((l) => JSON.parse(l) as string));
      });
    });
    return { bound, messages };
  }

  it('delivers READY=1 and STATUS= to a path socket', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-notify-'));
    dirs.push(dir);
    const sock = path.join(dir, 'notify');
    const r = receive(sock, 2);
    await r.bound;
    const reports: string[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: sock }, undefined, (m) => reports.push(m));
    n.ready('sources: hwrng');
    n.status('credited 2048 bits');
    expect(await r.messages).toEqual([`READY=1\nSTATUS=sources: hwrng\nMAINPID=${process.pid}`, 'STATUS=credited 2048 bits']);
    expect(reports).toEqual([]);
  });

  it('delivers READY=1 and STATUS= to an abstract socket', async () => {
    const name = `@vrngd-test-${process.pid}-${Date.now()}`;
    const r = receive(name, 2);
    await r.bound;
    const reports: string[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: name }, undefined, (m) => reports.push(m));
    n.ready('up');
    n.stopping();
    expect(await r.messages).toEqual([`READY=1\nSTATUS=up\nMAINPID=${process.pid}`, 'STOPPING=1']);
    expect(reports).toEqual([]);
  });

  it('reports a missing socket once through the real addon', () => {
    const reports: string[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: path.join(os.tmpdir(), `vrngd-absent-${process.pid}`) }, undefined, (m) => reports.push(m));
    n.ready('x');
    n.status('y');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/ENOENT|No such file/);
  });
});
