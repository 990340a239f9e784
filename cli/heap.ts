// The memory policy of the long-running roles (exporter, sidecar). Left to its defaults, V8 grows
// the young generation to 2 × 16 MiB as soon as allocation is busy; most of that is resident and
// none of it is needed: their objects live for one scrape or one read chunk. The young generation
// stays at its initial size instead (1 MiB semi-spaces): more frequent scavenges of the same few
// live objects.
import v8 from 'node:v8';

export function keepYoungGenerationSmall(): void {
  // Read at every scavenge, so it takes effect on a running process.
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
