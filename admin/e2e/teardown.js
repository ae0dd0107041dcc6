import fs from 'node:fs';
import { PID_FILE } from './env.js';

export default async function teardown() {
  try {
    const pid = Number(fs.readFileSync(PID_FILE, 'utf8'));
    if (pid) process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}
