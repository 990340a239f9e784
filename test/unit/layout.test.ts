// The layout stays true: every source file's imports are read and checked against the layers.
//   cli/                                   the front door: may import anything below
//   generator/ sidecar/ exporter/ events/  the roles: import the shared layers only, never each other
//   parsers/ libvirt/                      shared layers: import runtime/ only, never each other
//   runtime/                               the kernel every role shares: imports nothing of the package
// and no two files import each other, directly or around a circle (type-only imports count: a circle
// of types still ties two modules into one).
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../harness/repo.js';


const LAYERS: Record<string, { rank: number; may: string[] }> = {
  cli: { rank: 3, may: ['generator', 'sidecar', 'exporter', 'events', 'parsers', 'libvirt', 'runtime'] },
  generator: { rank: 2, may: ['parsers', 'libvirt', 'runtime'] },
  sidecar: { rank: 2, may: ['parsers', 'libvirt', 'runtime'] },
  exporter: { rank: 2, may: ['parsers', 'libvirt', 'runtime'] },
  events: { rank: 2, may: ['parsers', 'libvirt', 'runtime'] },
  parsers: { rank: 1, may: ['runtime'] },
  libvirt: { rank: 1, may: ['runtime'] },
  runtime: { rank: 0, may: [] },
};

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const full = path.join(directory, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

// Static imports and re-exports (`import … from 'x'`, `import 'x'`, `export … from 'x'`) and dynamic
// `import('x')` with a literal specifier; comments are removed first so an example in one is not read.
const IMPORT = /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2]!;
    if (!specifier.startsWith('.')) continue;
    found.push(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
  }
  return found;
}

const layerOf = (file: string) => path.relative(REPO_ROOT, file).split(path.sep)[0]!;

const FILES = Object.keys(LAYERS)
  .filter((layer) => { try { return statSync(path.join(REPO_ROOT, layer)).isDirectory(); } catch { return false; } })
  .flatMap((layer) => sourceFiles(path.join(REPO_ROOT, layer)));
const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)]));
const rel = (file: string) => path.relative(REPO_ROOT, file);

test('every layer of the layout exists and holds source', (t) => {
  for (const layer of Object.keys(LAYERS)) {
    t.true(FILES.some((file) => layerOf(file) === layer), `${layer}/ has no source file`);
  }
});

test('roles import only the shared layers, and nothing imports upward', (t) => {
  const wrong: string[] = [];
  for (const [file, imports] of GRAPH) {
    const from = layerOf(file);
    for (const target of imports) {
      const to = layerOf(target);
      if (to === from) continue;
      if (!(to in LAYERS)) wrong.push(`${rel(file)} -> ${rel(target)} (outside the package's source layers)`);
      else if (!LAYERS[from]!.may.includes(to)) wrong.push(`${rel(file)} -> ${rel(target)} (${from}/ may import ${LAYERS[from]!.may.join(', ') || 'nothing'})`);
    }
  }
  t.deepEqual(wrong, []);
});

test('every relative import names a file of the package', (t) => {
  const missing = [...GRAPH].flatMap(([file, imports]) => imports.filter((target) => !GRAPH.has(target) && layerOf(target) in LAYERS).map((target) => `${rel(file)} -> ${rel(target)}`));
  t.deepEqual(missing, []);
});

/** Strongly connected components of more than one file (Tarjan), or a file importing itself. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next); low.set(node, next); next++;
    stack.push(node); onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) { visit(target); low.set(node, Math.min(low.get(node)!, low.get(target)!)); }
      else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do { member = stack.pop()!; onStack.delete(member); component.push(member); } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.map(rel).sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

test('no import cycles', (t) => {
  t.deepEqual(cycles(GRAPH), []);
});

test('the checks catch a role->role import and a cycle', (t) => {
  const a = path.join(REPO_ROOT, 'sidecar', 'a.ts');
  const b = path.join(REPO_ROOT, 'events', 'b.ts');
  t.deepEqual(cycles(new Map([[a, [b]], [b, [a]]])), [['events/b.ts', 'sidecar/a.ts']]);
  t.false(LAYERS['sidecar']!.may.includes(layerOf(b)));
  t.deepEqual([...'import type { X } from \'./x.js\';\nexport { y } from "../y.js";\nconst m = await import(\'./m.js\');'.matchAll(IMPORT)].map((m) => m[1] ?? m[2]), ['./x.js', '../y.js', './m.js']);
});
