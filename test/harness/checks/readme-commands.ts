// The shell commands of README.md and which test runs each one: the README is a guide whose every command
// is tried, by test/unit/readme-commands.test.ts (what runs without daemons), by
// test/integration/readme-quickstart.test.ts (what needs the test environment's libvirtd and journal),
// or by CI itself (.ci/run). A README command that no entry below claims fails the unit test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../repo.js';

export const README_URL = pathToFileURL(path.join(REPO_ROOT, 'README.md'));

/** Who runs a README command. `evidence`: a file that shows it, and the text in it that does. */
export type Runner =
  | { by: 'unit' | 'integration' }
  | { by: 'ci' | 'bench'; evidence: { file: string; contains: string } };

export interface Claim {
  readonly command: RegExp;
  readonly runner: Runner;
}

const ci = (file: string, contains: string): Runner => ({ by: 'ci', evidence: { file, contains } });

export const CLAIMS: readonly Claim[] = [
  { command: /^npm ci$/, runner: ci('.ci/run', 'npm ci ') },
  { command: /^npm run build$/, runner: ci('package.json', '"test": "npm run build && ') },
  { command: /^npm test$/, runner: ci('.ci/run', '\nnpm test ') },
  // `npm test` runs every test file, the unit tests among them.
  { command: /^npm run test:unit$/, runner: ci('package.json', `"test:unit": "npm run build && ava 'dist/test/unit/**/*.test.js'"`) },
  { command: /^npm run bench:[a-z]+$/, runner: { by: 'bench', evidence: { file: 'package.json', contains: '"bench:' } } },
  { command: /^node dist\/cli\/main\.js generate /, runner: { by: 'unit' } },
  { command: /^libvirt-telemetry generate /, runner: { by: 'unit' } },
  { command: /^libvirt-telemetry parse /, runner: { by: 'unit' } },
  { command: /^node dist\/test\/env\/main\.js up$/, runner: { by: 'integration' } },
  { command: /^alias libvirt-telemetry=/, runner: { by: 'integration' } },
  { command: /^libvirt-telemetry (exporter|sidecar|events) /, runner: { by: 'integration' } },
  { command: /^curl /, runner: { by: 'integration' } },
  // Fluent Bit is not packaged for the test machine: the bench runs the generated configuration with a real one;
  // test/integration/readme-quickstart.test.ts runs this command too when $FLUENT_BIT or PATH has one.
  { command: /^fluent-bit -c \S+ &$/, runner: { by: 'bench', evidence: { file: 'bench/fluent-bit.ts', contains: "['-c', conf]" } } },
];

/**
 * The commands of the README's ```sh blocks, in order: one per line, comments dropped, `a && b` split,
 * a trailing `&` (run in the background) kept.
 */
export function readmeCommands(markdown = readFileSync(README_URL, 'utf8')): string[] {
  const blocks = [...markdown.matchAll(/^```sh\n(.*?)^```$/gms)].map((m) => m[1]!);
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/(^|\s+)#.*$/, '').trim())
    .filter((line) => line !== '')
    .flatMap((line) => line.split(' && ').map((c) => c.trim()));
}

/** The claims that match `command` (exactly one for a covered command). */
export function claimsOf(command: string): Claim[] {
  return CLAIMS.filter((c) => c.command.test(command));
}

/** The README commands one kind of runner must run. */
export function commandsRunBy(by: Runner['by']): string[] {
  return readmeCommands().filter((c) => claimsOf(c).some((claim) => claim.runner.by === by));
}
