// A `comops serve` of a spec's own, for specs that need more than the
// shared server's demo bots: a fresh SQLite database, users and tokens
// made with the real CLI, then `serve` with the spec's flags on its port.
// `stop` ends that process only.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type User = { email: string; password: string; role: string };
export type TokenRequest = { name: string; bots: string; actions: string };

export type OwnServer = {
  base: string;
  /** Secrets of the requested tokens, in order. */
  tokens: string[];
  stop: () => void;
};

export async function startOwnServer(options: { name: string; port: number; flags?: string[]; users?: User[]; tokens?: TokenRequest[] }): Promise<OwnServer> {
  const bin = process.env.COMOPS_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? '', '.cache/comops-target'), 'debug/comops');
  const data = mkdtempSync(join(tmpdir(), `comops-e2e-${options.name}.`));
  const env = { ...process.env, DATABASE_URL: `sqlite://${data}/comops.db` };
  execFileSync(bin, ['migrate'], { env });
  for (const user of options.users ?? []) {
    execFileSync(bin, ['user', 'create', '--email', user.email, '--role', user.role, '--password', user.password], { env });
  }
  const tokens = (options.tokens ?? []).map((t) => {
    const issued = execFileSync(bin, ['token', 'issue', '--name', t.name, '--bots', t.bots, '--actions', t.actions], { env }).toString();
    return /secret \(shown once\): (\S+)/.exec(issued)?.[1] ?? '';
  });
  const base = `http://127.0.0.1:${options.port}`;
  const siteRoot = process.env.COMOPS_SITE_ROOT ?? 'target/site';
  const args = ['serve', ...(options.flags ?? ['--demo']), '--listen', `127.0.0.1:${options.port}`, '--site-root', siteRoot];
  const server: ChildProcess = spawn(bin, args, { env, stdio: 'ignore' });
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { base, tokens, stop: () => server.kill('SIGTERM') };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  server.kill('SIGTERM');
  throw new Error(`comops ${args.join(' ')} did not come up`);
}
