// The e2e tests' way to run the project's own e2e shell scripts (scripts/dev/e2e/):
// asynchronously (a synchronous wait would stall vitest's worker RPC for minutes),
// with the shared image cache, their stderr passed through (minus the lines `quiet`
// names), and a one-line failure naming the script.
import { execFile } from 'child_process';
import * as path from 'path';
import { ROOT } from '../helpers/env';

export const CACHE = process.env.VRNGD_E2E_CACHE ?? path.join(ROOT, 'test', 'e2e', '.cache');
export const E2E = path.join(ROOT, 'scripts', 'dev', 'e2e');

export function sh(script: string, args: string[], env: NodeJS.ProcessEnv = {}, quiet: (line: string) => boolean = () => false): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [script, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, VRNGD_E2E_CACHE: CACHE, ...env }, timeout: 900000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (stderr) process.stderr.write(stderr.split('\n').filter((l) => !quiet(l)).join('\n'));
      if (err) reject(new Error(`${path.basename(script)} failed: ${err.message}`));
      else resolve(stdout.trim());
    });
  });
}
