// The memory policy of the long-running roles (exporter, sidecar). Both flags are read at run time,
// so they take effect on a running process.
import v8 from 'node:v8';

/**
 * Left to its defaults, V8 grows the young generation to 2 × 16 MiB as soon as allocation is busy;
 * most of that is resident and none of it is needed: objects live for one scrape or one read chunk.
 * It stays at its initial size instead (1 MiB semi-spaces): more frequent scavenges of the same few
 * live objects.
 */
export function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * A full collection once the old generation grew by half over what the last one kept. By default
 * V8 lets it grow several-fold first: promoted garbage of a busy sidecar took 8 MiB live to 26 MiB
 * resident. The collections this adds take milliseconds each.
 */
export function collectOldGenerationEarly(): void {
  v8.setFlagsFromString('--heap-growing-percent=50');
}
