// How systemd 208 and 219 (RHEL 7.0 and 7.1-7.9) read a unit file, for
// test/service/el7-units.test.ts. The directive tables are the releases' own
// load-fragment-gperf.gperf.m4 (../shared/legacy-tools), expanded here with the
// small part of m4 they use. The value rules are those of the same trees'
// src/core/load-fragment.c (tags v208 and v219, branches rhel-7.0 and rhel-7.9 of
// redhat-plumbers/systemd-rhel7), re-stated, not copied:
//   - an unknown lvalue, or one whose parser is config_parse_warn_compat /
//     config_parse_not_supported, is ignored ("Unknown lvalue");
//   - Exec*=: only "-" and "@" are stripped (at most one of each); the rest
//     must start with "/" or the line is ignored ("not absolute"): "+", "!"
//     and ":" came in v231 and later;
//   - SystemCallFilter=: the first line decides the mode: with "~" a deny-list,
//     without it an allow-list seeded with execve exit exit_group rt_sigreturn
//     sigreturn. A name the version cannot resolve (every "@group": groups came
//     in v231) is dropped with "Failed to parse syscall". In 208 the filter is
//     always compiled as an allow-list over the system calls 208 was built to
//     know, with kill as the default (src/core/execute.c apply_seccomp), so a
//     deny-list there still kills every newer call;
//   - ProtectSystem= (v214): a boolean or "full" ("strict" is v232: ignored);
//     ProtectHome= (v214): a boolean or "read-only" ("tmpfs" is v237).
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers/env';

export const LEGACY_TOOLS = path.join(ROOT, '..', 'shared', 'legacy-tools');
export type Release = 'v208' | 'rhel-7.0' | 'v219' | 'rhel-7.9';
export const RELEASES: Release[] = ['v208', 'rhel-7.0', 'v219', 'rhel-7.9'];
/** The systemd version a release's parser behaves as (rhel-7.0 is 208 with backports). */
export const BASE: Record<Release, 208 | 219> = { v208: 208, 'rhel-7.0': 208, v219: 219, 'rhel-7.9': 219 };

export function tableFile(release: Release): string {
  return path.join(LEGACY_TOOLS, `systemd-${release}-load-fragment-gperf.gperf.m4`);
}

/** What RHEL 7's builds define (seccomp, PAM, SELinux, SysV compat; no AppArmor, SMACK, kdbus). */
const DEFINED = new Set(['HAVE_SECCOMP', 'HAVE_PAM', 'HAVE_SELINUX', 'HAVE_SYSV_COMPAT', 'HAVE_LIBWRAP', 'HAVE_KMOD', 'HAVE_ACL']);

/** Reads one m4 quoted argument starting at s[i] === '`'; returns [text, index after the closing quote]. */
function quoted(s: string, i: number): [string, number] {
  let depth = 0;
  let out = '';
  for (let j = i; j < s.length; j++) {
    const c = s[j];
    if (c === '`') {
      if (depth++ > 0) out += c;
    } else if (c === "'") {
      if (--depth === 0) return [out, j + 1];
      out += c;
    } else out += c;
  }
  throw new Error('unterminated m4 quote');
}

/** Parses "(`a', `b', ...)" at s[i] === '('; returns the arguments and the index after ')'. */
function args(s: string, i: number): [string[], number] {
  const out: string[] = [];
  let j = i + 1;
  for (;;) {
    while (/\s|,/.test(s[j] ?? '')) j++;
    if (s[j] === ')') return [out, j + 1];
    if (s[j] === '`') {
      const [a, k] = quoted(s, j);
      out.push(a);
      j = k;
    } else {
      const m = /^[^,)]*/.exec(s.slice(j)) as RegExpExecArray;
      out.push(m[0].trim());
      j += m[0].length;
    }
  }
}

/** Expands the subset of m4 -P the tables use: m4_dnl, m4_define, m4_ifdef and defined macros with $1. */
export function expandM4(src: string, macros = new Map<string, string>()): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    if (rest.startsWith('m4_dnl')) {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl + 1;
      continue;
    }
    if (rest.startsWith('m4_define(')) {
      const [[name = '', body = ''], k] = args(src, i + 'm4_define'.length);
      macros.set(name, body);
      i = k;
      continue;
    }
    if (rest.startsWith('m4_ifdef(')) {
      const [[name = '', yes = '', no = ''], k] = args(src, i + 'm4_ifdef'.length);
      out += expandM4(DEFINED.has(name) ? yes : no, macros);
      i = k;
      continue;
    }
    const id = /^[A-Z_][A-Z0-9_]*(?=\()/.exec(rest);
    if (id && macros.has(id[0])) {
      const [a, k] = args(src, i + id[0].length);
      out += expandM4((macros.get(id[0]) as string).replace(/\$(\d)/g, (_m, n: string) => a[Number(n) - 1] ?? ''), macros);
      i = k;
      continue;
    }
    out += src[i];
    i++;
  }
  return out;
}

/** "Section.Lvalue" -> parser function, from a release's table. */
export function directiveTable(release: Release): Map<string, string> {
  const text = fs.readFileSync(tableFile(release), 'utf8');
  const body = text.slice(text.indexOf('\n%%\n') + 4);
  const table = new Map<string, string>();
  for (const line of expandM4(body).split('\n')) {
    const m = /^([A-Z][A-Za-z]*)\.([A-Za-z0-9]+),\s*([a-z_0-9]+),/.exec(line.trim());
    if (m) table.set(`${m[1]}.${m[2]}`, m[3] as string);
  }
  return table;
}

