// `vrngd run -b`: starts a detached copy of this command (the same argv without
// -b, with --pid-file, VRNGD_DETACHED=1) and waits until it feeds: the child
// writes "ready" on fd 3 once the pid file is held and the sources are open
// (compose.ts signalReady). If it exits first, its last stderr line and its exit
// status are the outcome. See setsid(2) (spawn's detached).
import { spawn } from 'child_process';
import type { RunConfig } from '../core/config';

export type DetachResult =
  | { ok: true; /** what the child said while it started (no /dev/log, an unwritable log file), to repeat once */ warnings: string[] }
  | { ok: false; /** the child's own exit status, passed on unchanged */ status: number; message: string };

export async function detach(config: RunConfig, env: NodeJS.ProcessEnv): Promise<DetachResult> {
  const args = process.argv.slice(2).filter((a) => a !== '-b' && a !== '--background');
  const pidFile = config.pidFile as string;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, ...args, '--pid-file', pidFile, ...(config.logFile || config.quiet || config.syslog ? [] : ['--syslog'])], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...env, VRNGD_DETACHED: '1', JOURNAL_STREAM: '' },
  });
  let errText = '';
  child.stderr?.on('data', (b: Buffer) => (errText += b.toString()));
  const readyPipe = child.stdio[3] as NodeJS.ReadableStream | null;
  // null: it said "ready"; a number: it exited first with that status (null code: killed)
  const exited = await new Promise<number | null>((resolve) => {
    readyPipe?.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) resolve(null);
    });
    readyPipe?.on('error', () => undefined);
    child.on('exit', (code) => resolve(code ?? -1));
  });
  child.stderr?.destroy();
  (readyPipe as unknown as { destroy?: () => void } | null)?.destroy?.();
  child.unref();
  if (exited === null || exited === 0) {
    return { ok: true, warnings: errText.split('\n').filter((line) => /^vrngd: (warning|error|crit|alert|emerg): /.test(line)) };
  }
  const line = errText.trim().split('\n').pop();
  return { ok: false, status: exited, message: line ? line.replace(/^vrngd: (error: )?/, '') : `the background daemon did not start (status ${exited})` };
}
