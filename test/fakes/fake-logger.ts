// Loggers and notifiers that remember what they were told, for daemon tests.
import type { Logger, Level } from '../../src/log/logger';
import type { Notifier } from '../../src/daemon/sd-notify';

export class MemoryLogger implements Logger {
  lines: Array<{ level: Level; message: string }> = [];
  reopened = 0;
  error = (m: string): void => void this.lines.push({ level: 'error', message: m });
  warning = (m: string): void => void this.lines.push({ level: 'warning', message: m });
  notice = (m: string): void => void this.lines.push({ level: 'notice', message: m });
  info = (m: string): void => void this.lines.push({ level: 'info', message: m });
  debug = (m: string): void => void this.lines.push({ level: 'debug', message: m });
  reopen = (): void => void this.reopened++;
  close = async (): Promise<void> => undefined;
  /** Lines above debug containing `text`. */
  visible(text: string | RegExp): string[] {
    return this.lines.filter((l) => l.level !== 'debug' && (typeof text === 'string' ? l.message.includes(text) : text.test(l.message))).map((l) => l.message);
  }
}

export class RecordingNotifier implements Notifier {
  sent: string[] = [];
  constructor(readonly watchdogIntervalMs: number | null = null) {}
  ready(status: string): void {
    this.sent.push(`READY=1 STATUS=${status}`);
  }
  status(text: string): void {
    this.sent.push(`STATUS=${text}`);
  }
  stopping(): void {
    this.sent.push('STOPPING=1');
  }
  watchdog(): void {
    this.sent.push('WATCHDOG=1');
  }
}
