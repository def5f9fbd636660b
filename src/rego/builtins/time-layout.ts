/**
 * Go's reference-time layouts ("2006-01-02T15:04:05Z07:00") for time.format and time.parse_ns,
 * and OPA's time.diff. Times are exact nanoseconds (bigint); zones are "UTC", "Local" (taken as
 * UTC: the gateway's wall clock is not policy input) or IANA names through Intl.
 */

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Go's named layouts, as OPA accepts them. */
export const NAMED_LAYOUTS: Readonly<Record<string, string>> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  Stamp: 'Jan _2 15:04:05',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
};

// Longest first, so "2006" wins over "2" and "Z07:00" over "Z07".
const TOKENS = [
  'January',
  'Monday',
  'Z07:00:00',
  '-07:00:00',
  'Z070000',
  '-070000',
  'Z07:00',
  '-07:00',
  'Z0700',
  '-0700',
  'Jan',
  'Mon',
  'MST',
  '2006',
  'Z07',
  '-07',
  '002',
  '01',
  '02',
  '_2',
  '06',
  '15',
  '03',
  '04',
  '05',
  'PM',
  'pm',
  '1',
  '2',
  '3',
  '4',
  '5',
];

/** Wall-clock parts of a time in a zone. */
export interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  weekday: number;
  offsetSeconds: number;
  zone: string;
}

/** The wall clock of `ns` in `zone`; undefined for an unknown zone. */
export function wallClock(ns: bigint, zone: string): Wall | undefined {
  const ms = ns / 1_000_000n - (ns % 1_000_000n < 0n ? 1n : 0n);
  const nanos = Number(ns - ms * 1_000_000n) + Number(ms % 1000n) * 1_000_000;
  const date = new Date(Number(ms));
  let offsetSeconds = 0;
  let name = 'UTC';
  if (zone !== '' && zone !== 'UTC' && zone !== 'Local') {
    try {
      const fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        timeZoneName: 'short',
      });
      const p = Object.fromEntries(fmt.formatToParts(date).map((x) => [x.type, x.value]));
      const local = Date.UTC(
        Number(p.year),
        Number(p.month) - 1,
        Number(p.day),
        Number(p.hour),
        Number(p.minute),
        Number(p.second),
      );
      offsetSeconds = Math.round((local - Math.floor(Number(ms) / 1000) * 1000) / 1000);
      name = p.timeZoneName ?? zone;
    } catch {
      return undefined;
    }
  }
  const shifted = new Date(Number(ms) + offsetSeconds * 1000);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
    second: shifted.getUTCSeconds(),
    nanos,
    weekday: shifted.getUTCDay(),
    offsetSeconds,
    zone: name,
  };
}

const pad = (n: number, width: number): string => String(Math.abs(n)).padStart(width, '0');

function offsetText(seconds: number, token: string): string {
  if (seconds === 0 && token.startsWith('Z')) return 'Z';
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  const hh = pad(Math.floor(abs / 3600), 2);
  const mm = pad(Math.floor((abs % 3600) / 60), 2);
  const ss = pad(abs % 60, 2);
  const body = token.replace(/^Z/, '-');
  if (body === '-07') return `${sign}${hh}`;
  if (body === '-0700') return `${sign}${hh}${mm}`;
  if (body === '-070000') return `${sign}${hh}${mm}${ss}`;
  if (body === '-07:00') return `${sign}${hh}:${mm}`;
  return `${sign}${hh}:${mm}:${ss}`;
}

/** Formats a wall clock with a Go layout. */
export function formatLayout(w: Wall, layout: string): string {
  let out = '';
  let i = 0;
  while (i < layout.length) {
    // Fractional seconds: ".000" (fixed) or ".999" (trailing zeros trimmed).
    const frac = /^[.,](0+|9+)/.exec(layout.slice(i));
    if (frac?.[1] && !/\d/.test(layout[i + frac[0].length] ?? '')) {
      const digits = frac[1].length;
      let text = String(w.nanos).padStart(9, '0').slice(0, digits);
      if (frac[1][0] === '9') text = text.replace(/0+$/, '');
      if (text !== '') out += `${frac[0][0]}${text}`;
      i += frac[0].length;
      continue;
    }
    const token = TOKENS.find((t) => layout.startsWith(t, i));
    if (!token) {
      out += layout[i];
      i++;
      continue;
    }
    i += token.length;
    const h12 = w.hour % 12 === 0 ? 12 : w.hour % 12;
    const text: Record<string, () => string> = {
      January: () => MONTHS[w.month - 1] ?? '',
      Jan: () => (MONTHS[w.month - 1] ?? '').slice(0, 3),
      Monday: () => DAYS[w.weekday] ?? '',
      Mon: () => (DAYS[w.weekday] ?? '').slice(0, 3),
      MST: () => w.zone,
      '2006': () => pad(w.year, 4),
      '06': () => pad(w.year % 100, 2),
      '01': () => pad(w.month, 2),
      '1': () => String(w.month),
      '02': () => pad(w.day, 2),
      _2: () => String(w.day).padStart(2, ' '),
      '2': () => String(w.day),
      '002': () => pad(dayOfYear(w), 3),
      '15': () => pad(w.hour, 2),
      '03': () => pad(h12, 2),
      '3': () => String(h12),
      '04': () => pad(w.minute, 2),
      '4': () => String(w.minute),
      '05': () => pad(w.second, 2),
      '5': () => String(w.second),
      PM: () => (w.hour >= 12 ? 'PM' : 'AM'),
      pm: () => (w.hour >= 12 ? 'pm' : 'am'),
    };
    out += text[token]?.() ?? offsetText(w.offsetSeconds, token);
  }
  return out;
}

