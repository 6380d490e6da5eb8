// Fatal errors at the journal's err priority. When stderr is connected to the
// journal, systemd sets JOURNAL_STREAM=DEV:INODE of that stream (systemd.exec(5));
// a line starting with "<3>" is then logged at PRIORITY=3 (sd-daemon(3)). Anywhere
// else (a terminal, a pipe, a file, a SysV start) the line stays plain text.
import * as fs from 'fs';

export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env, fstat: () => { dev: number; ino: number } = () => fs.fstatSync(2)): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstat();
    return String(st.dev) === m[1] && String(st.ino) === m[2];
  } catch {
    return false;
  }
}

/** TEXT (one or more lines) with every line marked <3> when stderr is the journal. */
export function errLines(text: string, journal: boolean): string {
  if (!journal) return text;
  return text
    .split('\n')
    .map((l, i, all) => (i === all.length - 1 && l === '' ? l : `<3>${l}`))
    .join('\n');
}
