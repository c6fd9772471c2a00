// What counts as a lost connection, and the driver settings every
// connection of the store uses.

import type { ClientConfig } from 'pg';
import type { ResolvedPostgresOptions } from './options.js';

// SQLSTATE classes and codes that mean the session is gone, not that the
// statement was wrong: 08 connection exception, 57P01 terminated by an
// administrator (pg_terminate_backend), 57P02 crash shutdown, 57P03 server
// not accepting connections yet.
const LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03']);
const LOST_ERRNOS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** True when `err` says the connection dropped rather than the SQL failed. */
export function isConnectionLost(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (LOST_SQLSTATES.has(code) || code.startsWith('08')) return true;
    if (LOST_ERRNOS.has(code)) return true;
  }
  // The driver reports a socket closed under a running query with plain
  // Errors that carry no code.
  const message = String((err as { message?: unknown }).message ?? '');
  return (
    message.includes('Connection terminated') ||
    message.includes('connection error and is not queryable') ||
    message.includes('Client was closed and is not queryable')
  );
}

/** Driver settings shared by the pool and the notification listener. */
export function clientConfig(o: ResolvedPostgresOptions): ClientConfig {
  return {
    connectionString: o.connectionString,
    application_name: o.applicationName,
    connectionTimeoutMillis: o.connectTimeoutMs,
    // A peer that vanished without closing the socket (machine lost,
    // network cut) is noticed by TCP keepalive instead of never.
    keepAlive: true,
    ...(o.busyTimeoutMs === null ? {} : { lock_timeout: o.busyTimeoutMs }),
  };
}