/** [Install] is read by src/shared/install.c, not the table ("The [Install] section is ignored here"). */
const INSTALL_KEYS: Record<208 | 219, string[]> = { 208: ['WantedBy', 'RequiredBy', 'Alias', 'Also'], 219: ['WantedBy', 'RequiredBy', 'Alias', 'Also', 'DefaultInstance'] };

export interface Line {
  section: string;
  key: string;
  value: string;
}
export interface Dropped extends Line {
  why: string;
}
export interface Reduced {
  kept: Line[];
  dropped: Dropped[];
  /** The filter as the release compiles it: null when the unit sets none. */
  filter: { mode: 'allow' | 'deny'; names: string[]; dropped: string[] } | null;
}

/** The lines of a unit file: [section, key, value], comments and blank lines skipped. */
export function parseUnit(text: string): Line[] {
  const out: Line[] = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#') || l.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(l);
    if (s) {
      section = s[1] as string;
      continue;
    }
    const eq = l.indexOf('=');
    if (eq > 0) out.push({ section, key: l.slice(0, eq).trim(), value: l.slice(eq + 1).trim() });
  }
  return out;
}

/** Reduces unit text (and its drop-ins, in order) as the release would load it. */
export function reduce(texts: string[], release: Release, table = directiveTable(release), knownSyscall: (name: string) => boolean = () => true): Reduced {
  const base = BASE[release];
  const kept: Line[] = [];
  const dropped: Dropped[] = [];
  let filter: Reduced['filter'] = null;
  for (const line of texts.flatMap(parseUnit)) {
    const drop = (why: string): void => void dropped.push({ ...line, why });
    if (line.section === 'Install') {
      if (INSTALL_KEYS[base].includes(line.key)) kept.push(line);
      else drop('unknown [Install] key');
      continue;
    }
    const parser = table.get(`${line.section}.${line.key}`);
    if (!parser) {
      drop('Unknown lvalue');
      continue;
    }
    if (parser === 'config_parse_warn_compat' || parser === 'config_parse_not_supported') {
      drop(`${parser}: not supported in this build`);
      continue;
    }
    if (parser === 'config_parse_exec') {
      let v = line.value;
      let ignore = false;
      let argv0 = false;
      for (let i = 0; i < 2; i++) {
        if (v.startsWith('-') && !ignore) [ignore, v] = [true, v.slice(1)];
        if (v.startsWith('@') && !argv0) [argv0, v] = [true, v.slice(1)];
      }
      if (v !== '' && !v.startsWith('/')) {
        drop(`Executable path is not absolute: ${v}`);
        continue;
      }
    }
    if (parser === 'config_parse_protect_system' && !['yes', 'no', 'true', 'false', '1', '0', 'on', 'off', 'full'].includes(line.value)) {
      drop('Failed to parse protect system value');
      continue;
    }
    if (parser === 'config_parse_protect_home' && !['yes', 'no', 'true', 'false', '1', '0', 'on', 'off', 'read-only'].includes(line.value)) {
      drop('Failed to parse protect home value');
      continue;
    }
    if (parser === 'config_parse_syscall_filter') {
      let v = line.value;
      if (v === '') {
        filter = null;
        kept.push(line);
        continue;
      }
      const invert = v.startsWith('~');
      if (invert) v = v.slice(1);
      if (!filter) filter = invert ? { mode: 'deny', names: [], dropped: [] } : { mode: 'allow', names: ['execve', 'exit', 'exit_group', 'rt_sigreturn', 'sigreturn'], dropped: [] };
      for (const name of v.split(/\s+/).filter(Boolean)) {
        if (name.startsWith('@') || !knownSyscall(name)) {
          filter.dropped.push(name);
          continue;
        }
        // same sense as the mode: add; the other sense: remove
        if ((filter.mode === 'deny') === invert) {
          if (!filter.names.includes(name)) filter.names.push(name);
        } else filter.names = filter.names.filter((n) => n !== name);
      }
    }
    kept.push(line);
  }
  return { kept, dropped, filter };
}

/** Writes reduced lines back as unit text, for the real systemd. */
export function unitText(lines: Line[], omit: (l: Line) => boolean = () => false): string {
  const sections = new Map<string, string[]>();
  for (const l of lines) {
    if (omit(l)) continue;
    if (!sections.has(l.section)) sections.set(l.section, []);
    (sections.get(l.section) as string[]).push(`${l.key}=${l.value}`);
  }
  return [...sections].map(([s, ls]) => `[${s}]\n${ls.join('\n')}\n`).join('\n');
}

/** x86_64 system call numbers from the kernel headers (linux-libc-dev), or null without them. */
export function syscallNumbers(): Map<string, number> | null {
  const header = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
  if (!fs.existsSync(header)) return null;
  const out = new Map<string, number>();
  for (const m of fs.readFileSync(header, 'utf8').matchAll(/^#define __NR_(\w+) (\d+)$/gm)) out.set(m[1] as string, Number(m[2]));
  return out;
}

/**
 * The highest x86_64 call systemd 208 knew on RHEL 7.0: its list is generated at
 * build time from the kernel headers (Makefile.am: src/core/syscall-list.txt from
 * `cpp -dM` of <sys/syscall.h>), and
 * RHEL 7.0 built against 3.10's, which end at finit_module (313).
 */
export const SYSCALL_MAX_208 = 313;
