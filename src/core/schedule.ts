// Cron expressions (node-cron 3 syntax: 5 or 6 fields, seconds optional) and the
// next time one fires. Pure. node-cron parses and validates; the daemon arms ONE
// timer for the next match instead of running node-cron's task loop, because that
// loop wakes the process every second per task (measured: 24–31 voluntary context
// switches per 20 s for two tasks; an idle bare node has 0). One timer per
// scheduled event is the whole idle cost.
// Only node-cron's validator and converter are loaded, not its index: that loads the
// task loop, the scheduler and uuid (28.9 vs 6.5 CPU-ms per start, issue 16). The
// index's validate(e) is exactly "validation(e) does not throw".
// eslint-disable-next-line @typescript-eslint/no-var-requires
const validation = require('node-cron/src/pattern-validation') as (expression: string) => void;
const cron = {
  validate(expression: string): boolean {
    try {
      validation(expression);
      return true;
    } catch {
      return false;
    }
  },
};
// eslint-disable-next-line @typescript-eslint/no-var-requires
const convertExpression = require('node-cron/src/convert-expression') as (expression: string) => string;

export function isValidCron(expression: string): boolean {
  try {
    return cron.validate(expression) && expression.trim().split(/\s+/).length >= 5;
  } catch {
    return false;
  }
}

/** node-cron's fields after conversion: seconds, minutes, hours, day, month, weekday as sets. */
function fields(expression: string): Array<Set<number>> {
  return convertExpression(expression)
    .split(' ')
    .map((f) => new Set(f.split(',').map(Number)));
}

/**
 * The first local time strictly after `after` at which `expression` fires (node-cron
 * semantics: every field must match, day-of-month AND weekday). null if none in 5 years.
 */
export function nextCronTime(expression: string, after: Date): Date | null {
  const [sec, min, hour, day, month, weekday] = fields(expression) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);
  const secs = sorted(sec);
  const mins = sorted(min);
  const hours = sorted(hour);
  const start = new Date(after.getTime());
  start.setMilliseconds(0);
  const d = new Date(start.getFullYear(), start.getMonth(), start.getDate());
  for (let i = 0; i < 366 * 5; i++, d.setDate(d.getDate() + 1)) {
    if (!day.has(d.getDate()) || !month.has(d.getMonth() + 1) || !weekday.has(d.getDay())) continue;
    for (const h of hours)
      for (const m of mins)
        for (const s of secs) {
          const t = new Date(d.getFullYear(), d.getMonth(), d.getDate(), h, m, s);
          // a DST gap moves the wall-clock time; accept only the time asked for
          if (t.getHours() !== h || t.getMinutes() !== m) continue;
          if (t.getTime() > after.getTime()) return t;
        }
  }
  return null;
}
