// Timestamps of the log formats, normalised to ISO 8601 UTC (`…Z`) without losing precision.
// The common case (already UTC) is string surgery; other offsets go through Date arithmetic.
// A timestamp of the right shape that names no real instant (month 13, 99:99:99) gives null:
// every record time must be one a downstream store accepts.

/** Two decimal digits at `at`. */
function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
}

/** `YYYY-MM-DD` and `hh:mm:ss` name a real instant (no leap second: few stores take one). */
function isRealInstant(date: string, clock: string): boolean {
  const month = twoDigits(date, 5);
  const day = twoDigits(date, 8);
  if (month < 1 || month > 12 || day < 1) return false;
  if (twoDigits(clock, 0) > 23 || twoDigits(clock, 3) > 59 || twoDigits(clock, 6) > 59) return false;
  if (day <= 28) return true;
  const year = Number(date.slice(0, 4));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** `2024-05-01 08:14:02.417+0000` (libvirt) -> `2024-05-01T08:14:02.417Z`; null if not a real instant. */
export function libvirtTimeToIso(text: string): string | null {
  const date = text.slice(0, 10);
  const clock = text.slice(11, 23);
  if (!isRealInstant(date, clock)) return null;
  const offset = text.slice(23);
  if (offset === '+0000' || offset === '-0000') return `${date}T${clock}Z`;
  return shiftToUtc(date, clock.slice(0, 8), clock.slice(9), offsetMinutes(offset));
}

/** QEMU `2024-05-01T10:15:30.688512Z`; QEMU drops the fraction when it is 0, so it is padded back to µs. Null if not a real instant. */
export function qemuTimeToIso(text: string): string | null {
  if (!isRealInstant(text.slice(0, 10), text.slice(11, 19))) return null;
  if (text.length === 27) return text;
  const fraction = text.length > 20 ? text.slice(20, -1) : '';
  return `${text.slice(0, 19)}.${fraction.padEnd(6, '0')}Z`;
}

const RFC3339 = /^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:?[0-9]{2})$/;

/**
 * RFC 3339 with any offset (CRI's RFC3339Nano trims trailing zeros of the ns fraction, so the
 * fraction is padded back to 9 digits). Returns null for text that is not such a timestamp.
 */
export function rfc3339ToIso(text: string): string | null {
  const m = RFC3339.exec(text);
  if (!m || !isRealInstant(m[1]!, m[2]!)) return null;
  const fraction = (m[3] ?? '').padEnd(9, '0');
  const zone = m[4]!;
  if (zone === 'Z' || zone === 'z') return `${m[1]}T${m[2]}.${fraction}Z`;
  return shiftToUtc(m[1]!, m[2]!, fraction, offsetMinutes(zone));
}

/** A journal `__REALTIME_TIMESTAMP` (µs since the epoch, decimal string) -> ISO with µs; null if not one. */
export function epochMicrosToIso(text: string): string | null {
  if (!/^[0-9]{1,16}$/.test(text)) return null;
  const micros = Number(text);
  const millis = Math.floor(micros / 1000);
  const iso = new Date(millis).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

/** `+0200`, `-05:30` -> minutes east of UTC. */
function offsetMinutes(offset: string): number {
  const digits = offset.replace(':', '');
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  return digits[0] === '-' ? -minutes : minutes;
}

function shiftToUtc(date: string, clock: string, fraction: string, offset: number): string | null {
  const local = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC takes years 0–99 for 1900–1999.
  local.setUTCFullYear(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
  local.setUTCHours(Number(clock.slice(0, 2)), Number(clock.slice(3, 5)), Number(clock.slice(6, 8)));
  const shifted = new Date(local.getTime() - offset * 60_000);
  // An offset can push year 0000 or 9999 out of the four-digit years of RFC 3339.
  const year = shifted.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) return null;
  const utc = shifted.toISOString().slice(0, 19);
  return fraction ? `${utc}.${fraction}Z` : `${utc}Z`;
}
