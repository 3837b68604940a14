/**
 * Where the server's JSON log lines go: stdout, written synchronously. Why not pino's default (async)
 * stdout: when the reader of a piped stdout goes away, the async stream's exit flush retries the failed
 * write (EPIPE) every 100 ms forever, so SIGTERM never ends the process. Written synchronously, the first
 * EPIPE turns logging off (pino's broken-pipe filter) and shutdown carries on.
 */
import pino from 'pino';

export function stdoutLogDestination(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}
