// Entry of the operator process: validated config → Operator → run until SIGTERM/SIGINT.
import { ConfigError, loadOperatorConfig, type OperatorFlags } from './config.js';
import { Operator } from './operator.js';

export async function runOperator(flags: OperatorFlags, env: NodeJS.ProcessEnv): Promise<void> {
  let config;
  try {
    config = loadOperatorConfig(flags, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`clinops operator: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const operator = new Operator(config);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    operator.log.info('shutdown requested', { signal });
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    operator.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // A promise nobody handled means a state nobody reasoned about: say what it was and exit; the
  // Deployment starts a fresh process, and the standby (or the next pod) takes the lease.
  process.on('unhandledRejection', (reason) => {
    operator.log.error('unhandled rejection; exiting', { error: reason });
    process.exit(70);
  });
  await operator.start();
}
