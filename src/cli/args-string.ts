// `--args STRING`: more arguments given as one string, split by vrngd itself, so
// that the service configuration (VRNGD_ARGS in /etc/sysconfig/vrngd) reaches
// vrngd the same way under systemd (`--args "${VRNGD_ARGS}"`, one word) and SysV
// (`--args "$VRNGD_ARGS"`). The rule is a small, fixed part of sh's: blanks
// separate words; '...' quotes literally; "..." quotes with \" \\ \$ \` escapes;
// a backslash outside quotes escapes the next character. Nothing is expanded: no
// globs, no $variables, no `commands`. So VRNGD_ARGS="--reseed '*/5 * * * *'"
// is the two arguments --reseed and */5 * * * *.

export class ArgsSyntaxError extends Error {}

/** Splits one --args string into words (see above); throws ArgsSyntaxError on an open quote. */
export function splitArgs(s: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ArgsSyntaxError(`--args: unterminated ' in: ${s}`);
      word += s.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new ArgsSyntaxError(`--args: unterminated " in: ${s}`);
        const d = s[i] as string;
        if (d === '"') break;
        if (d === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1] as string)) {
          word += s[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
      i++;
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new ArgsSyntaxError(`--args: a trailing \\ in: ${s}`);
      word += s[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Replaces every `--args STRING` / `--args=STRING` in argv by STRING's words, in place. */
export function expandArgsOption(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === '--args') {
      if (i + 1 >= argv.length) throw new ArgsSyntaxError('--args needs a string (e.g. --args "$VRNGD_ARGS")');
      out.push(...splitArgs(argv[++i] as string));
    } else if (a.startsWith('--args=')) {
      out.push(...splitArgs(a.slice('--args='.length)));
    } else {
      out.push(a);
    }
  }
  return out;
}
