import { Inject, Injectable } from '@nestjs/common';
import { Logger, Params, PARAMS_PROVIDER_TOKEN, PinoLogger } from 'nestjs-pino';
import pino from 'pino';

/**
 * Nest's own start-up chatter — a line per module loaded and per route mapped — is
 * worth reading when debugging, not on every start: those contexts log at debug.
 */
const START_UP_CHATTER = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** The application logger: nestjs-pino's, with the start-up chatter turned down. */
@Injectable()
export class AppLogger extends Logger {
  constructor(logger: PinoLogger, @Inject(PARAMS_PROVIDER_TOKEN) params: Params) {
    super(logger, params);
  }

  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams[optionalParams.length - 1];
    if (typeof context === 'string' && START_UP_CHATTER.has(context)) {
      super.debug(message, ...optionalParams);
      return;
    }
    super.log(message, ...optionalParams);
  }
}

/**
 * How log lines are written: `pretty` (one coloured line per entry, for people) or
 * `json` (one JSON object per line, for machines). `auto` is pretty when stdout is a
 * terminal outside production, JSON otherwise.
 */
export type LogFormat = 'auto' | 'pretty' | 'json';

export function prettyLogs(format: LogFormat, nodeEnv: string): boolean {
  if (format !== 'auto') return format === 'pretty';
  return process.stdout.isTTY === true && nodeEnv !== 'production';
}

/** pino-pretty as a pino transport (a worker thread: formatting stays off the event loop). */
export const PRETTY_TRANSPORT = {
  target: 'pino-pretty',
  options: {
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,context,req,res,responseTime',
    messageFormat:
      '{if context}[{context}] {end}{msg}{if req} {req.method} {req.url} → {res.statusCode} in {responseTime} ms{end}',
  },
};

/**
 * JSON lines to stdout, written a few KB at a time instead of one write per line: a line
 * per request cost a system call per request. Nothing waits longer than 200 ms, and pino
 * writes what is left synchronously when the process exits.
 */
export function bufferedStdout(): pino.DestinationStream {
  const destination = pino.destination({ dest: 1, minLength: 4096, sync: false });
  setInterval(() => destination.flush(), 200).unref();
  return destination;
}
