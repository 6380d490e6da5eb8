// SIGTERM during start-up: the signal handlers are in place before vrngd logs its
// first line, so a stop that arrives while the kernel is probed and the sources
// open exits 0 within a second, never by the default action of the signal.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/env';

function stopAtFirstLine(stateFile: string): Promise<{ code: number | null; signal: string | null; ms: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'run', '-f', '-r', '/dev/zero', '-o', os.devNull, '--state-file', stateFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let sentAt = 0;
    child.stderr.on('data', () => {
      if (sentAt) return;
      sentAt = Date.now();
      child.kill('SIGTERM');
    });
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - sentAt }));
  });
}

describe('vrngd run: SIGTERM at the first log line', () => {
  it('exits 0 within 1 s, every time', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-sigstart-'));
    try {
      for (let i = 0; i < 5; i++) {
        const r = await stopAtFirstLine(path.join(dir, `state-${i}.json`));
        expect(r.signal).toBeNull();
        expect(r.code).toBe(0);
        expect(r.ms).toBeLessThan(1000);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
