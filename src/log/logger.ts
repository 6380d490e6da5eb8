// Logger port and its winston adapter, at syslog levels. Under systemd
// (JOURNAL_STREAM set) each line carries the sd-daemon(3) "<N>" priority prefix
// so journald files errors as errors; --log-file and --syslog serve SysV hosts.
// The log file is opened through src/fs/safe-file.ts (no links, no directory that
// others can write) and written with write(2) per line, so a full or read-only
// file system is noticed at once. Trouble with the log file or /dev/log is said
// once, on whichever of stderr, syslog and the log file still works, and its end
// once more ("N lines lost"); see LogTrouble.
//
// winston is loaded when the logger first needs it, not with this module: it costs
// 65-80 CPU-ms of a start (issue 16, docs/benchmarks.md "Goal 4"). With `deferred`
// (the daemon), lines are held, in order and with the time they were logged, until
// attach() (the daemon calls it once READY=1 is sent), an error line, reopen(),
// close(), or at most DEFER_MAX_MS; with -q (quiet) winston is never loaded at all.
import * as fs from 'fs';
import * as path from 'path';
import { Writable } from 'stream';
import type * as Winston from 'winston';
import { DomainError } from '../core/errors';
import { makeDirs, openAppend } from '../fs/safe-file';

export type Level = 'emerg' | 'alert' | 'crit' | 'error' | 'warning' | 'notice' | 'info' | 'debug';

export interface Logger {
  error(message: string): void;
  warning(message: string): void;
  notice(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** Reopens file transports (SIGHUP, after logrotate). */
  reopen(): void;
  close(): Promise<void>;
}

/** createLogger's logger: attach() ends a `deferred` logger's holding (a no-op otherwise). */
export interface StartLogger extends Logger {
  attach(): void;
}

/** The longest a deferred logger holds its lines when attach() never comes. */
export const DEFER_MAX_MS = 1000;

export const PRIORITY: Record<Level, number> = { emerg: 0, alert: 1, crit: 2, error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

export interface LoggerOptions {
  level: Level;
  /** Prefix lines with <N> for journald (default: when JOURNAL_STREAM is set). */
  journal?: boolean;
  /** Append to this file too. */
  logFile?: string;
  /** Also send to the local syslog socket (/dev/log). */
  syslog?: boolean;
  /** Suppress everything (rngd -q). */
  quiet?: boolean;
  /** Where console lines go (tests pass a stream). */
  stream?: NodeJS.WritableStream;
  ident?: string;
  /** Hold lines (and winston's loading) until attach(); see the top of this file. */
  deferred?: boolean;
}

/** Says a sink's trouble once when it starts and once when it ends, never per line. */
class LogTrouble {
  private failing: string | null = null;
  private lost = 0;
  constructor(
    private readonly what: string,
    private readonly say: (message: string) => void,
  ) {}
  failed(e: unknown): void {
    const reason = describe(e);
    this.lost++;
    if (this.failing !== null) return;
    this.failing = reason;
    this.say(`${this.what}: ${reason}; its lines are lost until it works again`);
  }
  worked(): void {
    if (this.failing === null) return;
    this.say(`${this.what} works again (${this.lost} line${this.lost === 1 ? '' : 's'} lost)`);
    this.failing = null;
    this.lost = 0;
  }
}

const describe = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e);
  return typeof code === 'string' && !message.startsWith(code) ? `${code}: ${message}` : message;
};

/** --log-file: one append-only fd, written with write(2) per line; reopened on SIGHUP. */
class LogFileSink extends Writable {
  private fd: number | null = null;
  constructor(
    private readonly file: string,
    private readonly trouble: LogTrouble,
  ) {
    super();
  }
  /** Opens the file; a file we must not write (a link, a directory others can write) is a DomainError. */
  open(): void {
    this.closeFd();
    try {
      makeDirs(path.dirname(path.resolve(this.file)));
      this.fd = openAppend(this.file, { mode: 0o640, what: 'log file' });
    } catch (e: unknown) {
      if (e instanceof DomainError) throw e;
      this.trouble.failed(e);
    }
  }
  closeFd(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* closed */
      }
      this.fd = null;
    }
  }
  _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    if (this.fd === null) {
      this.trouble.failed(new Error('not open'));
    } else {
      try {
        let off = 0;
        while (off < chunk.length) off += fs.writeSync(this.fd, chunk, off, chunk.length - off);
        this.trouble.worked();
      } catch (e: unknown) {
        this.trouble.failed(e);
      }
    }
    done();
  }
}

