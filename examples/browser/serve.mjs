// A tiny static server for the page (no dependencies, no network beyond the address it listens on):
//
//   node examples/browser/serve.mjs [--port 8080] [--host 127.0.0.1]
//   → http://127.0.0.1:8080/examples/browser/
//
// It serves the repository root, as the page imports the runtime's browser build from
// ../../dist/runtime-dynamic/ and the runtime fetches its kernels from ../../wasm/, but only the files the
// page needs: examples/browser/, dist/runtime-dynamic/ and wasm/. `python3 -m http.server` from the
// repository root works as well. To reach it from a phone on your network, pass --host 0.0.0.0.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)); // ends with the separator
/** URL prefixes served (everything else is a 404). */
const ALLOWED = ['/examples/browser/', '/dist/runtime-dynamic/', '/wasm/'];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm', // compileStreaming requires this type
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** An http.Server over `root` (default: this repository), not yet listening. */
export function staticServer(root = ROOT) {
  return createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      if (path === '/' || path === '/examples/browser') return void res.writeHead(302, { location: '/examples/browser/' }).end();
      const file = normalize(join(root, path.endsWith('/') ? path + 'index.html' : path));
      // no way out of the allowed folders: they are checked on the path with any .. resolved; no dotfiles
      const served = '/' + file.slice(root.length).split(sep).join('/');
      if (!file.startsWith(root) || !ALLOWED.some((p) => served.startsWith(p)) || served.split('/').some((s) => s.startsWith('.'))) {
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
      if (!(await stat(file).catch(() => null))?.isFile()) return void res.writeHead(404, { 'content-type': 'text/plain' }).end(`${path} not found`);
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(e.message));
    }
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
  const host = option('--host', '127.0.0.1');
  const port = Number(option('--port', '8080'));
  const server = staticServer();
  server.listen(port, host, () => {
    console.log(`serving the digit demo at http://${host === '0.0.0.0' ? 'localhost' : host}:${server.address().port}/examples/browser/ (Ctrl-C stops)`);
  });
  server.on('error', (e) => {
    console.error(`error: ${e.message}${e.code === 'EADDRINUSE' ? ' (another port: --port 8081)' : ''}`);
    process.exit(1);
  });
}
