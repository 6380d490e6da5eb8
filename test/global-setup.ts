// Builds dist/ once before any test runs, so tests that run the real binary
// (node dist/cli/main.js) or load compiled modules in child processes see the
// current sources. The addon itself is built by `npm install` (node-gyp).
import { execFileSync } from 'child_process';
import * as path from 'path';

export default function setup(): void {
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
}