export function createLogger(opts: LoggerOptions): StartLogger {
  const journal = opts.journal ?? Boolean(process.env.JOURNAL_STREAM);
  const ident = opts.ident ?? 'vrngd';
  const quiet = opts.quiet ?? false;
  const consoleStream = opts.stream ?? process.stderr;
  // trouble with one sink goes to the others, straight (never through the failing one)
  let syslogSink: SyslogSink | null = null;
  let fileSink: LogFileSink | null = null;
  const sayElsewhere = (from: 'file' | 'syslog') => (message: string): void => {
    if (quiet) return;
    try {
      consoleStream.write(journal ? `<4>${message}\n` : `${ident}: warning: ${message}\n`);
    } catch {
      /* the console is gone too */
    }
    const line = `<${3 * 8 + 4}>${ident}[${process.pid}]: ${message}`;
    if (from !== 'syslog' && syslogSink) syslogSink.sendQuietly(line);
    if (from !== 'file' && fileSink) fileSink.write(`${new Date().toISOString()} ${ident}[${process.pid}] warning: ${message}\n`);
  };
  if (opts.logFile) {
    fileSink = new LogFileSink(opts.logFile, new LogTrouble(`log file ${opts.logFile}`, sayElsewhere('file')));
    fileSink.open();
  }
  if (opts.syslog) syslogSink = new SyslogSink(new LogTrouble('syslog (/dev/log)', sayElsewhere('syslog')));

  // winston, made on first use (never with -q: winston's `silent` would drop every line too)
  let w: Winston.Logger | null = null;
  const made = (): Winston.Logger => {
    if (w) return w;
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const winston = require('winston') as typeof Winston;
    const consoleFormat = winston.format.printf(({ level, message }) =>
      journal ? `<${PRIORITY[level as Level] ?? 6}>${String(message)}` : `${ident}: ${level === 'info' || level === 'notice' ? '' : `${level}: `}${String(message)}`,
    );
    // a held line keeps the time it was logged (`at`), not the time it was written
    const stamp = winston.format((info) => {
      info.timestamp = typeof info.at === 'string' ? info.at : new Date().toISOString();
      return info;
    });
    const fileFormat = winston.format.combine(
      stamp(),
      winston.format.printf(({ timestamp, level, message }) => `${String(timestamp)} ${ident}[${process.pid}] ${level}: ${String(message)}`),
    );
    const transports: Winston.transport[] = [new winston.transports.Stream({ stream: consoleStream, format: consoleFormat })];
    if (fileSink) transports.push(new winston.transports.Stream({ stream: fileSink, format: fileFormat }));
    if (syslogSink) {
      transports.push(
        new winston.transports.Stream({
          stream: syslogSink,
          format: winston.format.printf(({ level, message }) => `<${3 * 8 + (PRIORITY[level as Level] ?? 6)}>${ident}[${process.pid}]: ${String(message)}`),
        }),
      );
    }
    w = winston.createLogger({ levels: winston.config.syslog.levels, level: opts.level, transports });
    return w;
  };

  // held lines (deferred), in order; null once attached
  let held: Array<{ level: Level; message: string; at: string }> | null = quiet || !opts.deferred ? null : [];
  let holdTimer: NodeJS.Timeout | null = null;
  const attach = (): void => {
    if (holdTimer) clearTimeout(holdTimer);
    holdTimer = null;
    const lines = held;
    held = null;
    if (!lines || lines.length === 0) return;
    const logger = made();
    for (const l of lines) logger.log(l.level, l.message, { at: l.at });
  };
  if (held) {
    holdTimer = setTimeout(attach, DEFER_MAX_MS);
    holdTimer.unref();
  }
  const enabled = (level: Level): boolean => !quiet && PRIORITY[level] <= PRIORITY[opts.level];
  const log = (level: Level) => (m: string): void => {
    if (!enabled(level)) return;
    if (held) {
      held.push({ level, message: m, at: new Date().toISOString() });
      // an error is never held
      if (PRIORITY[level] <= PRIORITY.error) attach();
      return;
    }
    made().log(level, m);
  };
  return {
    error: log('error'),
    warning: log('warning'),
    notice: log('notice'),
    info: log('info'),
    // off (below the level, or -q): a no-op, not a call through winston per 64-B step
    debug: enabled('debug') ? log('debug') : () => undefined,
    attach,
    reopen: () => {
      attach();
      try {
        fileSink?.open();
      } catch (e: unknown) {
        // the file was replaced by something we must not write: say so, keep the others
        sayElsewhere('file')(describe(e));
      }
    },
    close: () => {
      attach();
      const logger = w;
      if (!logger) return Promise.resolve().then(() => fileSink?.closeFd());
      return new Promise<void>((resolve) => {
        logger.on('finish', () => resolve());
        logger.end();
        setTimeout(resolve, 200).unref();
      }).then(() => fileSink?.closeFd());
    },
  };
}

/** RFC 3164 datagrams to /dev/log, facility daemon. Node has no unix datagram
 * sockets, so the addon's sendDatagram (also used for sd_notify) sends them. */
class SyslogSink extends Writable {
  constructor(private readonly trouble: LogTrouble) {
    super();
  }
  private send(line: string): void {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { loadBinding } = require('../native/binding') as typeof import('../native/binding');
    loadBinding().sendDatagram(process.env.VRNGD_SYSLOG_SOCKET || '/dev/log', line);
  }
  sendQuietly(line: string): void {
    try {
      this.send(line);
    } catch {
      /* said by the sink's own trouble */
    }
  }
  _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    try {
      this.send(chunk.toString().replace(/\n$/, ''));
      this.trouble.worked();
    } catch (e: unknown) {
      this.trouble.failed(e);
    }
    done();
  }
}
