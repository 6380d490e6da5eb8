// Test helpers for the service artefacts: a temporary root populated by the real
// scripts/install.sh, the unit files in systemd/, and small parsers for unit text
// and `systemd-analyze` output.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../helpers/env';

export const INSTALL_SH = path.join(ROOT, 'scripts', 'install.sh');
export const UNIT_DIR = path.join(ROOT, 'systemd');

/** Every unit file in systemd/ (not the sysconfig template). */
export function unitFiles(): string[] {
  return fs
    .readdirSync(UNIT_DIR)
    .filter((f) => /\.(service|socket|timer|path|target|mount)$/.test(f))
    .sort()
    .map((f) => path.join(UNIT_DIR, f));
}

/** Values of KEY= in a unit file, in order (comments and continuation lines ignored). */
export function unitValues(text: string, key: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 60000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

let releaseTarball: string | null = null;

/**
 * A release tarball of this checkout (install.sh --make-tarball), made once per test
 * file, so that each temporary install does not rebuild the bundle.
 */
export function releaseTarballOfCheckout(): string {
  if (releaseTarball && fs.existsSync(releaseTarball)) return releaseTarball;
  const out = tempDir('vrngd-release-');
  process.on('exit', () => fs.rmSync(out, { recursive: true, force: true }));
  releaseTarball = execFileSync('bash', [INSTALL_SH, '--make-tarball', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop() as string;
  return releaseTarball;
}

/**
 * Runs install.sh into a new temporary root; returns the root. Throws on failure.
 * By default from the checkout's release tarball; `fromCheckout` installs from the
 * checkout itself (building the bundle), or from the --from the caller passes.
 */
export function installIntoTempRoot(extraArgs: string[] = [], opts: { fromCheckout?: boolean } = {}): string {
  const root = tempDir('vrngd-root-');
  const from = opts.fromCheckout ? [] : ['--from', releaseTarballOfCheckout()];
  execFileSync('bash', [INSTALL_SH, '--destdir', root, ...from, ...extraArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return root;
}

/** Every path (files, symlinks and directories) under root, as absolute paths inside it. */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      out.push(`/${path.relative(root, full)}`);
      if (e.isDirectory()) walk(full);
    }
  };
  walk(root);
  return out.sort();
}

/** Install-manifest entries ("d PATH", "f PATH", "c PATH SHA256") of an install root. */
export function manifest(root: string): Array<{ type: string; path: string }> {
  return fs
    .readFileSync(path.join(root, 'usr/lib/vrngd/install-manifest'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [type = '', p = ''] = l.split(' ');
      return { type, path: p };
    });
}

/** "Overall exposure level for X.service: 1.2 OK" → 1.2 */
export function parseExposure(output: string): number | null {
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(output);
  return m ? Number(m[1]) : null;
}
