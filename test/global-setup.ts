// Builds dist/ once before any test runs, so tests that run the real binary
// (node dist/cli/main.js) or load compiled modules in child processes see the
// current sources. The addon itself is built by `npm install` (node-gyp).
// Type errors do not stop the run here: `npm test` typechecks first and fails on
// them; tsc still emits, so one broken file does not hide every other result.
import { spawnSync } from 'child_process';
import * as path from 'path';

export default function setup(): void {
  const root = path.resolve(__dirname, '..');
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) process.stderr.write(`global setup: tsc reported errors (dist/ emitted anyway):\n${r.stdout}${r.stderr}\n`);
}
