import { readFileSync } from 'node:fs';

export const PROGRAM = 'libvirt-telemetry';

/** The package's version (package.json at the package root; this file runs from dist/runtime/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
