// The shipped cloud-configs (random_seed command, bootcmd alternative) against
// Debian's cloud-init schema validator, with a broken config as the control
// that the validator does reject.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { ROOT, skipReason, which } from '../helpers/env';

const skip = skipReason([[which('cloud-init') !== null, 'cloud-init not installed (bash scripts/dev/setup-deps.sh installs it)']]);
const schema = (file: string) => spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
const dir = path.join(ROOT, 'scripts', 'cloud-init');

describe.skipIf(skip !== null)('cloud-init configs', () => {
  it('random_seed: runs vrngd seed with command_required false, and validates', () => {
    const file = path.join(dir, 'vrngd-seed.cloud-config');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(/^random_seed:$/m);
    expect(text).toMatch(/^ {2}command_required: false$/m);
    expect(text).toMatch(/- seed$/m);
    const r = schema(file);
    expect(r.stdout + r.stderr).toContain('Valid cloud-config');
    expect(r.status).toBe(0);
  });

  it('bootcmd alternative validates', () => {
    const file = path.join(dir, 'vrngd-seed-bootcmd.cloud-config');
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^bootcmd:$/m);
    const r = schema(file);
    expect(r.stdout + r.stderr).toContain('Valid cloud-config');
    expect(r.status).toBe(0);
  });

  it('control: a random_seed with a wrong command type is rejected', () => {
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-cc-')), 'bad.cloud-config');
    fs.writeFileSync(bad, '#cloud-config\nrandom_seed:\n  command: vrngd seed\n  command_required: maybe\n');
    const r = schema(bad);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/random_seed/);
  });
});
