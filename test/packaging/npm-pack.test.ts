// The npm package: `npm pack` makes a tarball that installs into a new project
// and builds there -- the addon and the preload library from the sources in
// `files` -- and whose bin, the launcher, runs. The install is offline: the new
// project's lockfile pins the tarball and this checkout's production dependencies
// exactly as package-lock.json does (so from the cache `npm ci` filled; nothing
// is fetched), and `npm ci` installs it.
import { execFile } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/env';

const exec = promisify(execFile);
let dir = '';
let tarball = '';
let installError = '';
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-npm-'));
  const packed = await exec('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  tarball = path.join(dir, packed.stdout.trim().split('\n').pop() as string);
  const app = path.join(dir, 'app');
  fs.mkdirSync(app);
  const spec = `file:../${path.basename(tarball)}`;
  fs.writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ name: 'vrngd-pack-test', version: '1.0.0', private: true, dependencies: { vrngd: spec } })}\n`);
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const own = lock.packages[''] as { version: string; dependencies: Record<string, string>; engines?: unknown; bin?: unknown };
  const packages: Record<string, unknown> = {
    '': { name: 'vrngd-pack-test', version: '1.0.0', dependencies: { vrngd: spec } },
    'node_modules/vrngd': {
      version: own.version,
      resolved: spec,
      integrity: `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`,
      hasInstallScript: true,
      license: 'GPL-2.0-or-later',
      dependencies: own.dependencies,
      bin: { vrngd: 'scripts/vrngd' },
      engines: own.engines,
    },
  };
  for (const [k, v] of Object.entries(lock.packages)) {
    if (!k.startsWith('node_modules/') || v.dev || v.devOptional) continue;
    // entries npm wrote without `resolved`: the registry's tarball name (the cache finds it by integrity)
    const name = k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages[k] = { resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop() as string}-${v.version as string}.tgz`, ...v };
  }
  fs.writeFileSync(path.join(app, 'package-lock.json'), `${JSON.stringify({ name: 'vrngd-pack-test', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 1)}\n`);
  try {
    await exec('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (e: unknown) {
    installError = String((e as { stderr?: string }).stderr ?? e);
  }
}, 300000);
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm pack → npm install ./vrngd-*.tgz', () => {
  it('the tarball carries every native source and the launcher', async () => {
    const { stdout } = await exec('tar', ['-tzf', tarball], { encoding: 'utf8' });
    const files = stdout.split('\n');
    for (const f of ['package/binding.gyp', 'package/src/native/vrngd.c', 'package/src/native/addon.c', 'package/src/native/poll.c', 'package/src/native/rdrand.c', 'package/src/native/addon.h', 'package/src/native/syscalls.h', 'package/src/native/preload.c', 'package/src/native/glibc-floor.h', 'package/scripts/vrngd', 'package/src/native/reader.c', 'package/dist/cli/main.js']) {
      expect(files, f).toContain(f);
    }
  });

  it('installs, building the addon and the preload library', () => {
    expect(installError).toBe('');
    const rel = path.join(dir, 'app/node_modules/vrngd/build/Release');
    expect(fs.existsSync(path.join(rel, 'vrngd.node'))).toBe(true);
    expect(fs.existsSync(path.join(rel, 'vrngd-preload.so'))).toBe(true);
  });

  it('its bin runs: --version, status --json', async () => {
    const bin = path.join(dir, 'app/node_modules/.bin/vrngd');
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await exec(bin, ['--version'], { encoding: 'utf8' })).stdout.trim()).toBe(pkg.version);
    const status = await exec(bin, ['status', '--json'], { encoding: 'utf8' });
    expect((JSON.parse(status.stdout) as { live: boolean }).live).toBe(true);
  });
});
