// Where the project lives, found from this file rather than process.cwd()
// so `npx duckqueue bench` works from any folder.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: where package.json and node_modules (tsx) are. */
export const PROJECT_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
);