function dayOfYear(w: Wall): number {
  return (Date.UTC(w.year, w.month - 1, w.day) - Date.UTC(w.year, 0, 1)) / 86_400_000 + 1;
}

/** Parses `value` with a Go layout into nanoseconds; undefined when it does not match. */
export function parseLayout(layout: string, value: string): bigint | undefined {
  let year = 1;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let pm: boolean | undefined;
  let offset = 0;
  let v = 0;
  const num = (min: number, max: number): number | undefined => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(value.slice(v));
    if (!m) return undefined;
    v += m[0].length;
    return Number(m[0]);
  };
  for (let i = 0; i < layout.length;) {
    const frac = /^[.,](0+|9+)/.exec(layout.slice(i));
    if (frac && !/\d/.test(layout[i + frac[0].length] ?? '')) {
      i += frac[0].length;
      const m = /^[.,](\d+)/.exec(value.slice(v));
      if (m?.[1]) {
        nanos = Number(m[1].slice(0, 9).padEnd(9, '0'));
        v += m[0].length;
      } else if (frac[1]?.[0] === '0') return undefined;
      continue;
    }
    const token = TOKENS.find((t) => layout.startsWith(t, i));
    if (!token) {
      if (value[v] !== layout[i]) return undefined;
      i++;
      v++;
      continue;
    }
    i += token.length;
    let n: number | undefined;
    switch (token) {
      case 'January':
      case 'Jan': {
        const idx = MONTHS.findIndex((name) =>
          value.startsWith(token === 'Jan' ? name.slice(0, 3) : name, v),
        );
        if (idx < 0) return undefined;
        v += token === 'Jan' ? 3 : (MONTHS[idx] ?? '').length;
        month = idx + 1;
        continue;
      }
      case 'Monday':
      case 'Mon': {
        const idx = DAYS.findIndex((name) =>
          value.startsWith(token === 'Mon' ? name.slice(0, 3) : name, v),
        );
        if (idx < 0) return undefined;
        v += token === 'Mon' ? 3 : (DAYS[idx] ?? '').length;
        continue;
      }
      case 'MST': {
        const m = /^[A-Z]{3,5}/.exec(value.slice(v));
        if (!m) return undefined;
        v += m[0].length;
        continue;
      }
      case 'PM':
      case 'pm': {
        const m = /^(AM|PM|am|pm)/.exec(value.slice(v));
        if (!m?.[1]) return undefined;
        pm = m[1].toUpperCase() === 'PM';
        v += 2;
        continue;
      }
      case '2006':
        n = num(4, 4);
        if (n !== undefined) year = n;
        break;
      case '06':
        n = num(2, 2);
        if (n !== undefined) year = n >= 69 ? 1900 + n : 2000 + n;
        break;
      case '01':
      case '1':
        n = num(token.length, 2);
        if (n !== undefined) month = n;
        break;
      case '02':
      case '2':
      case '_2':
        if (token === '_2' && value[v] === ' ') v++;
        n = num(token === '02' ? 2 : 1, 2);
        if (n !== undefined) day = n;
        break;
      case '15':
      case '03':
      case '3':
        n = num(token === '3' ? 1 : 2, 2);
        if (n !== undefined) hour = n;
        break;
      case '04':
      case '4':
        n = num(token.length, 2);
        if (n !== undefined) minute = n;
        break;
      case '05':
      case '5': {
        n = num(token.length, 2);
        if (n !== undefined) second = n;
        // As in Go, a fraction may follow the seconds even when the layout has none.
        const fraction = /^[.,](\d+)/.exec(value.slice(v));
        if (fraction?.[1] && !/^[.,][09]/.test(layout.slice(i))) {
          nanos = Number(fraction[1].slice(0, 9).padEnd(9, '0'));
          v += fraction[0].length;
        }
        break;
      }
      case '002':
        n = num(3, 3);
        break;
      default: {
        // Zone offsets: "Z" for UTC when the token allows it, else a signed offset.
        if (token.startsWith('Z') && value[v] === 'Z') {
          v++;
          continue;
        }
        const m = /^([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?/.exec(value.slice(v));
        if (!m) return undefined;
        v += m[0].length;
        const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
        offset = m[1] === '-' ? -secs : secs;
        continue;
      }
    }
    if (n === undefined) return undefined;
  }
  if (v !== value.length) return undefined;
  if (pm !== undefined) hour = (hour % 12) + (pm ? 12 : 0);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (Number.isNaN(ms)) return undefined;
  return (BigInt(ms) - BigInt(offset) * 1000n) * 1_000_000n + BigInt(nanos);
}

/** OPA's time.diff: [years, months, days, hours, minutes, seconds] between two wall clocks. */
export function diffWalls(a: Wall, b: Wall): number[] {
  let year = b.year - a.year;
  let month = b.month - a.month;
  let day = b.day - a.day;
  let hour = b.hour - a.hour;
  let minute = b.minute - a.minute;
  let second = b.second - a.second;
  if (second < 0) {
    second += 60;
    minute--;
  }
  if (minute < 0) {
    minute += 60;
    hour--;
  }
  if (hour < 0) {
    hour += 24;
    day--;
  }
  if (day < 0) {
    // Borrow the length of a's month, as Go's time.Date(y, m, 32) normalisation gives it.
    day += new Date(Date.UTC(a.year, a.month, 0)).getUTCDate();
    month--;
  }
  if (month < 0) {
    month += 12;
    year--;
  }
  return [year, month, day, hour, minute, second];
}
