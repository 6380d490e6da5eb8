// The el7 syscall deny-list drop-ins are linked only where systemd is 219 or newer:
// systemd 208 (RHEL 7.0) turns every SystemCallFilter= into an allow-list and kills
// node (test/service/el7-units.test.ts shows why). scripts/el7-syscall-filter.sh is
// what the el7 RPM's %post/%preun and install.sh run; here with a fake systemctl.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/env';

const SCRIPT = path.join(ROOT, 'scripts', 'el7-syscall-filter.sh');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-el7-filter-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function rootWithStore(name: string): string {
  const root = path.join(tmp, name);
  for (const unit of ['vrngd.service.d', 'vrngd-seed.service.d']) {
    const d = path.join(root, 'usr/lib/vrngd/el7-dropins', unit);
    fs.mkdirSync(d, { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'systemd/el7', unit, '50-syscall-filter.conf'), path.join(d, '50-syscall-filter.conf'));
  }
  return root;
}

function run(root: string, action: string, systemdVersion: string | null): { status: number | null; stderr: string } {
  const bin = path.join(tmp, `bin-${systemdVersion ?? 'none'}`);
  fs.mkdirSync(bin, { recursive: true });
  // null: a systemctl that fails (this host's own would otherwise be found later in PATH)
  fs.writeFileSync(path.join(bin, 'systemctl'), systemdVersion ? `#!/bin/sh\necho "systemd ${systemdVersion}"\necho "+PAM +AUDIT"\n` : '#!/bin/sh\nexit 127\n', { mode: 0o755 });
  const r = spawnSync('sh', [SCRIPT, action, '--root', root], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
  return { status: r.status, stderr: r.stderr };
}

const linked = (root: string): string[] =>
  ['vrngd.service.d', 'vrngd-seed.service.d'].flatMap((u) => {
    const f = path.join(root, 'usr/lib/systemd/system', u, '50-syscall-filter.conf');
    // the links point at the packaged files' paths on the target system, not under `root`
    return fs.existsSync(path.dirname(f)) && fs.lstatSync(f, { throwIfNoEntry: false })?.isSymbolicLink() ? [fs.readlinkSync(f)] : [];
  });

describe('el7-syscall-filter.sh', () => {
  it('systemd 208 (RHEL 7.0): links nothing, says why, exits 0', () => {
    const root = rootWithStore('v208');
    const r = run(root, 'enable', '208');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/systemd 208: no syscall filter/);
    expect(linked(root)).toEqual([]);
  });

  it('no working systemctl: links nothing, exits 0', () => {
    const root = rootWithStore('none');
    expect(run(root, 'enable', null).status).toBe(0);
    expect(linked(root)).toEqual([]);
  });

  it.each(['219', '239'])('systemd %s: both drop-ins linked to the packaged files; disable removes them and their directories', (v) => {
    const root = rootWithStore(`v${v}`);
    expect(run(root, 'enable', v).status).toBe(0);
    expect(linked(root)).toEqual(['/usr/lib/vrngd/el7-dropins/vrngd.service.d/50-syscall-filter.conf', '/usr/lib/vrngd/el7-dropins/vrngd-seed.service.d/50-syscall-filter.conf']);
    expect(run(root, 'disable', v).status).toBe(0);
    expect(linked(root)).toEqual([]);
    expect(fs.existsSync(path.join(root, 'usr/lib/systemd/system/vrngd.service.d'))).toBe(false);
  });

  it('bad usage: 64', () => {
    expect(run(rootWithStore('usage'), 'frobnicate', '219').status).toBe(64);
  });
});
