// Small readers for procfs and sysfs files under an injectable root: one trimmed
// value, an integer, the list of pids, a process's comm and whether it is a
// kernel thread. Absent or unreadable files read as null, never as a throw, so a
// probe can tell "the kernel does not have this file" from a value. See proc(5).
import * as fs from 'fs';
import * as path from 'path';

/** PF_KTHREAD in /proc/<pid>/stat's flags field (include/linux/sched.h, 2.6.27 and later). */
const PF_KTHREAD = 0x00200000;

/** The file's contents without the trailing newline; null when it does not exist or cannot be read. */
export function readValue(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** A decimal integer file (e.g. /proc/sys/kernel/random/poolsize); null when absent or not an integer. */
export function readInt(file: string): number | null {
  const text = readValue(file);
  if (text === null || !/^-?\d+$/.test(text)) return null;
  return Number(text);
}

export function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Numeric entries of procRoot, ascending; empty when procRoot cannot be listed. */
export function listPids(procRoot: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(procRoot);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^[0-9]+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** /proc/<pid>/comm: the name, truncated by the kernel to 15 bytes (TASK_COMM_LEN - 1). */
export function readComm(procRoot: string, pid: number): string | null {
  return readValue(path.join(procRoot, String(pid), 'comm'));
}

/**
 * Whether pid is a kernel thread: PF_KTHREAD in /proc/<pid>/stat, or, when the
 * flags cannot be read, a parent of 2 (kthreadd). null when stat is unreadable.
 * The comm field may contain spaces and parentheses, so fields are counted after
 * the last ')'.
 */
export function isKernelThread(procRoot: string, pid: number): boolean | null {
  if (pid === 2) return true;
  const stat = readValue(path.join(procRoot, String(pid), 'stat'));
  if (stat === null) return null;
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  // after ") ": state ppid pgrp session tty_nr tpgid flags ...
  const fields = stat.slice(close + 1).trim().split(/\s+/);
  const flags = Number(fields[6]);
  if (Number.isInteger(flags)) return (flags & PF_KTHREAD) !== 0;
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid === 2 : null;
}
