// The package as its users get it, for test/consumers.test.ts and test/matrix/: `npm pack`ed from the current
// build (with --ignore-scripts: `npm test` builds first), installed offline into a folder of apps, and served
// over HTTP as a user's host would serve it.

import { execFile, execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(__dirname, '../..');
/** The two headers of cross-origin isolation (COOP + COEP): a page gets SharedArrayBuffer, so kernel threads. */
export const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

/** The package-lock of the consumers: the tarball, and the root lock's entries for its dependencies (resolved +
 *  integrity), so `npm install --offline` needs nothing but tarballs the cache already holds. */
function consumerLock(tgz: string, name: string): object {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string>; dev?: boolean; devOptional?: boolean }> };
  const out: Record<string, object> = {};
  const add = (dep: string, from: string): void => {
    for (let at = from; ; ) {
      const key = `${at ? at + '/' : ''}node_modules/${dep}`;
      const entry = lock.packages[key];
      if (entry) {
        if (out[key]) return;
        const { dev: _dev, devOptional: _opt, ...rest } = entry;
        out[key] = rest;
        for (const d of Object.keys(entry.dependencies ?? {})) add(d, key);
        return;
      }
      if (!at) throw new Error(`packed: ${dep} (a dependency of ${from || 'simdnet'}) is not in package-lock.json`);
      const i = at.lastIndexOf('/node_modules/');
      at = i < 0 ? '' : at.slice(0, i);
    }
  };
  for (const dep of Object.keys(pkg.dependencies)) add(dep, '');
  const spec = `file:${tgz}`;
  return {
    name, lockfileVersion: 3, requires: true,
    packages: { '': { name, dependencies: { simdnet: spec } }, 'node_modules/simdnet': { version: pkg.version, resolved: spec, dependencies: pkg.dependencies }, ...out },
  };
}

export interface Installed {
  tarball: string;
  /** The files in the tarball. */
  files: { path: string; size: number }[];
  /** What `npm install` printed. */
  log: string;
}

/** Packs the package into `dir` and installs the tarball there (dir/node_modules/simdnet), offline. */
export async function packAndInstall(dir: string, name: string): Promise<Installed> {
  const out = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { filename: string; files: { path: string; size: number }[] }[];
  const tarball = join(dir, out[0].filename);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, dependencies: { simdnet: `file:${tarball}` } }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(consumerLock(tarball, name)));
  // as a user's shell would run it: not with this repository's project settings, which `npm test` exports as
  // npm_config_* (an unknown one makes npm warn)
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_onnxruntime/i.test(k)));
  const npm = await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: dir, env });
  return { tarball, files: out[0].files, log: npm.stdout + npm.stderr };
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.gz': 'application/gzip' };

/** A static server over `dir` on 127.0.0.1, cross-origin isolated (COOP + COEP) unless `isolated` is false. */
export function serveStatic(dir: string, isolated = true): Promise<Server> {
  const headers = isolated ? ISOLATION : {};
  const s = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'index.html') : path;
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => s.listen(0, '127.0.0.1', () => ok(s)));
}
