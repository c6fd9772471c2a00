// Real inputs for the suites, loaded from data that npm packages ship:
// GitHub webhook example payloads as typical job arguments, mime-db's
// db.json as one large JSON document. Nothing here is invented, so sizes
// and times describe what a queue would really carry.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface Payload {
  /** Stable id used in metric ids, e.g. 'push'. */
  id: string;
  /** Where the data comes from, for the report. */
  source: string;
  value: unknown;
  /** Size of the value as compact JSON, for orientation. */
  jsonBytes: number;
}

interface WebhookGroup {
  name: string;
  examples: Array<Record<string, unknown>>;
}

export class MissingInputError extends Error {
  constructor(what: string, fix: string) {
    super(`benchmark input ${what} is missing: ${fix}`);
    this.name = 'MissingInputError';
  }
}

function loadWebhooks(): WebhookGroup[] {
  try {
    return require('@octokit/webhooks-examples') as WebhookGroup[];
  } catch {
    throw new MissingInputError(
      '@octokit/webhooks-examples',
      'run `npm ci` (it is a dev dependency)',
    );
  }
}

function webhook(
  groups: WebhookGroup[],
  event: string,
  action?: string,
): Record<string, unknown> {
  const group = groups.find((g) => g.name === event);
  const example = group?.examples.find(
    (e) => action === undefined || e['action'] === action,
  );
  if (!example) {
    throw new MissingInputError(
      `webhook example '${event}${action ? `.${action}` : ''}'`,
      'the installed @octokit/webhooks-examples no longer ships it; pick ' +
        'another event in src/bench/inputs.ts',
    );
  }
  // A private copy, so no suite can change what another one measures.
  return structuredClone(example);
}

function payload(id: string, source: string, value: unknown): Payload {
  return {
    id,
    source,
    value,
    jsonBytes: Buffer.byteLength(JSON.stringify(value)),
  };
}

/**
 * The payload set, smallest to largest: three webhook events a job queue
 * typically receives, and the 200 KB mime-db document.
 */
export function loadPayloads(): Payload[] {
  const groups = loadWebhooks();
  const hooks = '@octokit/webhooks-examples';
  let mimeDb: unknown;
  try {
    mimeDb = JSON.parse(readFileSync(require.resolve('mime-db/db.json'), 'utf8'));
  } catch {
    throw new MissingInputError('mime-db/db.json', 'run `npm ci`');
  }
  return [
    payload('push', `${hooks} push`, webhook(groups, 'push')),
    payload(
      'issueOpened',
      `${hooks} issues.opened`,
      webhook(groups, 'issues', 'opened'),
    ),
    payload(
      'pullRequestOpened',
      `${hooks} pull_request.opened`,
      webhook(groups, 'pull_request', 'opened'),
    ),
    payload('mimeDb', 'mime-db db.json', mimeDb),
  ];
}

/** The typical job argument: one push event. */
export function typicalJobArgument(): Record<string, unknown> {
  return webhook(loadWebhooks(), 'push');
}
