// Resident memory of a process as the kernel reports it in /proc/<pid>/status, in bytes.
import { readFileSync } from 'node:fs';

/** VmRSS (now) and VmHWM (the peak since start); NaN when a field is missing. */
export function processMemory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}
