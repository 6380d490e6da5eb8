// The two service e2e suites' shared part: the Debian bookworm VM
// (scripts/dev/e2e/debian-vm.sh), the payload its guest script runs
// (scripts/dev/e2e/debian-vm-guest.sh with vrngd's release tarball and a node),
// and the parser of the guest's "E2E KIND key=value..." console lines.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CACHE, E2E, sh } from './scripts';
import { ROOT, isRoot, skipReason, which } from '../helpers/env';

export const VM = path.join(E2E, 'debian-vm.sh');

// Part of `npm run test:e2e` (and so of CI). VRNGD_E2E_VM=0 leaves them out of a local
// run (they take about 10 min each under TCG; `npm run test:e2e:vm` runs only them).
export const vmSkip = skipReason([
  [process.env.VRNGD_E2E_VM !== '0', 'VRNGD_E2E_VM=0: the Debian VM suites are left out'],
  [isRoot, 'not root: mmdebstrap, mke2fs -d and depmod -b need root'],
  [which('qemu-system-x86_64') !== null, 'qemu-system-x86_64 missing (bash scripts/dev/setup-deps.sh)'],
  [which('mmdebstrap') !== null, 'mmdebstrap missing (bash scripts/dev/setup-deps.sh)'],
  [fs.existsSync(path.join(ROOT, 'build', 'Release', 'vrngd.node')), 'build/Release/vrngd.node missing (npm run build:native)'],
  [fs.existsSync(path.join(ROOT, 'node_modules', 'esbuild')), 'node_modules/esbuild missing (npm ci)'],
]);

export type Fields = Record<string, string>;
export interface Console {
  text: string;
  /** Every E2E line, in order: kind and its key=value fields. */
  lines: { kind: string; f: Fields }[];
}

export function parseConsole(text: string): Console {
  const lines: Console['lines'] = [];
  for (const raw of text.replace(/\r/g, '').split('\n')) {
    const m = /E2E (\S+)(.*)$/.exec(raw);
    if (!m) continue;
    const f: Fields = {};
    for (const w of (m[2] as string).trim().split(/\s+/)) {
      const eq = w.indexOf('=');
      if (eq > 0) f[w.slice(0, eq)] = w.slice(eq + 1);
    }
    lines.push({ kind: m[1] as string, f });
  }
  return { text, lines };
}

/** The fields of the first E2E line of KIND whose fields include MATCH. */
export function line(c: Console, kind: string, match: Fields = {}): Fields {
  const l = c.lines.find((x) => x.kind === kind && Object.entries(match).every(([k, v]) => x.f[k] === v));
  if (!l) throw new Error(`no "E2E ${kind} ${JSON.stringify(match)}" line on the guest console`);
  return l.f;
}

const secs = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(0)} s`;

/** Builds (or reuses) the image; the payload directory for PLAN (one phase per boot). */
export async function prepare(name: string, plan: string[]): Promise<string> {
  let t0 = Date.now();
  await sh(path.join(E2E, 'fetch-kernel.sh'), []);
  await sh(VM, ['image']);
  process.stderr.write(`e2e ${name}: kernel and image ready in ${secs(t0)}\n`);
  t0 = Date.now();
  const payload = path.join(CACHE, `payload-${name}`);
  fs.rmSync(payload, { recursive: true, force: true });
  fs.mkdirSync(payload, { recursive: true });
  await sh(path.join(ROOT, 'scripts', 'install.sh'), ['--make-tarball', payload], {}, (l) => l.startsWith('+ '));
  const node = await sh(path.join(ROOT, 'scripts', 'dev', 'setup-node16.sh'), []);
  fs.copyFileSync(node, path.join(payload, 'node'));
  fs.chmodSync(path.join(payload, 'node'), 0o755);
  fs.copyFileSync(path.join(E2E, 'debian-vm-guest.sh'), path.join(payload, 'run.sh'));
  fs.chmodSync(path.join(payload, 'run.sh'), 0o755);
  fs.copyFileSync(path.join(ROOT, 'scripts', 'cloud-init', 'vrngd-seed.cloud-config'), path.join(payload, 'vrngd-seed.cloud-config'));
  fs.writeFileSync(path.join(payload, 'phase-plan'), `${plan.join('\n')}\n`);
  await sh(VM, ['clean', name]);
  process.stderr.write(`e2e ${name}: payload (release tarball, node 16, guest script) in ${secs(t0)}\n`);
  return payload;
}

/** One QEMU run of guest NAME (several boots when the guest reboots); its console. */
export async function boot(name: string, payload: string, qemu: string[], params: string[]): Promise<Console> {
  const log = path.join(CACHE, `${name}-${Date.now()}.log`);
  const t0 = Date.now();
  const status = await new Promise<number | null>((resolve) => {
    const child = spawn('bash', [VM, 'boot', name, payload, log, ...qemu, '--', ...params], {
      cwd: ROOT,
      env: { ...process.env, VRNGD_E2E_CACHE: CACHE, VRNGD_E2E_BOOT_TIMEOUT: '1100' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('close', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
  const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
  process.stderr.write(`e2e ${name}: QEMU exit ${String(status)} after ${secs(t0)}, console ${log}\n`);
  return parseConsole(text);
}
