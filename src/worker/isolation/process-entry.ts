// Entry point of a job child process: the runtime on the IPC channel
// (opened with serialization 'advanced', so Uint8Array and Map cross).

import { serveJobs } from './runtime.js';
import type { FromIsolate, ToIsolate } from './protocol.js';

if (!process.send) {
  throw new Error('process-entry.ts must be started with an IPC channel');
}

serveJobs({
  send(message: FromIsolate) {
    return new Promise((resolve) => {
      // A closed channel means the supervisor is gone; nothing to report.
      process.send!(message, undefined, undefined, () => resolve());
    });
  },
  onMessage(handler) {
    process.on('message', (message) => handler(message as ToIsolate));
  },
  exit(code) {
    process.exit(code);
  },
});

// Without a supervisor there is no one to serve.
process.on('disconnect', () => process.exit(0));
