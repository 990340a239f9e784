import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (helpers run from dist/test/helpers/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The shared references and samples, next to the repository. */
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
