// sd_notify(3) for the daemon: READY=1 once sources and kernel are set up,
// human-readable STATUS= lines, STOPPING=1 and WATCHDOG=1 keep-alives, sent as
// one unix datagram each to $NOTIFY_SOCKET (a path or an "@abstract" name).
// Node has no unix datagram sockets, so the addon's sendDatagram does the send.
// Outside systemd (no NOTIFY_SOCKET) every call is a no-op. A failed send is
// reported once and then swallowed: the notifier must never crash the daemon.
import { loadBinding } from '../native/binding';

export interface Notifier {
  /** READY=1 with a first STATUS= line and MAINPID=. */
  ready(status: string): void;
  /** STATUS=text, shown by `systemctl status`. */
  status(text: string): void;
  /** STOPPING=1, before the daemon starts shutting down. */
  stopping(): void;
  /** WATCHDOG=1; sent only when the watchdog is enabled for this process. */
  watchdog(): void;
  /**
   * The WatchdogSec= timeout in ms from WATCHDOG_USEC (null when the watchdog is off or
   * WATCHDOG_PID names another process). Ping at least every half of it (sd_watchdog_enabled(3)).
   */
  readonly watchdogIntervalMs: number | null;
}

export type SendDatagram = (socketPath: string, message: string) => void;
export type ReportError = (message: string) => void;

/** Status text must stay on one line: a newline would start a new notify variable. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

/** WATCHDOG_USEC in ms, honouring WATCHDOG_PID (set only when it names us). */
export function watchdogIntervalFrom(env: NodeJS.ProcessEnv, pid: number = process.pid): number | null {
  const usecText = env.WATCHDOG_USEC;
  if (!usecText || !/^\d+$/.test(usecText)) return null;
  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && pidText !== '' && Number(pidText) !== pid) return null;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  return Math.max(1, Math.floor(usec / 1000));
}

const defaultSend: SendDatagram = (socketPath, message) => loadBinding().sendDatagram(socketPath, message);
const defaultReport: ReportError = (message) => {
  process.stderr.write(`vrngd: warning: ${message}\n`);
};

export function createNotifier(
  env: NodeJS.ProcessEnv = process.env,
  send: SendDatagram = defaultSend,
  report: ReportError = defaultReport,
): Notifier {
  const socketPath = env.NOTIFY_SOCKET;
  const watchdogIntervalMs = watchdogIntervalFrom(env);
  if (!socketPath) {
    return { ready() {}, status() {}, stopping() {}, watchdog() {}, watchdogIntervalMs: null };
  }
  let reported = false;
  const notify = (message: string): void => {
    try {
      if (socketPath[0] !== '/' && socketPath[0] !== '@') throw new Error('not an absolute path or @abstract name');
      send(socketPath, message);
    } catch (e: unknown) {
      if (reported) return;
      reported = true;
      const reason = e instanceof Error ? e.message : String(e);
      try {
        report(`sd_notify to ${socketPath} failed (${reason}); further failures are not reported`);
      } catch {
        // the reporter must not crash the daemon either
      }
    }
  };
  return {
    ready(status) {
      notify(`READY=1\nSTATUS=${oneLine(status)}\nMAINPID=${process.pid}`);
    },
    status(text) {
      notify(`STATUS=${oneLine(text)}`);
    },
    stopping() {
      notify('STOPPING=1');
    },
    watchdog() {
      if (watchdogIntervalMs !== null) notify('WATCHDOG=1');
    },
    watchdogIntervalMs,
  };
}
