// Runs a command with DATABASE_URL set: to $DATABASE_URL when given, else to a throwaway embedded
// PostgreSQL started for the command and stopped after it (what `npm test` uses).
// Usage: node scripts/with-postgres.mjs <command> [args...]
import { spawn } from 'node:child_process';
import { startPostgres } from './postgres.mjs';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node scripts/with-postgres.mjs <command> [args...]');
  process.exit(2);
}
const pg = await startPostgres();
let code = 1;
try {
  // async spawn: this process keeps draining the embedded server's log pipe meanwhile
  code = await new Promise(resolve => {
    const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, DATABASE_URL: pg.url } });
    child.on('exit', c => resolve(c ?? 1));
    child.on('error', () => resolve(1));
  });
} finally {
  await pg.stop();
}
process.exit(code);
