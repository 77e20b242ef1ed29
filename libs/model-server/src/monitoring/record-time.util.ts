/**
 * MLRun's `when`: a UTC time as Python's `isoformat(sep=" ", timespec="microseconds")` writes it,
 * e.g. `2024-10-23 10:15:52.123456+00:00` — a space between date and time, always six fraction digits,
 * `+00:00` rather than `Z` (Python's `fromisoformat` before 3.11 refuses `Z`).
 *
 * @param epochMs epoch milliseconds, fractions allowed (microseconds are kept)
 * @publicApi
 */
export function mlrunWhen(epochMs: number): string {
  const micros = Math.round(epochMs * 1000);
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // 2024-10-23T10:15:52.123Z
  const sub = micros - ms * 1000;
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${sub < 10 ? '00' : sub < 100 ? '0' : ''}${sub}+00:00`;
}

/** An RFC 3339 UTC time with milliseconds (`2024-10-23T10:15:52.123Z`), as CloudEvents `time` wants. @publicApi */
export function rfc3339(epochMs: number): string {
  return new Date(Math.floor(epochMs)).toISOString();
}
