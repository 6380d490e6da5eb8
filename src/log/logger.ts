// Logger port and its winston adapter, at syslog levels. Under systemd
// (JOURNAL_STREAM set) each line carries the sd-daemon(3) "<N>" priority prefix
// so journald files errors as errors; --log-file and --syslog serve SysV hosts.
import { Writable } from 'stream';
import * as winston from 'winston';

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
}

export function createLogger(opts: LoggerOptions): Logger {
  const journal = opts.journal ?? Boolean(process.env.JOURNAL_STREAM);
  const ident = opts.ident ?? 'vrngd';
  const consoleFormat = winston.format.printf(({ level, message }) =>
    journal ? `<${PRIORITY[level as Level] ?? 6}>${String(message)}` : `${ident}: ${level === 'info' || level === 'notice' ? '' : `${level}: `}${String(message)}`,
  );
  const makeTransports = (): winston.transport[] => {
    const t: winston.transport[] = [
      new winston.transports.Stream({ stream: opts.stream ?? process.stderr, format: consoleFormat }),
    ];
    if (opts.logFile) {
      t.push(
        new winston.transports.File({
          filename: opts.logFile,
          format: winston.format.combine(
            winston.format.timestamp(),
            winston.format.printf(({ timestamp, level, message }) => `${String(timestamp)} ${ident}[${process.pid}] ${level}: ${String(message)}`),
          ),
        }),
      );
    }
    if (opts.syslog) t.push(syslogTransport(ident));
    return t;
  };
  const w = winston.createLogger({
    levels: winston.config.syslog.levels,
    level: opts.level,
    silent: opts.quiet ?? false,
    transports: makeTransports(),
  });
  return {
    error: (m) => void w.log('error', m),
    warning: (m) => void w.log('warning', m),
    notice: (m) => void w.log('notice', m),
    info: (m) => void w.log('info', m),
    debug: (m) => void w.log('debug', m),
    reopen: () => {
      w.clear();
      for (const t of makeTransports()) w.add(t);
    },
    close: () =>
      new Promise<void>((resolve) => {
        w.on('finish', () => resolve());
        w.end();
        setTimeout(resolve, 200).unref();
      }),
  };
}

/** RFC 3164 datagrams to /dev/log, facility daemon. Node has no unix datagram
 * sockets, so the addon's sendDatagram (also used for sd_notify) sends them. */
function syslogTransport(ident: string): winston.transport {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const { loadBinding } = require('../native/binding') as typeof import('../native/binding');
        loadBinding().sendDatagram('/dev/log', chunk.toString().replace(/\n$/, ''));
      } catch {
        // syslog is best effort: the console line was written already
      }
      done();
    },
  });
  return new winston.transports.Stream({
    stream: sink,
    format: winston.format.printf(({ level, message }) => `<${3 * 8 + (PRIORITY[level as Level] ?? 6)}>${ident}[${process.pid}]: ${String(message)}`),
  });
}
