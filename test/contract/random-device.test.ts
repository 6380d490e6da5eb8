// Runs the RandomDevice contract (random-device.ts beside this file) against the
// simulated kernel of every era, always, and against this machine's kernel
// through LinuxRandomDevice when the test runs as root with the addon built
// (skipping with the reason printed otherwise). Without CAP_SYS_ADMIN: a child
// node with that capability dropped from its bounding and inheritable sets
// (setpriv), which must see EPERM from the real ioctl.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { describe, it } from 'vitest';
import { LinuxRandomDevice } from '../../src/kernel/random-device';
import { ROOT, isRoot, readNumber, skipReason, which } from '../helpers/env';
import { Era, SimKernel } from '../sim/sim-kernel';
import { randomDeviceContract } from './random-device';

const exec = promisify(execFile);

/** The contract's parts for a simulated kernel of one era, its pool at `entropyBits`. */
function simVariant(era: Era, entropyBits: number): Parameters<typeof randomDeviceContract>[1] {
  return {
    open: () => {
      const sim = new SimKernel({ era, entropyBits });
      return { device: sim, poolsizeBits: sim.poolsizeBits, quiet: true };
    },
    addWithoutCapability: async () => {
      const sim = new SimKernel({ era, entropyBits });
      sim.noPermission = true;
      try {
        sim.addEntropy(new Uint8Array(8), 8);
        return null;
      } catch (e: unknown) {
        return { name: (e as Error).name, code: (e as { code?: string }).code };
      }
    },
  };
}

for (const era of ['el6', 'v3.10', 'el7', 'modern'] as Era[]) {
  for (const start of [0, 100]) randomDeviceContract(`SimKernel ${era}, pool at ${start} bits`, simVariant(era, start));
}
randomDeviceContract('SimKernel modern, crng ready', simVariant('modern', 256));

const ADDON = path.join(ROOT, 'build', 'Release', 'vrngd.node');
const DIST_DEVICE = path.join(ROOT, 'dist', 'kernel', 'random-device.js');
const noKernel = skipReason([
  [isRoot, 'not root: RNDADDENTROPY needs CAP_SYS_ADMIN (the real-kernel RandomDevice contract)'],
  [fs.existsSync(ADDON), 'build/Release/vrngd.node missing (npm run build:native)'],
  [fs.existsSync('/dev/random'), 'no /dev/random'],
]);
if (noKernel === null) {
  const poolsizeBits = readNumber('/proc/sys/kernel/random/poolsize') ?? 4096;
  randomDeviceContract(`LinuxRandomDevice on this kernel (${fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()})`, {
    open: () => ({ device: new LinuxRandomDevice({ writable: true }), poolsizeBits, quiet: false }),
    addWithoutCapability: async () => {
      if (!which('setpriv')) return { skip: 'setpriv missing (util-linux): no child without CAP_SYS_ADMIN' };
      if (!fs.existsSync(DIST_DEVICE)) return { skip: 'dist/ missing (npm run build): the child without CAP_SYS_ADMIN runs dist/kernel/random-device.js' };
      const script = `const { LinuxRandomDevice } = require(${JSON.stringify(DIST_DEVICE)});
        const d = new LinuxRandomDevice({ writable: true });
        try { d.addEntropy(new Uint8Array(8), 8); console.log('null'); }
        catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code })); }`;
      const r = await exec('setpriv', ['--inh-caps=-sys_admin', '--bounding-set=-sys_admin', process.execPath, '-e', script], { encoding: 'utf8' });
      return JSON.parse(r.stdout.trim()) as { name: string; code: string } | null;
    },
  });
} else {
  describe('RandomDevice contract: LinuxRandomDevice on this kernel', () => {
    it.skip(`skipped: ${noKernel}`, () => undefined);
  });
}
