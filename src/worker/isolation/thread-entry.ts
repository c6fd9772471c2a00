// Entry point of a job thread: the runtime on the thread's message port.

import { parentPort } from 'node:worker_threads';
import { serveJobs } from './runtime.js';
import type { ToIsolate } from './protocol.js';

const port = parentPort;
if (!port) {
  throw new Error('thread-entry.ts runs only inside a worker thread');
}

serveJobs({
  async send(message) {
    port.postMessage(message);
  },
  onMessage(handler) {
    port.on('message', (message: ToIsolate) => handler(message));
  },
  exit(code) {
    process.exit(code);
  },
});
