// Entry point of `npm run bench:baseline`; the work is in
// src/bench/baseline-cli.ts so tests can call it directly.
import { run } from '../src/bench/baseline-cli.js';

process.exitCode = await run(process.argv.slice(2));
