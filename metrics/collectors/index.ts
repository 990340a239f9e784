// Every collector, in the order their metrics appear in the output.
import { collectBlock } from './block.js';
import { collectCpu } from './cpu.js';
import { collectExporter } from './exporter.js';
import { collectMemory } from './memory.js';
import { collectNet } from './net.js';
import { collectOpenstack } from './openstack.js';
import { collectState } from './state.js';
import type { Collector } from './types.js';
import { collectVcpu } from './vcpu.js';
import { RegistryWriter, type ContentType } from '../exposition.js';
import type { Snapshot } from '../snapshot.js';

export const COLLECTORS: readonly Collector[] = [
  collectExporter,
  collectState,
  collectCpu,
  collectVcpu,
  collectMemory,
  collectBlock,
  collectNet,
  collectOpenstack,
];

/**
 * The last scrape's snapshot and registry, held until the next scrape replaces them. V8 frees a hidden class
 * once no object of it is left and discards all code optimized for it; nothing of a scrape would outlive it,
 * so each full collection between scrapes (one every few) threw away the optimized collectors, views and
 * prom-client's formatting, and the next scrape ran unoptimized while they were compiled again. Measured with
 * 1000 domains: 25 deoptimizations and 47 recompilations per 10 scrapes before, none after; CPU per scrape
 * 42 → 28 ms. The price is one scrape's objects (about 1 MB per 1000 domains); holding one domain of the
 * snapshot instead was not enough: the collectors still lost their optimized code.
 */
const lastScrape: { held?: { snapshot: Snapshot; writer: RegistryWriter } } = {};

/** The exposition text of one snapshot, in the negotiated format. */
export async function renderSnapshot(snapshot: Snapshot, contentType: ContentType): Promise<string> {
  const writer = new RegistryWriter(contentType);
  for (const collect of COLLECTORS) collect(snapshot, writer);
  const text = await writer.render();
  lastScrape.held = { snapshot, writer };
  return text;
}
