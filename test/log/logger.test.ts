// The logger's laziness (issue 16): winston is loaded on first use, a deferred
// logger holds its lines (in order, with the time they were logged) until attach(),
// an error line, close() or DEFER_MAX_MS, and -q never loads winston at all.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import { describe, expect, it } from 'vitest';
import { createLogger, DEFER_MAX_MS } from '../../src/log/logger';
import { ROOT } from '../helpers/env';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  return { stream, text: () => out };
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('logger laziness', () => {
  it('a deferred logger holds lines until attach(), then writes them in order', async () => {
    const s = sink();
    const log = createLogger({ level: 'info', stream: s.stream, journal: true, deferred: true });
    log.info('one');
    log.warning('two');
    log.debug('below the level');
    await tick();
    expect(s.text()).toBe('');
    log.attach();
    await tick();
    expect(s.text()).toBe('<6>one\n<4>two\n');
    log.notice('three'); // attached: straight through
    await tick();
    expect(s.text()).toBe('<6>one\n<4>two\n<5>three\n');
    await log.close();
  });

  it('an error line is never held: it writes the held lines and itself at once', async () => {
    const s = sink();
    const log = createLogger({ level: 'info', stream: s.stream, journal: false, deferred: true });
    log.info('before');
    log.error('broken');
    await tick();
    expect(s.text()).toBe('vrngd: before\nvrngd: error: broken\n');
    await log.close();
  });

  it('close() writes what is held; a held line keeps the time it was logged in the log file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-log-'));
    const file = path.join(dir, 'vrngd.log');
    const s = sink();
    const log = createLogger({ level: 'info', stream: s.stream, journal: true, deferred: true, logFile: file });
    const before = Date.now();
    log.info('held');
    await new Promise((r) => setTimeout(r, 150));
    const after = Date.now();
    await log.close();
    expect(s.text()).toBe('<6>held\n');
    const line = fs.readFileSync(file, 'utf8');
    const m = /^(\S+) vrngd\[\d+\] info: held\n$/.exec(line);
    expect(m, line).not.toBeNull();
    const t = Date.parse((m as RegExpExecArray)[1] as string);
    // logged before the 150 ms wait, not when close() wrote it
    expect(t).toBeGreaterThanOrEqual(before - 1);
    expect(t).toBeLessThan(after - 100);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`without attach() the lines come out after DEFER_MAX_MS (${DEFER_MAX_MS} ms) at most`, async () => {
    const s = sink();
    const log = createLogger({ level: 'info', stream: s.stream, journal: true, deferred: true });
    log.info('late');
    await new Promise((r) => setTimeout(r, DEFER_MAX_MS / 2));
    expect(s.text()).toBe('');
    await new Promise((r) => setTimeout(r, DEFER_MAX_MS / 2 + 200));
    expect(s.text()).toBe('<6>late\n');
    await log.close();
  });

  it('not deferred: lines go straight out (every caller but the daemon)', async () => {
    const s = sink();
    const log = createLogger({ level: 'debug', stream: s.stream, journal: true });
    log.debug('d');
    await tick();
    expect(s.text()).toBe('<7>d\n');
    await log.close();
  });

  it('winston is loaded on first use, and never with -q', () => {
    const probe = (quiet: boolean): unknown => {
      const code = `const { createLogger } = require(${JSON.stringify(path.join(ROOT, 'dist', 'log', 'logger.js'))});
const loaded = () => Object.keys(require.cache).some((k) => /[\\/]node_modules[\\/]winston[\\/]/.test(k));
const log = createLogger({ level: 'info', quiet: ${quiet}, journal: true, stream: process.stdout });
const atCreate = loaded();
log.info('x');
const afterLine = loaded();
log.close().then(() => process.stderr.write(JSON.stringify([atCreate, afterLine])));`;
      const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return { stdout: r.stdout, loaded: JSON.parse(r.stderr) as unknown };
    };
    // control: a line that is written loads winston
    expect(probe(false)).toEqual({ stdout: '<6>x\n', loaded: [false, true] });
    expect(probe(true)).toEqual({ stdout: '', loaded: [false, false] });
  });
});
